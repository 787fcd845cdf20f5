import { inlineTableString, readTomlEntries, tomlString } from "./toml";
import { quotedStrings, type Located } from "./text";

export interface CargoFacts {
  readonly packageName?: string;
  /** `[[bin]]` names, in order. */
  readonly bins: readonly string[];
  /** Crates depended on (renamed ones by their real name), → line. */
  readonly crates: ReadonlyMap<string, number>;
  /** `[workspace] members` globs. */
  readonly workspaceMembers: readonly string[];
  readonly rustVersion?: Located;
}

/** Tables whose keys are crates: `[dependencies]`, `[build-dependencies]`, `[workspace.dependencies]`, target-specific. */
function crateOf(path: readonly string[]): string | undefined {
  const at = (i: number) => path[i];
  if ((at(0) === "dependencies" || at(0) === "build-dependencies") && path.length >= 2) return at(1);
  if (at(0) === "workspace" && at(1) === "dependencies" && path.length >= 3) return at(2);
  if (at(0) === "target" && (at(2) === "dependencies" || at(2) === "build-dependencies") && path.length >= 4)
    return at(3);
  return undefined;
}

export function parseCargoToml(text: string): CargoFacts {
  const crates = new Map<string, number>();
  const bins: string[] = [];
  let packageName: string | undefined;
  let rustVersion: Located | undefined;
  let workspaceMembers: string[] = [];
  for (const entry of readTomlEntries(text)) {
    const path = entry.path;
    const crate = crateOf(path);
    if (crate !== undefined) {
      // `web = { package = "actix-web" }` and `[dependencies.web] package = "actix-web"` rename a crate.
      const keyOfCrate = path[path.length - 1];
      const renamed =
        keyOfCrate === "package"
          ? tomlString(entry.value)
          : keyOfCrate === crate
            ? inlineTableString(entry.value, "package")
            : undefined;
      const name = renamed ?? crate;
      if (!crates.has(name)) crates.set(name, entry.line);
      continue;
    }
    const key = path.join(".");
    if (key === "package.name") packageName = tomlString(entry.value);
    else if (key === "package.rust-version") {
      const value = tomlString(entry.value);
      if (value !== undefined) rustVersion = { value, line: entry.line };
    } else if (key === "bin.name") {
      const name = tomlString(entry.value);
      if (name !== undefined) bins.push(name);
    } else if (key === "workspace.members") workspaceMembers = quotedStrings(entry.value);
  }
  const facts: {
    packageName?: string;
    bins: string[];
    crates: Map<string, number>;
    workspaceMembers: string[];
    rustVersion?: Located;
  } = { bins, crates, workspaceMembers };
  if (packageName !== undefined) facts.packageName = packageName;
  if (rustVersion !== undefined) facts.rustVersion = rustVersion;
  return facts;
}
