/**
 * IAM's two ways of matching a pattern: plain wildcards (`*` any run of characters, `?` exactly one) over the whole
 * string, and ARN matching, which keeps wildcards inside the colon-separated segments (see `arnMatch`). Neither is a
 * regular expression: patterns come from policies, and `.`, `+`, `(` are
 * ordinary characters in ARNs.
 */

/** Whole-string wildcard match, case-sensitive; callers lowercase both sides where IAM is case-insensitive. */
export function wildcardMatch(pattern: string, text: string): boolean {
  // Greedy scan with one backtrack point (the last `*`): linear in practice, no exponential blow-up on `*a*a*a*b`.
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    const wanted = pattern[p];
    if (wanted === "?" || (wanted !== undefined && wanted !== "*" && wanted === text[t])) {
      p++;
      t++;
    } else if (wanted === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

interface Token {
  readonly kind: "literal" | "one" | "any";
  readonly char: string;
  /** Cannot match a colon: the wildcard sits inside an ARN segment before the resource. */
  readonly confined: boolean;
}

/**
 * IAM's `Resource` and `ArnLike` match, case-sensitive. IAM's rule: wildcards live within the colon-separated
 * segments of an ARN, but a `*` that ends a segment "can expand to match beyond the colon boundaries"
 * (`arn:aws:dynamodb:*:table/x` covers every region and account). So before the resource part, a `*` followed by
 * `:` (or ending the pattern) matches anything, while a `*` or `?` inside a segment (`us-*-1`) never matches `:`.
 * In the resource part (after the fifth colon), which has colons of its own (`log-group:name:log-stream:s`, S3 keys),
 * wildcards match anything. A pattern that is not an ARN (`*`) is a plain whole-string match.
 */
export function arnMatch(pattern: string, value: string): boolean {
  if (!pattern.startsWith("arn:")) return wildcardMatch(pattern, value);
  let colons = 0;
  const tokens: Token[] = pattern.split("").map((char, index) => {
    const inResource = colons >= 5;
    if (char === ":") colons++;
    if (char !== "*" && char !== "?") return { kind: "literal", char, confined: false };
    const endsSegment = char === "*" && (index === pattern.length - 1 || pattern[index + 1] === ":");
    return { kind: char === "*" ? "any" : "one", char, confined: !inResource && !endsSegment };
  });
  return tokenMatch(tokens, value);
}

/** Dynamic programming over (token, character): confined wildcards rule out the greedy scan; ARNs are short. */
function tokenMatch(tokens: readonly Token[], text: string): boolean {
  // reachable[j]: the tokens so far can consume exactly text[0, j).
  let reachable = Array.from({ length: text.length + 1 }, (_, j) => j === 0);
  for (const token of tokens) {
    const next = Array.from({ length: text.length + 1 }, () => false);
    for (let j = 0; j <= text.length; j++) {
      if (token.kind === "any") {
        // Zero characters, or one more after a reachable shorter prefix.
        next[j] = reachable[j]! || (j > 0 && next[j - 1]! && !(token.confined && text[j - 1] === ":"));
      } else if (j > 0 && reachable[j - 1]) {
        const char = text[j - 1]!;
        next[j] = token.kind === "one" ? !(token.confined && char === ":") : char === token.char;
      }
    }
    reachable = next;
  }
  return reachable[text.length]!;
}
