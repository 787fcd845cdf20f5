import type { RepoFileSystem } from "./fileSystem";
import { normalizeRepoPath } from "./repoPath";

/**
 * A repository held in memory, for tests and the corpus. A `null` content means "the path exists but its content was
 * not kept" (a trimmed source file): it is listed, and reading it yields `""`, so rules that only need the path
 * still see it and rules that parse it find nothing in it.
 */
export function createMemoryFileSystem(files: Readonly<Record<string, string | null>>): RepoFileSystem {
  const contents = new Map<string, string>();
  for (const [path, content] of Object.entries(files)) contents.set(normalizeRepoPath(path), content ?? "");
  const paths = [...contents.keys()];
  return {
    listFiles: async () => paths,
    readFiles: async (wanted) => {
      const found = new Map<string, string>();
      for (const path of wanted) {
        const content = contents.get(path);
        if (content !== undefined) found.set(path, content);
      }
      return found;
    },
  };
}
