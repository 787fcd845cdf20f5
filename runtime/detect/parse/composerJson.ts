import { isRecord, parseJsonLoose, stringRecord } from "./json";
import { findLine, type Located } from "./text";

export interface ComposerFacts {
  /** `require` and `require-dev` package names → line. */
  readonly packages: ReadonlyMap<string, number>;
  /** The `php` platform constraint, e.g. "^8.2". */
  readonly php?: Located;
}

export function parseComposerJson(text: string): ComposerFacts | undefined {
  const json = parseJsonLoose(text);
  if (!isRecord(json)) return undefined;
  const packages = new Map<string, number>();
  let php: Located | undefined;
  for (const section of ["require", "require-dev"] as const) {
    const sectionLine = findLine(text, `"${section}"`);
    for (const [name, constraint] of Object.entries(stringRecord(json[section]))) {
      const line = findLine(text, `"${name}"`, sectionLine);
      if (name === "php") php ??= { value: constraint, line };
      else if (!packages.has(name)) packages.set(name, line);
    }
  }
  return php ? { packages, php } : { packages };
}
