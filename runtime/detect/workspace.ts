import { evidence, type Evidence } from "./evidence";
import type { FolderFacts } from "./folderFacts";
import { APP_MARKERS, isExcludedFolder, WORKSPACE_MARKERS } from "./folderNames";
import { globToRegExp } from "./glob";
import { parseLernaPackages, parsePnpmWorkspace } from "./parse/workspaceConfig";
import { normalizeRepoPath } from "./repoPath";
import type { RepoTree } from "./repoTree";

/** A repository root that gathers several packages: where its members are and what says so. */
export interface Workspace {
  /** Member globs from every workspace declaration at the root (JavaScript and uv alike). */
  readonly globs: readonly string[];
  readonly evidence: readonly Evidence[];
}

/**
 * The root's workspace, if any. JavaScript: `pnpm-workspace.yaml` packages, package.json `workspaces`, lerna.json,
 * or an nx/turbo config (which lists no globs: the folders are searched instead). Python: `[tool.uv.workspace]`.
 * An empty list declares nothing, and a pnpm-workspace.yaml holding only settings is not a workspace.
 */
export function findWorkspace(root: FolderFacts): Workspace | undefined {
  const globs: string[] = [];
  const found: Evidence[] = [];
  const pnpmText = root.read("pnpm-workspace.yaml");
  const pnpm = pnpmText === undefined ? undefined : parsePnpmWorkspace(pnpmText);
  if (pnpm !== undefined && pnpm.length > 0) {
    globs.push(...pnpm);
    found.push(evidence("pnpm-workspace.yaml", `pnpm workspace: ${pnpm.join(", ")}`));
  }
  const npm = root.packageJson?.workspaces;
  if (npm !== undefined && npm.length > 0) {
    globs.push(...npm);
    found.push(evidence("package.json", `workspaces: ${npm.join(", ")}`, root.packageJson?.workspacesLine));
  }
  const lernaText = root.read("lerna.json");
  if (lernaText !== undefined) {
    const lerna = parseLernaPackages(lernaText);
    globs.push(...lerna);
    found.push(evidence("lerna.json", `Lerna packages: ${lerna.join(", ")}`));
  }
  const uv = root.pyproject?.uvWorkspaceMembers;
  if (uv !== undefined && uv.length > 0) {
    globs.push(...uv);
    found.push(evidence("pyproject.toml", `uv workspace members: ${uv.join(", ")}`));
  }
  for (const marker of WORKSPACE_MARKERS.filter((name) => name !== "pnpm-workspace.yaml" && name !== "lerna.json")) {
    if (root.tree.hasFile(marker)) found.push(evidence(marker, `${marker} configures a monorepo`));
  }
  return found.length > 0 ? { globs: [...new Set(globs)], evidence: found } : undefined;
}

/**
 * Folders the globs select that hold an app marker. `!pattern` entries exclude (pnpm); test and fixture folders are
 * skipped even when a glob reaches them, examples are not (a workspace that lists its examples means them).
 */
export function workspaceMembers(tree: RepoTree, globs: readonly string[]): string[] {
  const include = globs.filter((g) => !g.startsWith("!")).map((g) => globToRegExp(normalizeRepoPath(g)));
  const exclude = globs.filter((g) => g.startsWith("!")).map((g) => globToRegExp(normalizeRepoPath(g.slice(1))));
  return tree
    .foldersUpTo(Number.MAX_SAFE_INTEGER)
    .filter(
      (folder) =>
        folder !== "" &&
        include.some((pattern) => pattern.test(folder)) &&
        !exclude.some((pattern) => pattern.test(folder)) &&
        !isExcludedFolder(folder, { allowExamples: true }) &&
        tree.filesIn(folder).some((name) => APP_MARKERS.includes(name)),
    );
}

/** How deep a repository without a usable workspace list is searched for its app. */
export const SEARCH_DEPTH = 3;

/** Folders up to `SEARCH_DEPTH` below the root holding an app marker, minus vendored, test and example folders. */
export function searchFolders(tree: RepoTree): string[] {
  return tree
    .foldersUpTo(SEARCH_DEPTH)
    .filter(
      (folder) =>
        folder !== "" &&
        !isExcludedFolder(folder, { allowExamples: false }) &&
        tree.filesIn(folder).some((name) => APP_MARKERS.includes(name)),
    );
}
