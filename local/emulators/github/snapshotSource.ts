import { promises as fs, lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  listTree,
  normaliseFiles,
  snapshotArchive,
  snapshotObject,
  snapshotOf,
  type FileContent,
  type GitSnapshot,
  type SnapshotFile,
} from "./gitSnapshot";
import { createArchiveCache } from "./archiveCache";
import { API_MODES, type RepositorySource } from "./repositorySource";

/** A repository given in memory: the default branch's files, and optionally more branches and tags. */
export interface MemoryRepository {
  /** Files of the default branch, by posix path. No files and no branches: a repository without commits. */
  readonly files: Readonly<Record<string, FileContent>>;
  /** Default "main". */
  readonly defaultBranch?: string;
  /** Other branches, each with its own files. */
  readonly branches?: Readonly<Record<string, Readonly<Record<string, FileContent>>>>;
  /** Tag name → a branch name or a commit SHA of this repository. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Default true: Slipway deploys private repositories through its App. */
  readonly private?: boolean;
}

/** Commit dates of synthesised commits: fixed, so the same files always make the same commit SHA. */
const SNAPSHOT_DATE = new Date(Date.UTC(2024, 0, 1));

/** Looks commits up by a snapshot per branch; shared by in-memory and plain-folder repositories. */
function sourceOverSnapshots(
  owner: string,
  name: string,
  isPrivate: boolean,
  defaultBranch: string,
  currentBranches: () => Promise<Map<string, GitSnapshot>>,
  tags: Readonly<Record<string, string>>,
): RepositorySource {
  const known = new Map<string, GitSnapshot>(); // every commit ever served, so a SHA stays readable once resolved
  const branches = async () => {
    const current = await currentBranches();
    for (const snapshot of current.values()) known.set(snapshot.commit.sha, snapshot);
    return current;
  };
  const byTree = (treeSha: string) => [...known.values()].find((snapshot) => snapshot.trees.has(treeSha));
  // Reading a plain folder again is the costly part: only when a SHA is not among the commits already served.
  const ensureKnown = async (sha: string) => {
    if (!known.has(sha) && !byTree(sha)) await branches();
  };
  const archives = createArchiveCache();

  const resolveCommit = async (ref: string): Promise<string | undefined> => {
    const current = await branches();
    const branch = ref === "HEAD" ? defaultBranch : ref.replace(/^refs\/heads\//, "");
    const onBranch = current.get(branch);
    if (onBranch) return onBranch.commit.sha;
    const tag = tags[ref.replace(/^refs\/tags\//, "")];
    if (tag !== undefined) return current.get(tag)?.commit.sha ?? (known.has(tag) ? tag : undefined);
    if (/^[0-9a-f]{7,40}$/i.test(ref)) {
      const matches = [...known.keys()].filter((sha) => sha.startsWith(ref.toLowerCase()));
      return matches.length === 1 ? matches[0] : undefined;
    }
    return undefined;
  };

  return {
    owner,
    name,
    private: isPrivate,
    defaultBranch: async () => defaultBranch,
    hasCommits: async () => (await branches()).size > 0,
    resolveCommit,
    async commit(sha) {
      await ensureKnown(sha);
      return known.get(sha)?.commit;
    },
    async tree(sha, recursive) {
      await ensureKnown(sha);
      const byCommit = known.get(sha);
      const treeSha = byCommit ? byCommit.commit.treeSha : sha;
      const snapshot = byCommit ?? byTree(sha);
      const entries = snapshot && listTree(snapshot, treeSha, recursive);
      return entries ? { sha: treeSha, entries } : undefined;
    },
    async objects(commitSha, paths) {
      await ensureKnown(commitSha);
      const snapshot = known.get(commitSha);
      return paths.map((file) => (snapshot ? snapshotObject(snapshot, file) : undefined));
    },
    async archive(commitSha, prefix) {
      await ensureKnown(commitSha);
      const snapshot = known.get(commitSha);
      // snapshotArchive is deterministic (the commit's date on every entry): the same bytes each time it is built.
      return snapshot && archives(commitSha, prefix, async () => snapshotArchive(snapshot, prefix));
    },
  };
}

export function createMemorySource(owner: string, name: string, repository: MemoryRepository): RepositorySource {
  const defaultBranch = repository.defaultBranch ?? "main";
  const fileSets: [string, Readonly<Record<string, FileContent>>][] = [
    [defaultBranch, repository.files],
    ...Object.entries(repository.branches ?? {}).filter(([branch]) => branch !== defaultBranch),
  ];
  const snapshots = new Map<string, GitSnapshot>();
  for (const [branch, files] of fileSets) {
    const normalised = normaliseFiles(files);
    if (normalised.size === 0) continue;
    snapshots.set(branch, snapshotOf(normalised, { message: `${branch} of ${owner}/${name}`, date: SNAPSHOT_DATE }));
  }
  return sourceOverSnapshots(
    owner,
    name,
    repository.private ?? true,
    defaultBranch,
    async () => snapshots,
    repository.tags ?? {},
  );
}

/**
 * A plain folder is one branch, "main", whose commit is hashed from the folder's current content: edit a file and
 * the branch moves to a new commit; commits served earlier stay readable by SHA.
 */
export function createFolderSource(
  owner: string,
  name: string,
  folder: string,
  options: { readonly now?: () => number } = {},
): RepositorySource {
  const now = options.now ?? Date.now;
  // Every API call asks for the branch's commit; reading and hashing every file each time was most of the emulator's
  // CPU. The snapshot is kept while the folder's listing and each entry's stat stay the same (Git's index does the
  // same), and never trusted while an entry changed too recently to tell by its timestamps (below).
  let kept: { readonly stamp: string; readonly branches: Map<string, GitSnapshot> } | undefined;
  const current = async () => {
    const stamp = folderStamp(folder, now());
    if (stamp !== undefined && kept?.stamp === stamp) return kept.branches;
    const files = await readFolder(folder);
    const branches =
      files.size === 0
        ? new Map<string, GitSnapshot>()
        : new Map([["main", snapshotOf(files, { message: `Contents of ${owner}/${name}`, date: SNAPSHOT_DATE })]]);
    kept = stamp === undefined ? undefined : { stamp, branches };
    return branches;
  };
  return sourceOverSnapshots(owner, name, true, "main", current, {});
}

/**
 * Timestamps are only as fine as the file system keeps them: an entry changed this close to a read could change again
 * within the same tick and keep its stat. Git calls such entries "racily clean" and re-reads them; so does this.
 */
const RACY_MS = 2_000;

/**
 * Every path under `root` (as readFolder walks it) with its type, mode, size, inode, mtime and ctime: two equal
 * stamps mean nothing was written, renamed, added or removed in between (ctime moves on every change, and nobody can
 * set it back). Undefined when an entry changed within RACY_MS of `now`, or the folder cannot be read: read it whole.
 * Synchronous on purpose: a few dozen lstat calls of a small local folder cost less CPU than their promises.
 */
export function folderStamp(root: string, now: number): string | undefined {
  const lines: string[] = [];
  const walk = (relative: string): boolean => {
    const entries = readdirSync(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name === ".git") continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      const stat = lstatSync(path.join(root, child));
      if (Math.max(stat.mtimeMs, stat.ctimeMs) > now - RACY_MS) return false;
      lines.push(`${child}\0${stat.mode}\0${stat.size}\0${stat.ino}\0${stat.mtimeMs}\0${stat.ctimeMs}`);
      if (stat.isDirectory() && !walk(child)) return false;
    }
    return true;
  };
  try {
    const rootStat = lstatSync(root);
    if (Math.max(rootStat.mtimeMs, rootStat.ctimeMs) > now - RACY_MS) return undefined;
    return walk("") ? lines.join("\n") : undefined;
  } catch {
    return undefined;
  }
}

async function readFolder(root: string): Promise<Map<string, SnapshotFile>> {
  const files = new Map<string, SnapshotFile>();
  const walk = async (relative: string) => {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      const absolute = path.join(root, child);
      if (entry.isDirectory()) {
        if (entry.name !== ".git") await walk(child);
      } else if (entry.isSymbolicLink()) {
        files.set(child, { mode: API_MODES.symlink, content: Buffer.from(await fs.readlink(absolute), "utf8") });
      } else if (entry.isFile()) {
        const stat = await fs.stat(absolute);
        files.set(child, {
          mode: stat.mode & 0o111 ? API_MODES.executable : API_MODES.file,
          content: await fs.readFile(absolute),
        });
      }
    }
  };
  await walk("");
  return files;
}
