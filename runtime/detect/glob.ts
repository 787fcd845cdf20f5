/**
 * The small glob dialect workspace manifests and the framework table use: `*` (within one path segment), `**` (any
 * number of segments, including none), `?`, and `{a,b}` alternatives. Enough for `apps/*`, `packages/**`,
 * `next.config.*`, `requirements*.txt`; not a general matcher.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  let inBraces = false;
  for (let i = 0; i < glob.length; i++) {
    const char = glob.charAt(i);
    if (char === "*") {
      if (glob.charAt(i + 1) === "*") {
        // "a/**/b" matches "a/b"; a trailing "/**" matches the folder itself and anything under it.
        const slashAfter = glob.charAt(i + 2) === "/";
        source += slashAfter ? "(?:.*/)?" : ".*";
        i += slashAfter ? 2 : 1;
        if (!slashAfter && source.endsWith("/.*")) source = source.slice(0, -3) + "(?:/.*)?";
      } else {
        source += "[^/]*";
      }
    } else if (char === "?") {
      source += "[^/]";
    } else if (char === "{") {
      inBraces = true;
      source += "(?:";
    } else if (char === "}" && inBraces) {
      inBraces = false;
      source += ")";
    } else if (char === "," && inBraces) {
      source += "|";
    } else {
      source += char.replace(/[.+^$()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

export function matchesGlob(glob: string, path: string): boolean {
  return globToRegExp(glob).test(path);
}
