import { blankComments, lineAt, type Located } from "./text";

/** A Maven/Gradle artifact or plugin the build declares. Plugin ids have no artifact. */
export interface JvmCoordinate {
  readonly group: string;
  readonly artifact?: string;
  readonly line: number;
}

export interface PomFacts {
  /** Parent, dependencies, plugins and extensions, wherever declared (dependencyManagement and profiles too). */
  readonly coordinates: readonly JvmCoordinate[];
  /** `<module>` entries: folders relative to this pom. */
  readonly modules: readonly string[];
  readonly javaVersion?: Located;
}

/** Properties that carry the Java release, most telling first. */
const JAVA_VERSION_TAGS = [
  "java.version",
  "maven.compiler.release",
  "maven.compiler.source",
  "maven.compiler.target",
  "release",
];

/** Regex over the XML, not a parser: a pom that is not well-formed still tells which artifacts it names. */
export function parsePom(text: string): PomFacts {
  const xml = blankComments(text, { block: [["<!--", "-->"]], quotes: "" });
  const tag = (block: string, name: string) =>
    new RegExp(`<${name.replace(/\./g, "\\.")}>\\s*([^<]*?)\\s*</${name.replace(/\./g, "\\.")}>`).exec(block)?.[1];
  const coordinates: JvmCoordinate[] = [];
  for (const match of xml.matchAll(/<(parent|dependency|plugin|extension)>([\s\S]*?)<\/\1>/g)) {
    const body = match[2] ?? "";
    // Nested blocks (a plugin's own <dependencies>) are matched on their own; only this block's first ids count.
    const own = body.split(/<(?:dependencies|exclusions|configuration|executions)>/)[0] ?? body;
    const artifact = tag(own, "artifactId");
    if (artifact === undefined) continue;
    const group = tag(own, "groupId") ?? (match[1] === "plugin" ? "org.apache.maven.plugins" : "");
    coordinates.push({ group, artifact, line: lineAt(text, match.index ?? 0) });
  }
  const modules = [...xml.matchAll(/<module>\s*([^<]+?)\s*<\/module>/g)].map((m) => (m[1] ?? "").replace(/\/+$/, ""));
  const facts: { coordinates: JvmCoordinate[]; modules: string[]; javaVersion?: Located } = { coordinates, modules };
  for (const name of JAVA_VERSION_TAGS) {
    const match = new RegExp(`<${name.replace(/\./g, "\\.")}>\\s*([0-9][0-9.]*)\\s*<`).exec(xml);
    if (match?.[1] !== undefined) {
      facts.javaVersion = { value: match[1], line: lineAt(text, match.index) };
      break;
    }
  }
  return facts;
}
