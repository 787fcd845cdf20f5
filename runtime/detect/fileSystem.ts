/**
 * The one way detection reads a repository: list every path once, then read the files the rules need in batches.
 * Batches matter because the GitHub backend turns each `readFiles` call into one GraphQL request, and detection is
 * budgeted in requests (2 for a typical single app, 4 for a monorepo), not in bytes.
 */
export interface RepoFileSystem {
  /** Every file path (blobs only), posix, relative to the repository root, no leading "./" or "/". */
  listFiles(): Promise<readonly string[]>;
  /** Reads several files at once; a path that does not exist (or is binary) is absent from the map. */
  readFiles(paths: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** GitHub's API for one commit, as the lead's client provides it. */
export interface GitHubRepoReader {
  /** One recursive Git Trees request. */
  getTree(): Promise<{ paths: string[]; truncated: boolean }>;
  /** Text of many files (binary and missing ones left out), in as few requests as the client can. */
  readBlobs(paths: readonly string[]): Promise<Map<string, string>>;
}

/** What a cached backend has cost so far, for the benchmark's requests-per-repository column. */
export interface FileSystemStats {
  /** Reader calls of any kind: `treeRequests + blobRequests`. */
  readonly requests: number;
  readonly treeRequests: number;
  readonly blobRequests: number;
  /** Distinct paths asked of the reader. */
  readonly filesRequested: number;
  /** GitHub cut the listing short (over 100,000 entries or 7 MB): detection may have missed a folder. */
  readonly truncated: boolean;
}

export { createMemoryFileSystem } from "./memoryFileSystem";
export { createLocalFileSystem, IGNORED_LOCAL_FOLDERS } from "./localFileSystem";
export { createGitHubFileSystem, type CachedFileSystem } from "./gitHubFileSystem";
