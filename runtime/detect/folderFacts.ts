import { isExcludedFolder, MANIFESTS, MANIFEST_GLOBS, VERSION_FILES } from "./folderNames";
import { globToRegExp } from "./glob";

import { parseCargoToml, type CargoFacts } from "./parse/cargoToml";
import { parseComposerJson, type ComposerFacts } from "./parse/composerJson";
import { parseGemfile, type GemfileFacts } from "./parse/gemfile";
import { parseGoMod, type GoModFacts } from "./parse/goMod";
import { parseGradleBuild, parseGradleSettings, parseVersionCatalog, type VersionCatalog } from "./parse/gradle";
import { parsePackageJson, type PackageJsonFacts } from "./parse/packageJson";
import { parsePom, type JvmCoordinate } from "./parse/pom";
import {
  normalizePythonName,
  parsePipfile,
  parsePyproject,
  parseRequirements,
  type PipfileFacts,
  type PyprojectFacts,
} from "./parse/python";
import type { Located } from "./parse/text";
import { joinPath, parentOf, selfAndAncestors } from "./repoPath";
import type { RepoTree } from "./repoTree";

/** MANIFEST_GLOBS compiled once per call that tests many paths, not once per path (nor at module level, in runtime/). */
const manifestPatterns = () => MANIFEST_GLOBS.map(globToRegExp);

/** Where a dependency was declared. */
export interface Declared {
  readonly file: string;
  readonly line: number;
}

export interface JvmDeclaration extends JvmCoordinate {
  readonly file: string;
  /** The build's module folder, relative to the app folder ("" for the build's root). */
  readonly module: string;
}

/** A version and the file that declared it. */
export interface DeclaredVersion extends Located {
  readonly file: string;
}

/** Everything the framework table can ask about one folder, gathered from the listing and the files read. */
export interface FolderFacts {
  readonly folder: string;
  readonly tree: RepoTree;
  /** Paths relative to the folder, at most two levels down, for `file` signals. */
  readonly nearFiles: readonly string[];
  readonly packageJson?: PackageJsonFacts;
  readonly npm: ReadonlyMap<string, Declared>;
  readonly jvm: readonly JvmDeclaration[];
  /** Modules of a multi-module Maven or Gradle build rooted here, relative to the folder. */
  readonly jvmModules: readonly string[];
  readonly javaVersion?: DeclaredVersion;
  readonly goMod?: GoModFacts;
  readonly goModules: ReadonlyMap<string, Declared>;
  readonly cargo?: CargoFacts;
  readonly crates: ReadonlyMap<string, Declared>;
  readonly gemfile?: GemfileFacts;
  readonly gems: ReadonlyMap<string, Declared>;
  readonly composer?: ComposerFacts;
  readonly composerPackages: ReadonlyMap<string, Declared>;
  readonly pyproject?: PyprojectFacts;
  readonly pipfile?: PipfileFacts;
  readonly pypi: ReadonlyMap<string, Declared>;
  /** Text of a file in this folder (relative path), if it was read. */
  read(relative: string): string | undefined;
  /** Text of any repository path that was read (a workspace root's package.json, say). */
  readPath(path: string): string | undefined;
  /** The nearest file of that name in this folder or above it, if read: a version file, a lockfile's folder. */
  nearest(name: string): { path: string; text: string } | undefined;
}

const JAVA_BUILDS = ["pom.xml", "build.gradle", "build.gradle.kts"];
const GRADLE_FILES = ["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"];

/** How deep below a build's root its modules (Maven, Gradle) or workspace members (Cargo) are looked for. */
const MODULE_DEPTH = 2;

/**
 * The paths detection reads to know a folder: its manifests, version files here and above, the package.json files
 * above (a workspace root's `packageManager`), and the build files of modules below a Maven, Gradle or Cargo root.
 * Decided from the listing alone, so every folder's files can be fetched in one batch.
 */
