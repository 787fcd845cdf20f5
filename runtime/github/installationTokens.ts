import { createAppAuth } from "@octokit/auth-app";
import { request as octokitRequest } from "@octokit/request";
import { PermanentError } from "../errors";
import { forbidden, gitHubMessage, statusOf, withGitHubRetries, type RetryOptions } from "./githubErrors";

export type OctokitRequest = typeof octokitRequest;

export interface InstallationTokensOptions {
  readonly appId: string;
  /** Loads the App's private key (PEM) when first needed, e.g. from Secrets Manager; called again after a 401. */
  readonly loadPrivateKey: () => Promise<string>;
  /** GitHub's API root; https://api.github.com unless GitHub Enterprise Server or the local emulator. */
  readonly baseUrl?: string;
  /** Where the user installs the App, quoted in error messages. */
  readonly installUrl?: string;
  readonly request?: OctokitRequest;
  readonly retry?: RetryOptions;
}

/** An installation token and when GitHub minted it (auth-app keeps the original time for a cached token). */
export interface InstallationToken {
  readonly token: string;
  /** Epoch ms. A request made within seconds of it may meet GitHub's token replication lag (a passing 401). */
  readonly createdAt: number;
}

export interface InstallationTokens {
  /**
   * A token for one installation, limited to one repository with read-only contents. `@octokit/auth-app` caches it
   * (until shortly before it expires) for as long as this object lives: the handler factory builds it once per
   * Lambda container, so warm invocations mint nothing.
   */
  tokenFor(installationId: number, owner: string, repositoryName: string): Promise<string>;
  /**
   * The same, with its creation time; `retry` bounds the waits (the invocation's deadline) and `refresh` mints a new
   * token instead of the cached one (after GitHub rejected the cached one).
   */
  mint(
    installationId: number,
    owner: string,
    repositoryName: string,
    options?: { retry?: RetryOptions; refresh?: boolean },
  ): Promise<InstallationToken>;
  /**
   * A token for the installation's whole repository list with `metadata: read` only: what
   * `GET /installation/repositories` needs (GET /repositories), and nothing that reads a repository's contents.
   * A 404 (uninstalled) is GITHUB_APP_NOT_INSTALLED.
   */
  forListing(installationId: number, owner: string): Promise<string>;
}

type AppAuth = ReturnType<typeof createAppAuth>;

export function createInstallationTokens(options: InstallationTokensOptions): InstallationTokens {
  const request = (options.request ?? octokitRequest).defaults({
    baseUrl: options.baseUrl ?? "https://api.github.com",
  });
  let appAuth: Promise<AppAuth> | undefined;
  const loadAuth = (): Promise<AppAuth> =>
    (appAuth ??= options.loadPrivateKey().then(
      (privateKey) => createAppAuth({ appId: options.appId, privateKey, request }),
      (error: unknown) => {
        appAuth = undefined; // a failed secret read is retried on the next call, not cached
        throw error;
      },
    ));

  const mintOnce = async (installationId: number, repositoryName: string | undefined, refresh: boolean) => {
    const auth = await loadAuth();
    const result = await auth({
      type: "installation",
      installationId,
      ...(repositoryName === undefined
        ? { permissions: { metadata: "read" } }
        : { repositoryNames: [repositoryName], permissions: { contents: "read", metadata: "read" } }),
      ...(refresh ? { refresh: true } : {}),
    });
    return { token: result.token, createdAt: Date.parse(result.createdAt) };
  };

  /** `repositoryName` undefined: the listing token (metadata only, every repository of the installation). */
  const mintScoped = async (
    installationId: number,
    owner: string,
    repositoryName: string | undefined,
    mintOptions: { retry?: RetryOptions; refresh?: boolean } = {},
  ): Promise<InstallationToken> => {
    const what = `minting an installation token for ${owner}/${repositoryName ?? "*"}`;
    const retry = { ...options.retry, ...mintOptions.retry };
    const refresh = mintOptions.refresh ?? false;
    try {
      return await withGitHubRetries(what, () => mintOnce(installationId, repositoryName, refresh), retry);
    } catch (error) {
      const status = statusOf(error);
      if (status === 401) {
        // The App's key may have been rotated since this container read it: read it again once.
        appAuth = undefined;
        try {
          return await withGitHubRetries(what, () => mintOnce(installationId, repositoryName, refresh), retry);
        } catch (retryError) {
          if (statusOf(retryError) === 401) throw appCredentialsRejected();
          throw translate(retryError, installationId, owner, repositoryName ?? "*", options.installUrl);
        }
      }
      throw translate(error, installationId, owner, repositoryName ?? "*", options.installUrl);
    }
  };
  const mint: InstallationTokens["mint"] = (installationId, owner, repositoryName, mintOptions) =>
    mintScoped(installationId, owner, repositoryName, mintOptions);

  return {
    mint,
    forListing: async (installationId, owner) => (await mintScoped(installationId, owner, undefined)).token,
    tokenFor: async (installationId, owner, repositoryName) =>
      (await mint(installationId, owner, repositoryName)).token,
  };
}

/**
 * GitHub answers 422 to a token request for two reasons a person fixes differently, told apart by its message (the
 * emulator sends both; "Create an installation access token for an app",
 * https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app):
 * "There is at least one repository that does not exist or is not accessible to the parent installation." and
 * "The permissions requested are not granted to this installation.".
 */
const PERMISSIONS_NOT_GRANTED = /permissions? requested (are|is) not granted/i;

function appCredentialsRejected(): PermanentError {
  return new PermanentError(
    "GITHUB_APP_AUTH_FAILED",
    "GitHub rejected Slipway's App credentials (App id or private key). The platform team must update the " +
      "githubAppId / githubAppPrivateKey stack configuration; then deploy again.",
  );
}

function translate(
  error: unknown,
  installationId: number,
  owner: string,
  repositoryName: string,
  installUrl: string | undefined,
): unknown {
  const where = installUrl ? ` at ${installUrl}` : "";
  switch (statusOf(error)) {
    case 404:
      return new PermanentError(
        "GITHUB_APP_NOT_INSTALLED",
        `The Slipway GitHub App installation ${installationId} no longer exists (it was uninstalled). ` +
          `Install the App on ${owner}${where}, then deploy again.`,
      );
    case 422:
      if (PERMISSIONS_NOT_GRANTED.test(gitHubMessage(error))) {
        return new PermanentError(
          "GITHUB_APP_PERMISSIONS_MISSING",
          `The Slipway GitHub App installation on ${owner} has not granted the permissions Slipway asks for ` +
            `(Contents: read, Metadata: read). An owner of ${owner} must accept the App's updated permissions in ` +
            `the installation's settings${where}; then deploy again.`,
        );
      }
      return new PermanentError(
        "REPOSITORY_NOT_ACCESSIBLE",
        `The Slipway GitHub App installation cannot access ${owner}/${repositoryName}: it does not exist, or the ` +
          `installation is not on ${owner}, or the repository is not among the installation's selected ` +
          `repositories. Grant the App access to it${where}, then deploy again.`,
      );
    case 403:
      return forbidden(`minting a token for ${owner}/${repositoryName}`);
    default:
      return error;
  }
}
