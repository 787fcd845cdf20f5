import type { Installation } from "../deployment";
import { PermanentError } from "../errors";

/**
 * The installation a deployment of `owner/…` goes through: among the user's linked installations, the one whose
 * account owns the repository (GitHub logins are case-insensitive). A link an operator recorded without an account
 * is used when it is the user's only one (how links were made before the install flow). Deleted or suspended
 * installations fail the deployment with what to do about it.
 */
export function pickInstallation(
  links: readonly Installation[],
  repository: string,
  installUrl?: string,
): Installation {
  const owner = repository.split("/")[0] ?? "";
  const where = installUrl ? ` at ${installUrl}` : "";
  const owned = links.filter((link) => link.accountLogin?.toLowerCase() === owner.toLowerCase());
  const live = owned.filter((link) => !link.deletedAt);
  const unnamed = links.filter((link) => link.accountLogin === undefined && !link.deletedAt);
  const chosen = live.find((link) => !link.suspendedAt) ?? live[0] ?? (links.length === 1 ? unnamed[0] : undefined);
  if (chosen?.suspendedAt) {
    throw new PermanentError(
      "GITHUB_APP_SUSPENDED",
      `The Slipway GitHub App's installation on ${owner} has been suspended since ${chosen.suspendedAt}, so Slipway ` +
        `cannot read ${repository}. Ask an owner of ${owner} to unsuspend it in GitHub's settings ` +
        `(Settings → GitHub Apps → Slipway), then deploy again.`,
    );
  }
  if (chosen) return chosen;
  if (owned.length > 0) {
    throw new PermanentError(
      "GITHUB_APP_UNINSTALLED",
      `The Slipway GitHub App was uninstalled from ${owner}, so Slipway cannot read ${repository}. ` +
        `Install it on ${owner} again${where}, link it when GitHub sends you back, then deploy again.`,
    );
  }
  throw new PermanentError(
    "GITHUB_APP_NOT_INSTALLED",
    `The Slipway GitHub App is not installed for your account, so Slipway cannot read ${repository}. ` +
      `Install it on ${owner}${where}, then deploy again.`,
  );
}
