import { isRecord, parseJsonLoose, stringArray, stringRecord } from "./json";
import { findLine, type Located } from "./text";

/** What detection needs from a package.json. */
export interface PackageJsonFacts {
  /** `dependencies` and `devDependencies` (not peers: a library's peer is its user's framework), name → line. */
  readonly dependencies: ReadonlyMap<string, number>;
  readonly scripts: Readonly<Record<string, string>>;
  readonly main?: string;
  /** Fields a package published for others has (`exports`, `module`, `types`, `files`, `bin`, `publishConfig`). */
  readonly libraryFields: readonly string[];
  /** A script that publishes the package to a registry (`npm publish`, `changeset publish`, …), by name. */
  readonly publishScript?: string;
  /** The declared workspace globs; undefined when the field is absent (an empty list stays empty). */
  readonly workspaces?: readonly string[];
  readonly workspacesLine?: number;
  readonly engineNode?: Located;
  readonly voltaNode?: Located;
  /** Corepack's `packageManager`, e.g. "pnpm@9.1.0". */
  readonly packageManager?: Located;
}

// Not "main": `npm init` writes it into every package.json, apps included.
const LIBRARY_FIELDS = ["exports", "module", "types", "typings", "files", "bin", "publishConfig"] as const;
const PUBLISHES = /(?:^|[\s;&|(])(?:npm|pnpm|yarn|bun|changeset|lerna)\s+publish\b|(?:^|[\s;&|(])np(?:\s|$)/;

/** Undefined when the text is not JSON at all (an unreadable manifest gives no signal rather than a wrong one). */
export function parsePackageJson(text: string): PackageJsonFacts | undefined {
  const json = parseJsonLoose(text);
  if (!isRecord(json)) return undefined;
  const dependencies = new Map<string, number>();
  for (const section of ["dependencies", "devDependencies"] as const) {
    const sectionLine = findLine(text, `"${section}"`);
    for (const name of Object.keys(stringRecord(json[section]))) {
      if (!dependencies.has(name)) dependencies.set(name, findLine(text, `"${name}"`, sectionLine));
    }
  }
  const located = (value: unknown, key: string): Located | undefined =>
    typeof value === "string" && value.trim() !== ""
      ? { value: value.trim(), line: findLine(text, `"${key}"`) }
      : undefined;
  const rawWorkspaces = json["workspaces"];
  // npm/yarn: an array; yarn classic also accepts { packages: [...] }.
  const workspaces =
    stringArray(rawWorkspaces) ?? (isRecord(rawWorkspaces) ? stringArray(rawWorkspaces["packages"]) : undefined);
  const engines = isRecord(json["engines"]) ? json["engines"] : {};
  const volta = isRecord(json["volta"]) ? json["volta"] : {};
  const facts: {
    -readonly [K in keyof PackageJsonFacts]: PackageJsonFacts[K];
  } = {
    dependencies,
    scripts: stringRecord(json["scripts"]),
    libraryFields: LIBRARY_FIELDS.filter((field) => json[field] !== undefined),
  };
  if (typeof json["main"] === "string") facts.main = json["main"];
  const publishScript = Object.entries(facts.scripts).find(([, command]) => PUBLISHES.test(command))?.[0];
  if (publishScript !== undefined) facts.publishScript = publishScript;
  if (workspaces !== undefined) {
    facts.workspaces = workspaces;
    facts.workspacesLine = findLine(text, `"workspaces"`);
  }
  const engineNode = located(engines["node"], "node");
  if (engineNode)
    facts.engineNode = { value: engineNode.value, line: findLine(text, `"node"`, findLine(text, `"engines"`)) };
  const voltaNode = located(volta["node"], "node");
  if (voltaNode)
    facts.voltaNode = { value: voltaNode.value, line: findLine(text, `"node"`, findLine(text, `"volta"`)) };
  const packageManager = located(json["packageManager"], "packageManager");
  if (packageManager) facts.packageManager = packageManager;
  return facts;
}