export function filesToRead(tree: RepoTree, folder: string): string[] {
  const wanted = new Set<string>();
  const names = tree.filesIn(folder);
  const add = (path: string) => {
    if (tree.hasFile(path)) wanted.add(path);
  };
  for (const name of MANIFESTS) add(joinPath(folder, name));
  const manifests = manifestPatterns();
  for (const relative of tree.filesUnder(folder, 1)) {
    if (manifests.some((pattern) => pattern.test(relative))) add(joinPath(folder, relative));
  }
  for (const above of selfAndAncestors(folder)) {
    for (const name of VERSION_FILES) add(joinPath(above, name));
    add(joinPath(above, "package.json"));
  }
  const moduleBuilds = [
    ...(names.some((name) => JAVA_BUILDS.includes(name) || GRADLE_FILES.includes(name)) ? JAVA_BUILDS : []),
    ...(names.includes("Cargo.toml") ? ["Cargo.toml"] : []),
  ];
  if (moduleBuilds.length > 0) {
    for (const relative of tree.filesUnder(folder, MODULE_DEPTH)) {
      const module = parentOf(relative);
      if (
        module !== "" &&
        moduleBuilds.some((name) => relative.endsWith(name) && relative === joinPath(module, name))
      ) {
        if (!isExcludedFolder(module, { allowExamples: false })) add(joinPath(folder, relative));
      }
    }
  }
  return [...wanted].sort();
}

export function collectFolderFacts(tree: RepoTree, folder: string, contents: ReadonlyMap<string, string>): FolderFacts {
  const read = (relative: string) => contents.get(joinPath(folder, relative));
  const path = (relative: string) => joinPath(folder, relative);
  const nearFiles = tree.filesUnder(folder, 2);

  const packageJsonText = read("package.json");
  const packageJson = packageJsonText === undefined ? undefined : parsePackageJson(packageJsonText);
  const npm = new Map<string, Declared>();
  for (const [name, line] of packageJson?.dependencies ?? []) npm.set(name, { file: path("package.json"), line });

  const java = collectJvm(tree, folder, contents);

  const goModText = read("go.mod");
  const goMod = goModText === undefined ? undefined : parseGoMod(goModText);
  const goModules = declared(goMod?.requires, path("go.mod"));

  const cargoText = read("Cargo.toml");
  const cargo = cargoText === undefined ? undefined : parseCargoToml(cargoText);
  const crates = declared(cargo?.crates, path("Cargo.toml"));
  // A Cargo workspace's members declare the crates its binaries use.
  if (cargo !== undefined) {
    for (const relative of nearFiles.filter((p) => p.endsWith("/Cargo.toml"))) {
      const text = read(relative);
      if (text === undefined) continue;
      for (const [name, line] of parseCargoToml(text).crates)
        if (!crates.has(name)) crates.set(name, { file: path(relative), line });
    }
  }

  const gemfileText = read("Gemfile");
  const gemfile = gemfileText === undefined ? undefined : parseGemfile(gemfileText);
  const gems = declared(gemfile?.gems, path("Gemfile"));

  const composerText = read("composer.json");
  const composer = composerText === undefined ? undefined : parseComposerJson(composerText);
  const composerPackages = declared(composer?.packages, path("composer.json"));

  const pypi = new Map<string, Declared>();
  const addPython = (found: ReadonlyMap<string, number> | undefined, file: string) => {
    for (const [name, line] of found ?? []) if (!pypi.has(name)) pypi.set(normalizePythonName(name), { file, line });
  };
  const manifests = manifestPatterns();
  for (const relative of nearFiles.filter((p) => manifests.some((pattern) => pattern.test(p)))) {
    const text = read(relative);
    if (text !== undefined) addPython(parseRequirements(text), path(relative));
  }
  const pyprojectText = read("pyproject.toml");
  const pyproject = pyprojectText === undefined ? undefined : parsePyproject(pyprojectText);
  addPython(pyproject?.dependencies, path("pyproject.toml"));
  const pipfileText = read("Pipfile");
  const pipfile = pipfileText === undefined ? undefined : parsePipfile(pipfileText);
  addPython(pipfile?.dependencies, path("Pipfile"));

  const facts: { -readonly [K in keyof FolderFacts]: FolderFacts[K] } = {
    folder,
    tree,
    nearFiles,
    npm,
    jvm: java.declarations,
    jvmModules: java.modules,
    goModules,
    crates,
    gems,
    composerPackages,
    pypi,
    read,
    readPath: (at) => contents.get(at),
    nearest: (name) => {
      for (const above of selfAndAncestors(folder)) {
        const at = joinPath(above, name);
        const text = contents.get(at);
        if (text !== undefined) return { path: at, text };
      }
      return undefined;
    },
  };
  if (packageJson) facts.packageJson = packageJson;
  if (java.javaVersion) facts.javaVersion = java.javaVersion;
  if (goMod) facts.goMod = goMod;
  if (cargo) facts.cargo = cargo;
  if (gemfile) facts.gemfile = gemfile;
  if (composer) facts.composer = composer;
  if (pyproject) facts.pyproject = pyproject;
  if (pipfile) facts.pipfile = pipfile;
  return facts;
}

