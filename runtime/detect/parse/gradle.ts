import type { JvmCoordinate } from "./pom";
import { readTomlEntries, inlineTableString, tomlString } from "./toml";
import { blankComments, lineAt, quotedStrings, type Located } from "./text";

export interface GradleBuildFacts {
  /** Plugin ids (group only) and artifact coordinates, with version-catalog aliases resolved when a catalog is given. */
  readonly coordinates: readonly JvmCoordinate[];
  readonly javaVersion?: Located;
}

/** `gradle/libs.versions.toml`: accessor (dots, lower case) → plugin id or "group:artifact". */
export interface VersionCatalog {
  readonly plugins: ReadonlyMap<string, string>;
  readonly libraries: ReadonlyMap<string, string>;
}

const GRADLE_COMMENTS = { line: ["//"], block: [["/*", "*/"]] as [string, string][], quotes: "\"'" };

/** How a build declares its Java release, most telling first; the first group is the version. */
const JAVA_VERSION_PATTERNS: readonly RegExp[] = [
  /JavaLanguageVersion\.of\(\s*"?(\d+)"?\s*\)/,
  /jvmToolchain\(\s*(\d+)\s*\)/,
  /JavaVersion\.VERSION_(\d+(?:_\d+)?)/,
  /(?:source|target)Compatibility\s*=\s*['"]?(\d+(?:\.\d+)?)/,
  /JvmTarget\.JVM_(\d+)/,
];

/** Gradle's accessor form of a catalog key: `spring-boot`, `spring_boot` and `springBoot` differ, `.`/`-`/`_` don't. */
export function catalogAccessor(key: string): string {
  return key.replace(/[-_]/g, ".").toLowerCase();
}

/**
 * Reads a `build.gradle` or `build.gradle.kts` by pattern: plugin ids (`id "x"`, `id("x")`, `kotlin("jvm")`,
 * `apply plugin: 'x'`, `alias(libs.plugins.x)`) and every quoted "group:artifact[:version]" or
 * `group: 'g', name: 'a'` pair. Groovy and Kotlin DSLs both fit these shapes.
 */
export function parseGradleBuild(text: string, catalog?: VersionCatalog): GradleBuildFacts {
  const code = blankComments(text, GRADLE_COMMENTS);
  const coordinates: JvmCoordinate[] = [];
  const add = (group: string, index: number, artifact?: string) =>
    coordinates.push(
      artifact === undefined ? { group, line: lineAt(text, index) } : { group, artifact, line: lineAt(text, index) },
    );

  for (const m of code.matchAll(/\bid\s*\(?\s*["']([\w.-]+)["']/g)) add(m[1] ?? "", m.index ?? 0);
  for (const m of code.matchAll(/\bkotlin\s*\(\s*["']([\w.-]+)["']\s*\)/g))
    add(`org.jetbrains.kotlin.${m[1]}`, m.index ?? 0);
  for (const m of code.matchAll(/\bapply\s*\(?\s*plugin\s*[:=]\s*["']([\w.-]+)["']/g)) add(m[1] ?? "", m.index ?? 0);
  for (const m of code.matchAll(/["']([\w.-]+):([\w.-]+)(?::[^"'\s]*)?["']/g)) add(m[1] ?? "", m.index ?? 0, m[2]);
  for (const m of code.matchAll(/group\s*[:=]\s*["']([\w.-]+)["']\s*,\s*name\s*[:=]\s*["']([\w.-]+)["']/g)) {
    add(m[1] ?? "", m.index ?? 0, m[2]);
  }
  if (catalog !== undefined) {
    for (const m of code.matchAll(/\blibs\.plugins\.([\w.]+)/g)) {
      const id = catalog.plugins.get(catalogAccessor(m[1] ?? ""));
      if (id !== undefined) add(id, m.index ?? 0);
    }
    for (const m of code.matchAll(/\blibs\.(?!plugins\.|versions\.|bundles\.)([\w.]+)/g)) {
      const module = catalog.libraries.get(catalogAccessor(m[1] ?? ""));
      const [group, artifact] = (module ?? "").split(":");
      if (group && artifact) add(group, m.index ?? 0, artifact);
    }
  }
  const facts: { coordinates: JvmCoordinate[]; javaVersion?: Located } = { coordinates };
  for (const pattern of JAVA_VERSION_PATTERNS) {
    const match = pattern.exec(code);
    if (match?.[1] !== undefined) {
      facts.javaVersion = {
        value: match[1].replace(/^1_(\d)$/, "1.$1").replace(/_/g, "."),
        line: lineAt(text, match.index),
      };
      break;
    }
  }
  return facts;
}

/** Folders of the projects `settings.gradle(.kts)` includes: `include ':app', ':libs:core'` → ["app", "libs/core"]. */
export function parseGradleSettings(text: string): string[] {
  const code = blankComments(text, GRADLE_COMMENTS);
  const folders: string[] = [];
  for (const m of code.matchAll(/\binclude\b\s*\(?([^\n]*)/g)) {
    for (const project of quotedStrings(m[1] ?? "")) {
      const folder = project.replace(/^:/, "").replace(/:/g, "/");
      if (folder !== "") folders.push(folder);
    }
  }
  return folders;
}

export function parseVersionCatalog(text: string): VersionCatalog {
  const plugins = new Map<string, string>();
  const libraries = new Map<string, string>();
  for (const entry of readTomlEntries(text)) {
    const [section, key] = entry.path;
    if (key === undefined || entry.path.length !== 2) continue;
    if (section === "plugins") {
      const id = tomlString(entry.value)?.split(":")[0] ?? inlineTableString(entry.value, "id");
      if (id) plugins.set(catalogAccessor(key), id);
    } else if (section === "libraries") {
      const plain = tomlString(entry.value);
      const module =
        plain !== undefined
          ? plain.split(":").slice(0, 2).join(":")
          : (inlineTableString(entry.value, "module") ??
            [inlineTableString(entry.value, "group"), inlineTableString(entry.value, "name")].join(":"));
      if (/^[^:]+:[^:]+$/.test(module)) libraries.set(catalogAccessor(key), module);
    }
  }
  return { plugins, libraries };
}
