import { randomBytes } from "node:crypto";

/** What an installation token grants. */
export interface InstallationGrant {
  readonly installationId: number;
  /** The installation's account, as spelled by its repositories. */
  readonly owner: string;
  /** Lower-case repository names the token is limited to; undefined: every repository of the owner. */
  readonly repositories?: ReadonlySet<string>;
  readonly permissions: Readonly<Record<string, string>>;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export interface InstallationTokenStore {
  issue(grant: InstallationGrant): string;
  /** The grant of a token still valid at `now`; undefined for unknown or expired tokens. */
  lookup(token: string, now: number): InstallationGrant | undefined;
  /** Ends every token of an installation (uninstalling the App does this on GitHub). */
  revokeInstallation(installationId: number): void;
  clear(): void;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `ghs_` and 36 random base-62 characters: the shape of GitHub's installation tokens. */
export function newInstallationToken(): string {
  const bytes = randomBytes(36);
  return "ghs_" + [...bytes].map((byte) => BASE62[byte % 62]).join("");
}

export function createInstallationTokenStore(newToken: () => string = newInstallationToken): InstallationTokenStore {
  const grants = new Map<string, InstallationGrant>();
  return {
    issue(grant) {
      const token = newToken();
      grants.set(token, grant);
      return token;
    },
    lookup(token, now) {
      const grant = grants.get(token);
      if (!grant) return undefined;
      if (grant.expiresAt <= now) {
        grants.delete(token);
        return undefined;
      }
      return grant;
    },
    revokeInstallation(installationId) {
      for (const [token, grant] of grants) if (grant.installationId === installationId) grants.delete(token);
    },
    clear() {
      grants.clear();
    },
  };
}
