import { exchangeWebFlowCode } from "@octokit/oauth-methods";
import { request as octokitRequest } from "@octokit/request";
import { ValidationError } from "../errors";

type OctokitRequest = typeof octokitRequest;

/** An installation as `GET /user/installations` reports it (the fields Slipway keeps). */
export interface UserInstallation {
  readonly id: number;
  readonly accountLogin: string;
  readonly repositorySelection: "all" | "selected";
  readonly suspendedAt?: string;
  readonly updatedAt?: string;
}

export interface GitHubUserClient {
  /** Exchanges the OAuth `code` GitHub handed the user for a user access token (kept in memory only). */
  exchangeCode(code: string): Promise<string>;
  /** Every installation of this App the token's user can access (all pages). */
  listInstallations(userToken: string): Promise<UserInstallation[]>;
}

export interface GitHubUserClientOptions {
  readonly clientId: string;
  /** Loads the App's OAuth client secret (from Secrets Manager) when first needed. */
  readonly loadClientSecret: () => Promise<string>;
  /** GitHub's API root; the OAuth endpoints are derived from it as octokit does (GHES: without `/api/v3`). */
  readonly baseUrl?: string;
  readonly request?: OctokitRequest;
}

/**
 * GitHub as a signed-in user sees it, through octokit: the web-flow code exchange (`@octokit/oauth-methods`) and
 * `GET /user/installations` ("List app installations accessible to the user access token", REST docs), paginated.
 */
export function createGitHubUserClient(options: GitHubUserClientOptions): GitHubUserClient {
  const request = (options.request ?? octokitRequest).defaults({
    baseUrl: options.baseUrl ?? "https://api.github.com",
  });
  return {
    async exchangeCode(code) {
      const clientSecret = await options.loadClientSecret();
      try {
        const { authentication } = await exchangeWebFlowCode({
          clientType: "github-app",
          clientId: options.clientId,
          clientSecret,
          code,
          request,
        });
        return authentication.token;
      } catch (error) {
        // GitHub answers a used, expired or foreign code with `bad_verification_code`, which octokit raises as 400.
        if ((error as { status?: number }).status === 400) {
          throw new ValidationError(
            "code",
            "GitHub did not accept this authorization code (it is single use and expires after 10 minutes). " +
              "Install or configure the App again from GET /github/install and send the new code.",
          );
        }
        throw error;
      }
    },
    async listInstallations(userToken) {
      const installations: UserInstallation[] = [];
      for (let page = 1; ; page += 1) {
        const { data } = await request("GET /user/installations", {
          headers: { authorization: `token ${userToken}` },
          per_page: 100,
          page,
        });
        for (const item of data.installations) {
          const account = item.account as { login?: string } | null;
          installations.push({
            id: item.id,
            accountLogin: account?.login ?? "",
            repositorySelection: item.repository_selection,
            ...(item.suspended_at ? { suspendedAt: item.suspended_at } : {}),
            ...(item.updated_at ? { updatedAt: item.updated_at } : {}),
          });
        }
        if (data.installations.length < 100 || installations.length >= data.total_count) return installations;
      }
    },
  };
}
