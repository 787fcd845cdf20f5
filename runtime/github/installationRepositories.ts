import { request as octokitRequest } from "@octokit/request";
import type { InstallationTokens, OctokitRequest } from "./installationTokens";
import { withGitHubRetries, type RetryOptions } from "./githubErrors";

/** One repository an installation can read, as `GET /repositories` shows it. */
export interface InstallationRepository {
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly private: boolean;
}

export interface InstallationRepositoriesPage {
  readonly totalCount: number;
  readonly repositories: readonly InstallationRepository[];
}

export interface InstallationRepositories {
  /** One of GitHub's pages (1-based, `perPage` ≤ 100) of the repositories an installation can access. */
  page(installationId: number, owner: string, page: number, perPage: number): Promise<InstallationRepositoriesPage>;
}

export interface InstallationRepositoriesOptions {
  readonly tokens: Pick<InstallationTokens, "forListing">;
  readonly baseUrl?: string;
  readonly request?: OctokitRequest;
  readonly retry?: RetryOptions;
}

/**
 * GitHub's "List repositories accessible to the app installation" (`GET /installation/repositories` with an
 * installation token; https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation).
 */
export function createInstallationRepositories(options: InstallationRepositoriesOptions): InstallationRepositories {
  const request = (options.request ?? octokitRequest).defaults({
    baseUrl: options.baseUrl ?? "https://api.github.com",
  });
  return {
    async page(installationId, owner, page, perPage) {
      const token = await options.tokens.forListing(installationId, owner);
      const { data } = await withGitHubRetries(
        `listing the repositories of installation ${installationId}`,
        () =>
          request("GET /installation/repositories", {
            headers: { authorization: `token ${token}` },
            per_page: perPage,
            page,
          }),
        options.retry ?? {},
      );
      return {
        totalCount: data.total_count,
        repositories: data.repositories.map((repository) => ({
          owner: repository.owner.login,
          name: repository.name,
          fullName: repository.full_name,
          defaultBranch: repository.default_branch,
          private: repository.private,
        })),
      };
    },
  };
}
