/** What the GitHub emulator needs from a repository, whether it lives in memory, in a plain folder or in a git checkout. */
export interface RepositorySource {
  /** Canonical spelling (GitHub matches owner and name case-insensitively). */
  readonly owner: string;
  readonly name: string;
  readonly private: boolean;
  defaultBranch(): Promise<string>;
  /** False for a repository without commits, which GitHub answers with 409 "Git Repository is empty.". */
  hasCommits(): Promise<boolean>;
  /** The commit a branch, tag, full or abbreviated SHA, `refs/heads/…`, `refs/tags/…` or `HEAD` names. */
  resolveCommit(ref: string): Promise<string | undefined>;
  commit(sha: string): Promise<CommitInfo | undefined>;
  /** A tree named by a commit SHA or a tree SHA: the tree's own SHA and its entries (every descendant when recursive). */
  tree(sha: string, recursive: boolean): Promise<{ sha: string; entries: TreeEntry[] } | undefined>;
  /** The objects at `<commitSha>:<path>` for each path; undefined where nothing is. */
  objects(commitSha: string, paths: readonly string[]): Promise<(RepositoryObject | undefined)[]>;
  /** The commit as a ZIP whose entries all sit under `prefix` (which ends with "/"). */
  archive(commitSha: string, prefix: string): Promise<Buffer | undefined>;
}

/** An entry of a Git tree as GitHub's Git Trees API lists it. */
export interface TreeEntry {
  readonly path: string;
  /** "100644", "100755", "120000" (link), "040000" (folder), "160000" (submodule). */
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly sha: string;
  /** Blobs only. */
  readonly size?: number;
}

export interface Signature {
  readonly name: string;
  readonly email: string;
  /** ISO-8601. */
  readonly date: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly treeSha: string;
  readonly parents: readonly string[];
  readonly author: Signature;
  readonly committer: Signature;
  readonly message: string;
}

export type RepositoryObject =
  | { readonly type: "blob"; readonly sha: string; readonly content: Buffer }
  | { readonly type: "tree"; readonly sha: string }
  | { readonly type: "commit"; readonly sha: string };

/** Git's own modes as GitHub spells them in API answers (git writes folders as "40000" inside tree objects). */
export const API_MODES = {
  file: "100644",
  executable: "100755",
  symlink: "120000",
  folder: "040000",
  submodule: "160000",
} as const;

/** Refs GitHub would accept: no option-looking or relative spellings reach `git`. */
export function isPlausibleRef(ref: string): boolean {
  return /^[A-Za-z0-9._/@+-]+$/.test(ref) && !ref.startsWith("-") && !ref.includes("..") && !ref.includes("@{");
}