function declared(found: ReadonlyMap<string, number> | undefined, file: string): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const [name, line] of found ?? []) out.set(name, { file, line });
  return out;
}

/**
 * The coordinates of a Maven or Gradle build rooted at `folder`, modules included: Maven modules are the ones the
 * poms list (recursively); Gradle modules are the ones settings.gradle includes, or every nested build file when no
 * settings file says (a build without settings is still a build someone may deploy from its root).
 */
function collectJvm(
  tree: RepoTree,
  folder: string,
  contents: ReadonlyMap<string, string>,
): { declarations: JvmDeclaration[]; modules: string[]; javaVersion?: DeclaredVersion } {
  const declarations: JvmDeclaration[] = [];
  const modules: string[] = [];
  let javaVersion: DeclaredVersion | undefined;
  const path = (relative: string) => joinPath(folder, relative);
  const keepVersion = (version: Located | undefined, file: string) => {
    if (version !== undefined && javaVersion === undefined) javaVersion = { ...version, file };
  };

  const pomQueue = [""];
  const seenPoms = new Set<string>();
  while (pomQueue.length > 0) {
    const module = pomQueue.shift() ?? "";
    const file = path(joinPath(module, "pom.xml"));
    const text = contents.get(file);
    if (text === undefined || seenPoms.has(file)) continue;
    seenPoms.add(file);
    if (module !== "") modules.push(module);
    const pom = parsePom(text);
    for (const coordinate of pom.coordinates) declarations.push({ ...coordinate, file, module });
    keepVersion(pom.javaVersion, file);
    for (const child of pom.modules) pomQueue.push(normalizeModule(joinPath(module, child)));
  }

  const catalogText = contents.get(path("gradle/libs.versions.toml"));
  const catalog: VersionCatalog | undefined = catalogText === undefined ? undefined : parseVersionCatalog(catalogText);
  const settingsFile = ["settings.gradle.kts", "settings.gradle"].map(path).find((file) => contents.has(file));
  const included = settingsFile === undefined ? [] : parseGradleSettings(contents.get(settingsFile) ?? "");
  const hasGradle = GRADLE_FILES.some((name) => tree.hasFile(path(name)));
  if (hasGradle) {
    const nested = tree
      .filesUnder(folder, MODULE_DEPTH)
      .filter((relative) => /(^|\/)build\.gradle(\.kts)?$/.test(relative) && relative.includes("/"))
      .map(parentOf);
    const gradleModules = ["", ...(included.length > 0 ? included.filter((m) => nested.includes(m)) : nested)];
    for (const module of [...new Set(gradleModules)]) {
      for (const name of ["build.gradle.kts", "build.gradle"]) {
        const file = path(joinPath(module, name));
        const text = contents.get(file);
        if (text === undefined) continue;
        if (module !== "" && !modules.includes(module)) modules.push(module);
        const build = parseGradleBuild(text, catalog);
        for (const coordinate of build.coordinates) declarations.push({ ...coordinate, file, module });
        keepVersion(build.javaVersion, file);
      }
    }
  }
  const result: { declarations: JvmDeclaration[]; modules: string[]; javaVersion?: DeclaredVersion } = {
    declarations,
    modules: modules.sort(),
  };
  if (javaVersion !== undefined) result.javaVersion = javaVersion;
  return result;
}

function normalizeModule(module: string): string {
  const parts: string[] = [];
  for (const part of module.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

/** Whether a path relative to the folder exists, for rules that look at files they do not read. */
export function hasNearFile(facts: FolderFacts, relative: string): boolean {
  return facts.tree.hasFile(joinPath(facts.folder, relative));
}
