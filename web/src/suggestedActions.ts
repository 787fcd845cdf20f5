import type { StatusReason } from "./types";

/** What a failed deployment's reason lets a person do next. */
export type SuggestedAction =
  | { readonly kind: "redeploy"; readonly rootDirectory: string; readonly label: string }
  | { readonly kind: "link"; readonly href: string; readonly label: string };

/** Per reason code, the actions it suggests; codes not listed suggest none beyond the message itself. */
const ACTIONS: Readonly<Record<string, (reason: StatusReason) => SuggestedAction[]>> = {
  AMBIGUOUS_ROOT: (reason) =>
    (reason.candidates ?? []).map((candidate) => ({
      kind: "redeploy",
      rootDirectory: candidate.rootDirectory,
      label: `Deploy ${candidate.rootDirectory || "the repository root"}${candidate.framework ? ` (${candidate.framework})` : ""}`,
    })),
  // The install URL is in the message (the stack's githubAppInstallUrl); absent when the stack has none configured.
  GITHUB_APP_NOT_INSTALLED: (reason) => {
    const href = /https?:\/\/[^\s,]+[^\s,.]/.exec(reason.message)?.[0];
    return href ? [{ kind: "link", href, label: "Install the GitHub App" }] : [];
  },
};

export function suggestedActions(reason: StatusReason | undefined): SuggestedAction[] {
  if (!reason) return [];
  return ACTIONS[reason.code]?.(reason) ?? [];
}
