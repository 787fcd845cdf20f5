import { blankComments, type Located } from "./text";

export interface GoModFacts {
  readonly module?: string;
  /** `toolchain go1.22.1` when present (what actually builds), else the `go 1.22` directive. */
  readonly goVersion?: Located;
  /** Required module paths → line. */
  readonly requires: ReadonlyMap<string, number>;
}

export function parseGoMod(text: string): GoModFacts {
  const lines = blankComments(text, { line: ["//"], quotes: '"`' }).split("\n");
  const requires = new Map<string, number>();
  let module: string | undefined;
  let go: Located | undefined;
  let toolchain: Located | undefined;
  let inRequire = false;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const number = index + 1;
    if (inRequire) {
      if (line.startsWith(")")) inRequire = false;
      else {
        const path = /^"?([^\s"]+)"?\s+v/.exec(line)?.[1];
        if (path !== undefined) requires.set(path, number);
      }
      return;
    }
    const directive = /^(module|go|toolchain|require)\s+(.*)$/.exec(line);
    if (!directive) return;
    const [, keyword, rest = ""] = directive;
    if (keyword === "module") module = rest.replace(/"/g, "").trim();
    else if (keyword === "go") go = { value: rest.trim(), line: number };
    else if (keyword === "toolchain") toolchain = { value: rest.trim().replace(/^go/, ""), line: number };
    else if (rest.trim().startsWith("(")) inRequire = true;
    else {
      const path = /^"?([^\s"]+)"?\s+v/.exec(rest.trim())?.[1];
      if (path !== undefined) requires.set(path, number);
    }
  });
  const facts: { module?: string; goVersion?: Located; requires: Map<string, number> } = { requires };
  if (module) facts.module = module;
  const version = toolchain ?? go;
  if (version) facts.goVersion = version;
  return facts;
}
