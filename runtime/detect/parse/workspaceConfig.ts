import { isRecord, parseJsonLoose, stringArray } from "./json";
import { blankComments } from "./text";

/**
 * `packages:` of a pnpm-workspace.yaml, read without a YAML library: the block list (`- "apps/*"`) or flow list
 * (`packages: ["apps/*"]`) forms. Undefined when the key is absent: pnpm 9+ also uses this file for settings alone
 * (`catalog:`, `onlyBuiltDependencies:`), which does not make a repository a workspace.
 */
export function parsePnpmWorkspace(text: string): string[] | undefined {
  const lines = blankComments(text, { line: ["#"], quotes: "\"'" }).split("\n");
  const start = lines.findIndex((line) => /^packages\s*:/.test(line));
  if (start < 0) return undefined;
  const unquote = (item: string) => item.trim().replace(/^["']|["']$/g, "");
  const inline = (lines[start] ?? "").replace(/^packages\s*:/, "").trim();
  if (inline.startsWith("[")) {
    return inline
      .replace(/^\[|\]$/g, "")
      .split(",")
      .map(unquote)
      .filter((item) => item !== "");
  }
  const globs: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") continue;
    const item = /^\s*-\s*(.+)$/.exec(line)?.[1];
    if (item === undefined) break; // the next top-level key
    globs.push(unquote(item));
  }
  return globs;
}

/** lerna.json `packages`, defaulting to Lerna's own default when the file does not say. */
export function parseLernaPackages(text: string): string[] {
  const json = parseJsonLoose(text);
  return (isRecord(json) ? stringArray(json["packages"]) : undefined) ?? ["packages/*"];
}
