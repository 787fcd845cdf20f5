/** Helpers shared by the tolerant manifest readers. */

/** A value and the 1-based line of the manifest it came from, for a plan's evidence. */
export interface Located {
  readonly value: string;
  readonly line: number;
}

/** 1-based line of the character at `index`. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The first line at or after `fromLine` containing `needle`, or `fromLine` when none does. */
export function findLine(text: string, needle: string, fromLine = 1): number {
  const lines = text.split("\n");
  for (let i = fromLine - 1; i < lines.length; i++) if ((lines[i] ?? "").includes(needle)) return i + 1;
  return fromLine;
}

/**
 * Blanks out comments while keeping every newline, so line numbers found afterwards still point into the original
 * text. `lineComment` and block comments are only recognized outside string literals.
 */
export function blankComments(
  text: string,
  syntax: { readonly line?: readonly string[]; readonly block?: readonly [string, string][]; readonly quotes: string },
): string {
  let out = "";
  let i = 0;
  let quote: string | undefined;
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  // Where the comment starting at `i` ends, or undefined if none starts there. (No labelled loops: Pulumi's closure
  // serializer reads a label as a free variable and refuses the function.)
  const commentEnd = (): number | undefined => {
    for (const [open, close] of syntax.block ?? []) {
      if (text.startsWith(open, i)) {
        const end = text.indexOf(close, i + open.length);
        return end < 0 ? text.length : end + close.length;
      }
    }
    for (const open of syntax.line ?? []) {
      if (text.startsWith(open, i)) {
        const end = text.indexOf("\n", i);
        return end < 0 ? text.length : end;
      }
    }
    return undefined;
  };
  while (i < text.length) {
    const char = text.charAt(i);
    if (quote !== undefined) {
      out += char;
      if (char === "\\") {
        out += text.charAt(i + 1);
        i += 2;
        continue;
      }
      if (char === quote || char === "\n") quote = undefined;
      i++;
      continue;
    }
    const stop = commentEnd();
    if (stop !== undefined) {
      out += blank(text.slice(i, stop));
      i = stop;
      continue;
    }
    if (syntax.quotes.includes(char)) quote = char;
    out += char;
    i++;
  }
  return out;
}

/** Every quoted string ("…" or '…') in `text`, in order. */
export function quotedStrings(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2] ?? "");
}
