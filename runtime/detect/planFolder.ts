import type { FolderAnalysis } from "./analyzeFolder";
import type { PlanCandidate } from "./detectionError";
import {
  dockerfileVersion,
  ECOSYSTEMS,
  NODE_ENTRY_FILES,
  NODE_MANAGERS,
  PYTHON_COMMANDS,
  PYTHON_ENTRY_FILES,
  PYTHON_MANAGERS,
  REQUIREMENTS_PREFERENCE,
  VERSION_KEYS,
  VERSION_SOURCES,
  type NodeManager,
  type PythonManager,
} from "./ecosystems";
import { evidence, type Evidence } from "./evidence";
import { hasNearFile, type FolderFacts } from "./folderFacts";
import { NODE_LOCKFILES } from "./folderNames";
import type { CommandTemplate, FrameworkDefinition } from "./frameworks";
import { findSignal } from "./matchFrameworks";
import { parseCargoToml } from "./parse/cargoToml";
import { parsePackageJson } from "./parse/packageJson";
import { parseProcfile } from "./parse/procfile";
import { baseName, joinPath, parentOf, selfAndAncestors } from "./repoPath";
import type { DeclaredVersions, DeploymentPlan, Language } from "./planTypes";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Vars = Readonly<Record<string, string | undefined>>;

/**
 * The plan for deploying `analysis`'s folder: builder, toolchain, declared versions and the commands the builder
 * runs, each decision with its evidence. The folder is the plan's `rootDirectory`.
 */
export function planFolder(analysis: FolderAnalysis): DeploymentPlan {
  const { facts } = analysis;
  const definition = analysis.winner?.definition;
  const found: Evidence[] = [...(analysis.winner?.evidence ?? []), ...analysis.reasons];
  const plan: Mutable<DeploymentPlan> = {
    framework: analysis.framework,
    builder: "docker",
    rootDirectory: facts.folder,
    language: "unknown",
    evidence: found,
  };
  const versions: DeclaredVersions = {};
  const keepVersion = (key: keyof DeclaredVersions) => {
    for (const source of VERSION_SOURCES[key]) {
      const version = source(facts);
      if (version !== undefined) {
        versions[key] = version.value;
        found.push(evidence(version.file, `declares ${key} ${version.value}`, version.line));
        return;
      }
    }
  };

  if (definition !== undefined) {
    const toolchain = TOOLCHAINS[definition.ecosystem](facts, definition, analysis);
    plan.language = toolchain.language;
    if (toolchain.packageManager) plan.packageManager = toolchain.packageManager;
    if (toolchain.buildTool) plan.buildTool = toolchain.buildTool;
    if (toolchain.installCommand) plan.installCommand = toolchain.installCommand;
    const builder = ECOSYSTEMS[definition.ecosystem].builder;
    plan.builder = builder === "by-build-tool" ? (toolchain.buildTool === "maven" ? "maven" : "gradle") : builder;
    found.push(...toolchain.evidence);

    const tool = toolchain.buildTool;
    const pick = (templates: readonly CommandTemplate[] | undefined) =>
      firstCommand(templates, facts, toolchain.vars, tool);
    const defaults = ECOSYSTEMS[definition.ecosystem];
    const pkg = facts.packageJson;
    let build: string | undefined;
    let start: string | undefined;
    if (definition.ecosystem === "node" && pkg !== undefined) {
      build = pkg.scripts["build"] !== undefined ? `${toolchain.vars["run"]} build` : pick(definition.build);
      // A static build's "start" script is a dev server (react-scripts start, ng serve): never what production runs.
      const serves = definition.output === undefined && pkg.scripts["start"] !== undefined;
      start = serves ? `${toolchain.vars["run"]} start` : pick(definition.start);
    } else {
      build = pick(definition.build ?? defaults.build);
      start = pick(definition.start ?? defaults.start);
    }
    if (analysis.frontendTooling && pkg?.scripts["build"] !== undefined) {
      const node = nodeToolchain(facts);
      build = [build, `${node.installCommand} && ${node.vars["run"]} build`].filter(Boolean).join(" && ");
      found.push(
        evidence(
          joinPath(facts.folder, "package.json"),
          `front-end assets are built with ${node.packageManager ?? "npm"}`,
        ),
      );
      keepVersion("node");
    }
    // A Procfile's web process is what the repository's authors run in production (Heroku's convention, which
    // Railpack and Nixpacks honour too): it beats any default.
    const procfile = facts.read("Procfile");
    const web = procfile === undefined ? undefined : parseProcfile(procfile).get("web");
    if (web !== undefined) {
      start = web.command;
      found.push(evidence(joinPath(facts.folder, "Procfile"), "the Procfile's web process starts the app", web.line));
    }
    if (build) plan.buildCommand = build;
    if (start) plan.startCommand = start;
    if (definition.output !== undefined && start === undefined) plan.outputDirectory = definition.output;

    const versionKey = VERSION_KEYS[definition.ecosystem];
    if (versionKey !== undefined) {
      keepVersion(versionKey);
      if (versions[versionKey] === undefined && analysis.tier === "docker") {
        const line = analysis.winner?.evidence[0]?.line;
        const fromImage = line === undefined ? undefined : dockerfileVersion(facts, line);
        if (fromImage !== undefined) versions[versionKey] = fromImage.value;
      }
    }
  }

  if (analysis.dockerfile !== undefined) {
    // The repository's own Dockerfile is the build: Slipway's toolchain commands would not be what runs.
    plan.builder = "docker";
    plan.buildCommand = `docker build -f ${baseName(analysis.dockerfile)} .`;
    delete plan.startCommand;
    delete plan.installCommand;
    delete plan.outputDirectory;
    found.push(evidence(analysis.dockerfile, "the app's folder has a Dockerfile: the app is built with it"));
  }
  if (Object.keys(versions).length > 0) plan.version = versions;
  const candidates: PlanCandidate[] = analysis.alternatives.map((m) => ({
    rootDirectory: facts.folder,
    framework: m.definition.id,
  }));
  if (candidates.length > 0) plan.candidates = candidates;
  return plan;
}

