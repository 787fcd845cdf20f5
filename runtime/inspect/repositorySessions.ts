import { request as octokitRequest } from "@octokit/request";
import type { Installation } from "../deployment";
import { createGitHubFileSystem } from "../detect/fileSystem";
import { detectPlan } from "../detect/plan";
import type { InstallationTokens, OctokitRequest } from "../github/installationTokens";
import { createRepositoryClient } from "../github/repositoryClient";
import type { RepositorySession } from "./inspectDeployment";

export interface RepositorySessionsOptions {
  readonly tokens: InstallationTokens;
  readonly baseUrl?: string;
  readonly request?: OctokitRequest;
  /** Seen by the benchmark: how many GitHub requests detection made. */
  readonly onDetected?: (stats: { requests: number }) => void;
}

/**
 * Opens a repository for the inspector: mints the installation token (scoped to that one repository) and wraps the
 * GitHub API so the token stays inside. Detection reads through a cached file system: one Git Trees request, then
 * batched GraphQL reads of just the files the rules need.
 */
export function createRepositorySessions(options: RepositorySessionsOptions) {
  return async (installation: Installation, owner: string, name: string): Promise<RepositorySession> => {
    const token = await options.tokens.tokenFor(installation.installationId, owner, name);
    const client = createRepositoryClient({
      request: options.request ?? octokitRequest,
      baseUrl: options.baseUrl,
      owner,
      name,
      token,
    });
    return {
      resolveCommit: (ref) => client.resolveCommit(ref),
      downloadArchive: (commitSha) => client.downloadArchive(commitSha),
      async detect(commitSha, rootDirectory) {
        const fileSystem = createGitHubFileSystem({
          getTree: () => client.getTree(commitSha),
          readBlobs: (paths: readonly string[]) => client.readBlobs(commitSha, paths),
        });
        const plan = await detectPlan(fileSystem, rootDirectory === undefined ? {} : { rootDirectory });
        options.onDetected?.({ requests: fileSystem.stats().requests });
        return plan;
      },
    };
  };
}
