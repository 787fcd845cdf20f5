import { DetectionError } from "./detectionError";
import type { FileSystemStats, GitHubRepoReader, RepoFileSystem } from "./fileSystem";

export interface CachedFileSystem extends RepoFileSystem {
  /** Reader calls made so far, for the benchmark and for logs. */
  stats(): FileSystemStats;
}

/**
 * One commit of a GitHub repository, read through `reader` with every answer cached: the tree is fetched once, each
 * file at most once (concurrent reads of the same path share one request), and each `readFiles` call that needs
 * anything new becomes exactly one `readBlobs` call. Once the tree is known, paths it does not list are answered as
 * absent without asking GitHub.
 *
 * A truncated listing (GitHub cuts recursive trees past 100,000 entries or 7 MB) is refused with a DetectionError:
 * planning from part of a repository picks the wrong app. Callers list a smaller folder instead (the inspector's
 * repository sessions do, for a requested rootDirectory).
 *
 * A failed reader call is not cached, so the caller may retry it.
 */
export function createGitHubFileSystem(reader: GitHubRepoReader): CachedFileSystem {
  let tree: Promise<{ paths: readonly string[]; known: ReadonlySet<string> | undefined }> | undefined;
  const files = new Map<string, Promise<string | undefined>>();
  let treeRequests = 0;
  let blobRequests = 0;
  let filesRequested = 0;
  let truncated = false;

  const loadTree = () => {
    if (tree === undefined) {
      treeRequests += 1;
      const pending = reader.getTree().then(({ paths, truncated: cut }) => {
        truncated = cut;
        if (cut) {
          throw new DetectionError(
            "REPOSITORY_TOO_LARGE_TO_SEARCH",
            "GitHub listed only part of this repository (over 100,000 entries or 7 MB), so Slipway cannot search " +
              'it for the app. Send rootDirectory with the app\'s folder (for example "apps/web"), and deploy again.',
          );
        }
        return { paths, known: new Set(paths) as ReadonlySet<string> | undefined };
      });
      pending.catch(() => {
        if (tree === pending) tree = undefined;
      });
      tree = pending;
    }
    return tree;
  };

  return {
    listFiles: async () => (await loadTree()).paths,

    readFiles: async (paths) => {
      // Filters by the listing only if someone already asked for it: a caller that reads without listing pays one
      // request, not two.
      const known = tree === undefined ? undefined : (await tree).known;
      const missing = [...new Set(paths)].filter(
        (path) => !files.has(path) && (known === undefined || known.has(path)),
      );
      if (missing.length > 0) {
        blobRequests += 1;
        filesRequested += missing.length;
        const batch = reader.readBlobs(missing);
        for (const path of missing) {
          const entry = batch.then((blobs) => blobs.get(path));
          files.set(path, entry);
          entry.catch(() => {
            if (files.get(path) === entry) files.delete(path);
          });
        }
      }
      const found = new Map<string, string>();
      for (const path of paths) {
        const content = await (files.get(path) ?? Promise.resolve(undefined));
        if (content !== undefined) found.set(path, content);
      }
      return found;
    },

    stats: () => ({
      requests: treeRequests + blobRequests,
      treeRequests,
      blobRequests,
      filesRequested,
      truncated,
    }),
  };
}
