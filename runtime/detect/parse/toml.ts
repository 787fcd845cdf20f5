import { blankComments } from "./text";

/** One `key = value` of a TOML file: the full key path (table headers included), the raw value, its line. */
export interface TomlEntry {
  readonly path: readonly string[];
  readonly value: string;
  readonly line: number;
}

/*
 * Kept hand-written, measured against smol-toml 1.9.1 (the maintained, spec-complete parser): it would add 33 KB
 * (16.7 KB minified) to the inspector's bundle, well within the 2 MB budget, but it gives values without source
 * positions, and every fact detection takes from a TOML manifest carries its line as evidence ("pyproject.toml:12"),
 * so a locator as hand-written as this reader would sit on top of it; and it throws on a manifest with one bad line,
 * where detection should still read the rest. Costs more than it gains here: revisit if evidence stops needing lines.
 */

/**
 * A tolerant, line-based TOML reader: enough for the keys manifests are detected by (`[dependencies]`,
 * `[tool.poetry.dependencies]`, `dependencies = [...]` spanning lines, `[dependencies.axum]`, quoted keys such as
 * `[target.'cfg(unix)'.dependencies]`). Values are left raw; `quotedStrings` and `inlineTableString` read them. A
 * malformed line is skipped rather than failing the file, since a manifest is evidence, not input to validate.
 */
export function readTomlEntries(text: string): TomlEntry[] {
  const lines = blankComments(text, { line: ["#"], quotes: "\"'" }).split("\n");
  const entries: TomlEntry[] = [];
  let table: string[] = [];
  let pending: { path: string[]; value: string; line: number } | undefined;
  let multilineString: string | undefined;

  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (multilineString !== undefined) {
      if (line.includes(multilineString)) multilineString = undefined;
      return;
    }
    if (pending !== undefined) {
      pending.value += "\n" + line;
      if (bracketDepth(pending.value) <= 0) {
        entries.push(pending);
        pending = undefined;
      }
      return;
    }
    if (line === "") return;
    // A key never starts with "[": such a line is a table header, even one quoting "=" as in `[target.'cfg(a = "b")']`.
    if (line.startsWith("[")) {
      table = splitKey(line.replace(/^\[+|\]+$/g, ""));
      return;
    }
    const pair = /^((?:"[^"]*"|'[^']*'|[^=])+?)\s*=\s*(.*)$/.exec(line);
    if (pair?.[1] === undefined || pair[2] === undefined) return;
    const entry = { path: [...table, ...splitKey(pair[1])], value: pair[2], line: index + 1 };
    const opener = /^("""|''')/.exec(entry.value)?.[1];
    if (opener !== undefined && entry.value.indexOf(opener, 3) < 0) {
      multilineString = opener;
      entries.push(entry);
    } else if (bracketDepth(entry.value) > 0) {
      pending = entry;
    } else {
      entries.push(entry);
    }
  });
  if (pending !== undefined) entries.push(pending);
  return entries;
}

/** `a."b.c".d` → ["a", "b.c", "d"]. */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const match of key.matchAll(/"([^"]*)"|'([^']*)'|([^.\s"']+)/g)) {
    parts.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return parts;
}

/** Open `[`/`{` minus closed ones, outside strings. */
function bracketDepth(value: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    if (quote !== undefined) {
      if (char === "\\" && quote === '"') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === "[" || char === "{") depth++;
    else if (char === "]" || char === "}") depth--;
  }
  return depth;
}

/** `key = "x"` inside an inline table `{ key = "x", … }`, or undefined. */
export function inlineTableString(value: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|[{,\\s])${key.replace(/[.]/g, "\\.")}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** A plain string value (`"x"` or `'x'`), or undefined for anything else. */
export function tomlString(value: string): string | undefined {
  const match = /^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}