function fill(template: string, vars: Vars): string | undefined {
  let complete = true;
  const command = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) complete = false;
    return value ?? "";
  });
  return complete ? command : undefined;
}

function firstCommand(
  templates: readonly CommandTemplate[] | undefined,
  facts: FolderFacts,
  vars: Vars,
  tool: string | undefined,
): string | undefined {
  for (const template of templates ?? []) {
    if (template.tool !== undefined && template.tool !== tool) continue;
    if (template.when !== undefined && findSignal(template.when, facts) === undefined) continue;
    const command = fill(template.run, vars);
    if (command !== undefined) return command;
  }
  return undefined;
}

/** How a stack builds in this folder: its tools, the values command placeholders take, and why. */
interface Toolchain {
  readonly language: Language;
  readonly packageManager?: string;
  readonly buildTool?: string;
  readonly installCommand?: string;
  readonly vars: Vars;
  readonly evidence: readonly Evidence[];
}

const firstPresent = (facts: FolderFacts, candidates: readonly string[]) =>
  candidates.find((relative) => hasNearFile(facts, relative));

const TOOLCHAINS: Readonly<
  Record<
    FrameworkDefinition["ecosystem"],
    (facts: FolderFacts, definition: FrameworkDefinition, analysis: FolderAnalysis) => Toolchain
  >
> = {
  node: (facts) => nodeToolchain(facts),
  java: javaToolchain,
  python: pythonToolchain,
  go: (facts) => {
    const mainPackage = goMainPackage(facts);
    return {
      language: "go",
      buildTool: "go",
      installCommand: "go mod download",
      vars: { pkg: mainPackage },
      evidence: [],
    };
  },
  rust: (facts, definition) => ({
    language: "rust",
    buildTool: "cargo",
    vars: { bin: rustBinary(facts, definition) },
    evidence: [],
  }),
  ruby: (facts) => ({
    language: "ruby",
    packageManager: "bundler",
    ...(hasNearFile(facts, "Gemfile") ? { installCommand: "bundle install" } : {}),
    vars: { main: firstPresent(facts, ["app.rb", "main.rb", "server.rb", "application.rb"]) },
    evidence: [],
  }),
  php: (facts) => ({
    language: "php",
    ...(hasNearFile(facts, "composer.json")
      ? { packageManager: "composer", installCommand: "composer install --no-dev --optimize-autoloader" }
      : {}),
    vars: { docroot: hasNearFile(facts, "public/index.php") ? "public" : "." },
    evidence: [],
  }),
  static: () => ({ language: "html", vars: {}, evidence: [] }),
};

/**
 * Node's package manager: Corepack's `packageManager` field (this package.json or a workspace root's) wins, then
 * the nearest lockfile (a workspace member has none of its own), then npm.
 */
