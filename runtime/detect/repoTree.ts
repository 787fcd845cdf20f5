import { baseName, depthOf, normalizeRepoPath, parentOf, relativeTo } from "./repoPath";

/**
 * The listing of a repository, indexed once so that rules can ask "which files are in this folder" without
 * scanning every path again. Paths are normalized and sorted, so nothing downstream depends on the order a backend
 * listed them in.
 */
export class RepoTree {
  readonly paths: readonly string[];
  private readonly pathSet: ReadonlySet<string>;
  private readonly byFolder: ReadonlyMap<string, readonly string[]>;

  constructor(paths: readonly string[]) {
    const unique = [...new Set(paths.map(normalizeRepoPath).filter((path) => path !== ""))].sort();
    this.paths = unique;
    this.pathSet = new Set(unique);
    const byFolder = new Map<string, string[]>();
    for (const path of unique) {
      const folder = parentOf(path);
      const names = byFolder.get(folder) ?? [];
      names.push(baseName(path));
      byFolder.set(folder, names);
      // Register every ancestor, so folders holding only sub-folders exist too.
      for (let up = folder; up !== "";) {
        up = parentOf(up);
        if (!byFolder.has(up)) byFolder.set(up, []);
      }
    }
    this.byFolder = byFolder;
  }

  hasFile(path: string): boolean {
    return this.pathSet.has(path);
  }

  hasFolder(folder: string): boolean {
    return this.byFolder.has(folder);
  }

  /** Names of the files directly in `folder`, sorted. */
  filesIn(folder: string): readonly string[] {
    return this.byFolder.get(folder) ?? [];
  }

  /** Every folder at most `maxDepth` below the root (the root included), sorted. */
  foldersUpTo(maxDepth: number): string[] {
    return [...this.byFolder.keys()].filter((folder) => depthOf(folder) <= maxDepth).sort();
  }

  /** Paths inside `folder`, relative to it, at most `maxDepth` folders down (0 = the folder's own files). */
  filesUnder(folder: string, maxDepth: number): string[] {
    const found: string[] = [];
    for (const path of this.paths) {
      const relative = relativeTo(folder, path);
      if (relative !== undefined && relative.split("/").length - 1 <= maxDepth) found.push(relative);
    }
    return found;
  }
}
