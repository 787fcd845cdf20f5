/** Posix path helpers for repository-relative paths ("" is the repository root). */

/** "./a//b/" → "a/b"; "/" and "." → "". Backslashes are not separators: Git paths are posix. */
export function normalizeRepoPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  return parts.join("/");
}

/** The folder holding `path` ("" for a top-level file). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function joinPath(folder: string, relative: string): string {
  if (folder === "") return relative;
  if (relative === "") return folder;
  return `${folder}/${relative}`;
}

/** Number of folders between the root and `folder`: "" → 0, "apps/web" → 2. */
export function depthOf(folder: string): number {
  return folder === "" ? 0 : folder.split("/").length;
}

/** `path` relative to `folder`, or undefined when it is not inside it. */
export function relativeTo(folder: string, path: string): string | undefined {
  if (folder === "") return path;
  return path.startsWith(folder + "/") ? path.slice(folder.length + 1) : undefined;
}

/** The folders from `folder` up to the root, nearest first: "a/b" → ["a/b", "a", ""]. */
export function selfAndAncestors(folder: string): string[] {
  const chain = [folder];
  let current = folder;
  while (current !== "") {
    current = parentOf(current);
    chain.push(current);
  }
  return chain;
}

/** Whether `folder` is `ancestor` or lies inside it. */
export function isWithin(folder: string, ancestor: string): boolean {
  return ancestor === "" || folder === ancestor || folder.startsWith(ancestor + "/");
}