function nodeToolchain(facts: FolderFacts): Toolchain & { readonly vars: { run: string; x: string } } {
  const found: Evidence[] = [];
  let manager: NodeManager | undefined;
  let lockFolder: string | undefined;
  let modernYarn = false;
  for (const folder of selfAndAncestors(facts.folder)) {
    const file = joinPath(folder, "package.json");
    const text = folder === facts.folder ? undefined : facts.readPath(file);
    const declared = (
      folder === facts.folder ? facts.packageJson : text === undefined ? undefined : parsePackageJson(text)
    )?.packageManager;
    const name = declared === undefined ? undefined : /^(npm|pnpm|yarn|bun)@/.exec(declared.value)?.[1];
    if (declared !== undefined && name !== undefined) {
      manager = name as NodeManager;
      modernYarn = /^yarn@(?:[2-9]|\d\d)/.test(declared.value);
      found.push(evidence(file, `packageManager is ${declared.value.split("+")[0]}`, declared.line));
      break;
    }
  }
  for (const folder of selfAndAncestors(facts.folder)) {
    const lock = NODE_LOCKFILES.find(([name]) => facts.tree.hasFile(joinPath(folder, name)));
    if (lock === undefined) continue;
    lockFolder = folder;
    if (manager === undefined) {
      manager = lock[1];
      found.push(evidence(joinPath(folder, lock[0]), `lockfile of ${lock[1]}`));
    }
    modernYarn ||= facts.tree.hasFile(joinPath(folder, ".yarnrc.yml"));
    break;
  }
  const chosen = manager ?? "npm";
  const commands = NODE_MANAGERS[chosen];
  const locked =
    lockFolder !== undefined &&
    NODE_LOCKFILES.some(([name, owner]) => owner === chosen && facts.tree.hasFile(joinPath(lockFolder ?? "", name)));
  // Yarn 2+ replaced --frozen-lockfile with --immutable.
  const installCommand = !locked
    ? commands.install
    : chosen === "yarn" && modernYarn
      ? "yarn install --immutable"
      : commands.lockedInstall;
  const pkg = facts.packageJson;
  const typescript = facts.npm.has("typescript") || facts.nearFiles.includes("tsconfig.json");
  const main = pkg?.main?.replace(/^\.\//, "");
  const entry =
    main !== undefined && (hasNearFile(facts, main) || pkg?.scripts["build"] !== undefined)
      ? main
      : firstPresent(facts, NODE_ENTRY_FILES);
  return {
    language: typescript ? "typescript" : "javascript",
    packageManager: chosen,
    installCommand,
    vars: { run: commands.run, x: commands.exec, entry },
    evidence: found,
  };
}

function javaToolchain(facts: FolderFacts, definition: FrameworkDefinition): Toolchain {
  const maven = hasNearFile(facts, "pom.xml");
  const buildTool = maven ? "maven" : "gradle";
  const found = [
    evidence(
      joinPath(
        facts.folder,
        maven
          ? "pom.xml"
          : (["build.gradle.kts", "build.gradle", "settings.gradle.kts", "settings.gradle"].find((f) =>
              hasNearFile(facts, f),
            ) ?? "build.gradle"),
      ),
      maven ? "pom.xml: built with Maven" : "Gradle build files and no pom.xml: built with Gradle",
    ),
  ];
  if (facts.jvmModules.length > 0) {
    found.push(
      evidence(
        joinPath(facts.folder, maven ? "pom.xml" : "settings.gradle"),
        `multi-module build (${facts.jvmModules.join(", ")}): deployed from its root`,
      ),
    );
  }
  const kotlin =
    facts.jvm.some((c) => c.group.startsWith("org.jetbrains.kotlin")) ||
    facts.tree.paths.some((p) => p.startsWith(joinPath(facts.folder, "src/main/kotlin/")));
  const module = appModule(facts, definition);
  return {
    language: kotlin ? "kotlin" : "java",
    buildTool,
    vars: {
      mvn: hasNearFile(facts, "mvnw") ? "./mvnw" : "mvn",
      gradle: hasNearFile(facts, "gradlew") ? "./gradlew" : "gradle",
      moduleDir: module === "" ? "" : `${module}/`,
    },
    evidence: found,
  };
}

/**
 * The module of a multi-module build that produces the app: the one applying the framework's plugin (the plugin
 * makes the runnable jar), else the one declaring the framework at all, else the build's root.
 */
function appModule(facts: FolderFacts, definition: FrameworkDefinition): string {
  const groups = definition.detect.some.flatMap((signal) => ("jvm" in signal ? [signal.jvm] : []));
  const declaring = facts.jvm.filter((c) => groups.some((g) => c.group === g || c.group.startsWith(g + ".")));
  const isPlugin = (c: (typeof declaring)[number]) => c.artifact === undefined || c.artifact.endsWith("-maven-plugin");
  const ranked = [...declaring].sort(
    (a, b) =>
      Number(isPlugin(b)) - Number(isPlugin(a)) ||
      Number(b.module !== "") - Number(a.module !== "") ||
      a.module.localeCompare(b.module),
  );
  return ranked[0]?.module ?? "";
}

function pythonToolchain(facts: FolderFacts): Toolchain {
  const chosen = PYTHON_MANAGERS.find((m) => findSignal(m.when, facts) !== undefined);
  const manager: PythonManager = chosen?.manager ?? "pip";
  const commands = PYTHON_COMMANDS[manager];
  const found: Evidence[] = [];
  const why = chosen === undefined ? undefined : findSignal(chosen.when, facts);
  if (why !== undefined)
    found.push(evidence(why.file, `${why.reason}: dependencies installed with ${manager}`, why.line));
  const locked = commands.lockfile !== undefined && hasNearFile(facts, commands.lockfile);
  const requirements =
    firstPresent(facts, REQUIREMENTS_PREFERENCE) ??
    facts.nearFiles.find((p) => /^requirements[^/]*\.txt$/.test(p) || /^requirements\/[^/]+\.txt$/.test(p));
  const installCommand =
    manager === "pip" && requirements === undefined
      ? hasNearFile(facts, "pyproject.toml") || hasNearFile(facts, "setup.py")
        ? "pip install ."
        : undefined
      : ((locked ? commands.lockedInstall : undefined) ??
        commands.install.replace("{requirements}", requirements ?? "requirements.txt"));
  const main = firstPresent(facts, PYTHON_ENTRY_FILES);
  return {
    language: "python",
    packageManager: manager,
    ...(installCommand ? { installCommand } : {}),
    vars: {
      run: commands.run,
      main,
      module: main?.replace(/\.py$/, "").replace(/\//g, "."),
      wsgi: djangoWsgiModule(facts),
    },
    evidence: found,
  };
}

/** `mysite/wsgi.py` beside `mysite/settings.py` (or a settings package) → "mysite.wsgi". */
function djangoWsgiModule(facts: FolderFacts): string | undefined {
  const project = facts.nearFiles
    .filter((p) => /^[^/]+\/wsgi\.py$/.test(p))
    .map(parentOf)
    .find((folder) =>
      facts.nearFiles.some((p) => p === `${folder}/settings.py` || p.startsWith(`${folder}/settings/`)),
    );
  return project === undefined ? undefined : `${project}.wsgi`;
}

/** The package `go build` should build: the folder itself, or `cmd/<name>` (the one named like the module first). */
function goMainPackage(facts: FolderFacts): string {
  if (hasNearFile(facts, "main.go")) return ".";
  const commands = facts.nearFiles.filter((p) => /^cmd\/[^/]+\/main\.go$/.test(p)).map(parentOf);
  const moduleName = facts.goMod?.module?.split("/").pop();
  const command = commands.find((c) => baseName(c) === moduleName) ?? commands[0];
  if (command !== undefined) return `./${command}`;
  const other = facts.nearFiles.find((p) => /^[^/]+\/main\.go$/.test(p));
  return other === undefined ? "." : `./${parentOf(other)}`;
}

/**
 * The binary `cargo build --release` leaves in target/release: among several [[bin]] targets the one named after
 * the package, else a server; else the package itself; else, in a workspace, the member using the framework.
 */
function rustBinary(facts: FolderFacts, definition: FrameworkDefinition): string | undefined {
  const bins = facts.cargo?.bins ?? [];
  const own =
    bins.find((bin) => bin === facts.cargo?.packageName) ??
    bins.find((bin) => /server/.test(bin)) ??
    bins[0] ??
    facts.cargo?.packageName;
  if (own !== undefined) return own;
  const crate = definition.detect.some.flatMap((signal) => ("crate" in signal ? [signal.crate] : []))[0];
  const members = facts.nearFiles
    .filter((p) => p.endsWith("/Cargo.toml"))
    .map((p) => facts.read(p))
    .filter((text): text is string => text !== undefined)
    .map(parseCargoToml);
  const member =
    members.find((m) => crate !== undefined && m.crates.has(crate)) ?? members.find((m) => m.packageName !== undefined);
  return member?.bins[0] ?? member?.packageName;
}
