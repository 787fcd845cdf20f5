const MAX_REF_LENGTH = 255;
const COMMIT_SHA = /^[0-9a-fA-F]{40}$/;

/**
 * What `git check-ref-format --allow-onelevel` refuses, as data: each entry is one of its rules (plus two of ours:
 * no leading `-`, which a command line would read as an option, and at most 255 characters).
 * https://git-scm.com/docs/git-check-ref-format
 */
const REFUSED: readonly { readonly rule: string; readonly test: (ref: string) => boolean }[] = [
  { rule: "is empty or longer than 255 characters", test: (ref) => ref.length === 0 || ref.length > MAX_REF_LENGTH },
  { rule: "contains `..`", test: (ref) => ref.includes("..") },
  // eslint-disable-next-line no-control-regex
  { rule: "contains a control character or space", test: (ref) => /[\x00-\x20\x7f]/.test(ref) },
  { rule: "contains one of ~ ^ : ? * [ \\", test: (ref) => /[~^:?*[\\]/.test(ref) },
  { rule: "starts with - or /", test: (ref) => ref.startsWith("-") || ref.startsWith("/") },
  { rule: "ends with / or .", test: (ref) => ref.endsWith("/") || ref.endsWith(".") },
  { rule: "contains //", test: (ref) => ref.includes("//") },
  { rule: "contains @{", test: (ref) => ref.includes("@{") },
  { rule: "is @", test: (ref) => ref === "@" },
  {
    rule: "has a path component that starts with . or ends with .lock",
    test: (ref) => ref.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock")),
  },
];

/** The first git ref-name rule `ref` breaks, or undefined if it is a valid branch or tag name. */
export function brokenRefRule(ref: string): string | undefined {
  return REFUSED.find(({ test }) => test(ref))?.rule;
}

export const isGitRefName = (ref: string): boolean => brokenRefRule(ref) === undefined;

/** A full 40-hex commit SHA (short SHAs are ambiguous; they pass as ref names and GitHub resolves them). */
export const isCommitSha = (ref: string): boolean => COMMIT_SHA.test(ref);
