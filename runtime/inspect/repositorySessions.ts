import { request as octokitRequest } from "@octokit/request";
import type { Installation } from "../deployment";
import { createGitHubFileSystem } from "../detect/fileSystem";
import { detectPlan } from "../detect/plan";
import { PermanentError } from "../errors";
import type { RetryOptions } from "../github/githubErrors";
import type { InstallationTokens, OctokitRequest } from "../github/installationTokens";
import { createRepositoryClient, type RepositoryClient, type RepositoryTree } from "../github/repositoryClient";
import type { RepositorySession, RepositorySnapshot } from "./inspectDeployment";

export interface RepositorySessionsOptions {
  readonly tokens: Pick<InstallationTokens, "tokenFor" | "mint">;
  readonly baseUrl?: string;
  readonly request?: OctokitRequest;
  /** Largest source staged for a build (the commit's files). Default 500 MiB. */
  readonly maxSourceBytes?: number;
  /** Seen by the benchmark: how many GitHub requests detection made. */
  readonly onDetected?: (stats: { requests: number }) => void;
}

/**
 * Opens a repository for the inspector: mints the installation token (scoped to that one repository) and wraps the
 * GitHub API so the token stays inside. A snapshot resolves the ref and lists the commit's files in one round trip
 * (the two requests side by side); detection then reads just the files the rules need, in batched GraphQL requests.
 */
export function createRepositorySessions(options: RepositorySessionsOptions) {
  // Installations whose cached token GitHub rejected: the next session mints a fresh one.
  const rejected = new Set<number>();
  return async (
    installation: Installation,
    owner: string,
    name: string,
    budget: { retry?: RetryOptions } = {},
  ): Promise<RepositorySession> => {
    const refresh = rejected.delete(installation.installationId);
    const { token, createdAt } = await options.tokens.mint(installation.installationId, owner, name, {
      ...(budget.retry ? { retry: budget.retry } : {}),
      refresh,
    });
    const client = createRepositoryClient({
      request: options.request ?? octokitRequest,
      baseUrl: options.baseUrl,
      owner,
      name,
      token,
      tokenCreatedAt: createdAt,
      ...(options.maxSourceBytes !== undefined ? { maxSourceBytes: options.maxSourceBytes } : {}),
      ...(budget.retry ? { retry: budget.retry } : {}),
    });
    const remember = <T>(work: Promise<T>) =>
      work.catch((error: unknown) => {
        if ((error as { code?: unknown }).code === "GITHUB_TOKEN_REJECTED") rejected.add(installation.installationId);
        throw error;
      });
    return {
      snapshot: (ref, knownSha) => remember(takeSnapshot(client, `${owner}/${name}`, ref, knownSha, options)),
    };
  };
}

/**
 * The commit and its listing. With the SHA unknown, the commit lookup and the recursive tree of the same ref go
 * out together, and the tree is kept only if it is the commit's (the ref may move between the two answers; then the
 * commit's own tree is listed). A truncated listing is never planned from: see listingFor.
 */
async function takeSnapshot(
  client: RepositoryClient,
  repository: string,
  ref: string | undefined,
  knownSha: string | undefined,
  options: RepositorySessionsOptions,
): Promise<RepositorySnapshot> {
  let commitSha: string;
  let tree: RepositoryTree;
  if (knownSha !== undefined) {
    commitSha = knownSha;
    tree = await client.getTree(knownSha);
  } else {
    const byRef = client.getTree(ref ?? "HEAD");
    byRef.catch(() => undefined); // the commit lookup's error is the one to report
    const commit = await client.lookupCommit(ref);
    commitSha = commit.sha;
    const listed = await byRef.catch(() => undefined);
    tree = listed?.sha === commit.treeSha ? listed : await client.getTree(commit.treeSha);
  }
  return {
    commitSha,
    totalBytes: tree.truncated ? undefined : tree.totalBytes,
    async detect(rootDirectory) {
      const listing = await listingFor(client, repository, commitSha, tree, rootDirectory);
      const fileSystem = createGitHubFileSystem({
        getTree: async () => listing,
        readBlobs: (paths: readonly string[]) => client.readBlobs(commitSha, paths),
      });
      const plan = await detectPlan(fileSystem, rootDirectory === undefined ? {} : { rootDirectory });
      options.onDetected?.({ requests: fileSystem.stats().requests });
      return plan;
    },
    downloadArchive: () => client.downloadArchive(commitSha),
  };
}

/**
 * What detection may plan from. A complete listing as is. A truncated one (GitHub cuts recursive listings past
 * 100,000 entries or 7 MB) would let detection plan from part of the repository, so: with a rootDirectory, that
 * folder is listed on its own (walking down one folder at a time from the root, then one recursive listing of it),
 * which is all detection reads for a given folder; without one, the deployment fails and says to give one.
 */
async function listingFor(
  client: RepositoryClient,
  repository: string,
  commitSha: string,
  tree: RepositoryTree,
  rootDirectory: string | undefined,
): Promise<{ paths: string[]; truncated: boolean }> {
  if (!tree.truncated) return { paths: tree.paths, truncated: false };
  const tooBig = (detail: string) =>
    new PermanentError(
      "REPOSITORY_TOO_LARGE_TO_SEARCH",
      `${repository}@${commitSha.slice(0, 7)} has more files than GitHub lists at once (${detail}), so Slipway ` +
        `cannot search it for the app. Send rootDirectory in the deployment request with the app's folder (for ` +
        `example "apps/web"), and deploy again.`,
    );
  if (rootDirectory === undefined) return Promise.reject(tooBig("over 100,000 entries or 7 MB"));
  const segments = rootDirectory.split("/").filter((segment) => segment !== "" && segment !== ".");
  let folderSha = tree.sha;
  for (const segment of segments) {
    const level = await client.getTree(folderSha, { recursive: false });
    const next = level.folders.get(segment);
    // An unknown folder is reported by detection (ROOT_DIRECTORY_NOT_FOUND) from an empty listing.
    if (next === undefined) return { paths: [], truncated: false };
    folderSha = next;
  }
  const folder = await client.getTree(folderSha);
  if (folder.truncated) throw tooBig(`even ${rootDirectory} alone`);
  const prefix = segments.length > 0 ? `${segments.join("/")}/` : "";
  return { paths: folder.paths.map((path) => prefix + path), truncated: false };
}
