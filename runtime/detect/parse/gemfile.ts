import { blankComments, type Located } from "./text";

export interface GemfileFacts {
  /** Gem name → line. */
  readonly gems: ReadonlyMap<string, number>;
  /** `ruby "3.2.2"`; absent for `ruby file: ".ruby-version"` (that file is read instead). */
  readonly ruby?: Located;
}

export function parseGemfile(text: string): GemfileFacts {
  const gems = new Map<string, number>();
  let ruby: Located | undefined;
  blankComments(text, { line: ["#"], quotes: "\"'" })
    .split("\n")
    .forEach((raw, index) => {
      const gem = /^\s*gem\s*\(?\s*["']([^"']+)["']/.exec(raw)?.[1];
      if (gem !== undefined && !gems.has(gem)) gems.set(gem, index + 1);
      const version = /^\s*ruby\s*\(?\s*["']([^"']+)["']/.exec(raw)?.[1];
      // `ruby "#{File.read(".ruby-version")}"` computes the version: only a literal one is declared here.
      if (version !== undefined && /^[~><=\s]*\d/.test(version))
        ruby = { value: version.replace(/^~>\s*/, "").trim(), line: index + 1 };
    });
  return ruby ? { gems, ruby } : { gems };
}
