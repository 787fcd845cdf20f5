import { createHash } from "node:crypto";
import AdmZip from "adm-zip";
import { API_MODES, type CommitInfo, type RepositoryObject, type TreeEntry } from "./repositorySource";

/** A file of an in-memory repository: its text or bytes, or those with how Git should store it. */
export type FileContent =
  | string
  | Uint8Array
  | { readonly content: string | Uint8Array; readonly executable?: boolean; readonly symlink?: boolean };

export interface SnapshotFile {
  readonly mode: string;
  readonly content: Buffer;
}

/**
 * One commit of a repository that is not a git checkout, hashed exactly as Git would hash the same files: blob and
 * tree SHAs are real Git object ids, so the same content always gets the same SHAs, across runs and machines.
 */
export interface GitSnapshot {
  readonly commit: CommitInfo;
  /** Tree SHA → its direct entries (names, not paths), in Git's order. */
  readonly trees: ReadonlyMap<string, readonly TreeEntry[]>;
  /** Blob SHA → content. */
  readonly blobs: ReadonlyMap<string, Buffer>;
  /** File path → its blob SHA and mode. */
  readonly files: ReadonlyMap<string, { readonly sha: string; readonly mode: string }>;
  /** Folder path ("" for the root) → its tree SHA. */
  readonly folders: ReadonlyMap<string, string>;
}

export interface SnapshotMetadata {
  readonly message: string;
  /** Author and committer date. */
  readonly date: Date;
  readonly author?: { readonly name: string; readonly email: string };
  readonly parents?: readonly string[];
}

const DEFAULT_AUTHOR = { name: "Slipway Emulator", email: "emulator@slipway.invalid" };

export function normaliseFiles(files: Readonly<Record<string, FileContent>>): Map<string, SnapshotFile> {
  const normalised = new Map<string, SnapshotFile>();
  for (const [rawPath, value] of Object.entries(files)) {
    const path = rawPath.replace(/^\.?\/+/, "");
    if (
      !path ||
      path.endsWith("/") ||
      path.split("/").some((part) => part === "" || part === "." || part === ".." || part === ".git")
    ) {
      throw new Error(
        `Invalid repository file path "${rawPath}": use a relative posix path without "..", "." or ".git"`,
      );
    }
    const spec = typeof value === "string" || value instanceof Uint8Array ? { content: value } : value;
    const mode =
      "symlink" in spec && spec.symlink
        ? API_MODES.symlink
        : "executable" in spec && spec.executable
          ? API_MODES.executable
          : API_MODES.file;
    normalised.set(path, { mode, content: Buffer.from(spec.content) });
  }
  return normalised;
}

export function snapshotOf(files: ReadonlyMap<string, SnapshotFile>, metadata: SnapshotMetadata): GitSnapshot {
  const blobs = new Map<string, Buffer>();
  const fileIndex = new Map<string, { sha: string; mode: string }>();
  const trees = new Map<string, TreeEntry[]>();
  const folders = new Map<string, string>();

  // Folder path → names of the files and folders directly inside it.
  const children = new Map<string, Map<string, { kind: "file" | "folder"; path: string }>>([["", new Map()]]);
  for (const path of files.keys()) {
    const parts = path.split("/");
    for (let depth = 0; depth < parts.length; depth++) {
      const parent = parts.slice(0, depth).join("/");
      const own = parts.slice(0, depth + 1).join("/");
      const isFile = depth === parts.length - 1;
      const siblings = children.get(parent) ?? new Map();
      children.set(parent, siblings);
      const existing = siblings.get(parts[depth]!);
      if (existing && (existing.kind === "file") !== isFile) {
        throw new Error(`"${own}" is both a file and a folder in the repository's files`);
      }
      siblings.set(parts[depth]!, { kind: isFile ? "file" : "folder", path: own });
      if (!isFile && !children.has(own)) children.set(own, new Map());
    }
  }

  const hashFolder = (folder: string): string => {
    const entries: TreeEntry[] = [];
    for (const [name, child] of children.get(folder) ?? new Map<string, { kind: "file" | "folder"; path: string }>()) {
      if (child.kind === "file") {
        const file = files.get(child.path)!;
        const sha = gitObjectId("blob", file.content);
        blobs.set(sha, file.content);
        fileIndex.set(child.path, { sha, mode: file.mode });
        entries.push({ path: name, mode: file.mode, type: "blob", sha, size: file.content.length });
      } else {
        entries.push({ path: name, mode: API_MODES.folder, type: "tree", sha: hashFolder(child.path) });
      }
    }
    entries.sort((a, b) => Buffer.compare(treeSortKey(a), treeSortKey(b)));
    const body = Buffer.concat(
      entries.flatMap((entry) => [
        Buffer.from(`${entry.mode.replace(/^0+/, "")} ${entry.path}\0`, "utf8"),
        Buffer.from(entry.sha, "hex"),
      ]),
    );
    const sha = gitObjectId("tree", body);
    trees.set(sha, entries);
    folders.set(folder, sha);
    return sha;
  };
  const treeSha = hashFolder("");

  const author = metadata.author ?? DEFAULT_AUTHOR;
  const seconds = Math.floor(metadata.date.getTime() / 1000);
  const signature = `${author.name} <${author.email}> ${seconds} +0000`;
  const parents = metadata.parents ?? [];
  const message = metadata.message.endsWith("\n") ? metadata.message : `${metadata.message}\n`;
  const commitBody =
    `tree ${treeSha}\n` +
    parents.map((parent) => `parent ${parent}\n`).join("") +
    `author ${signature}\ncommitter ${signature}\n\n${message}`;
  const date = new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
  const commit: CommitInfo = {
    sha: gitObjectId("commit", Buffer.from(commitBody, "utf8")),
    treeSha,
    parents,
    author: { ...author, date },
    committer: { ...author, date },
    message,
  };
  return { commit, trees, blobs, files: fileIndex, folders };
}

/** The entries under a tree of the snapshot, as paths relative to it; recursive lists folders before their contents. */
export function listTree(snapshot: GitSnapshot, treeSha: string, recursive: boolean): TreeEntry[] | undefined {
  const direct = snapshot.trees.get(treeSha);
  if (!direct) return undefined;
  if (!recursive) return [...direct];
  const listed: TreeEntry[] = [];
  const walk = (sha: string, prefix: string) => {
    for (const entry of snapshot.trees.get(sha) ?? []) {
      listed.push({ ...entry, path: prefix + entry.path });
      if (entry.type === "tree") walk(entry.sha, `${prefix}${entry.path}/`);
    }
  };
  walk(treeSha, "");
  return listed;
}

export function snapshotObject(snapshot: GitSnapshot, path: string): RepositoryObject | undefined {
  const clean = path.replace(/^\/+|\/+$/g, "");
  const folder = snapshot.folders.get(clean);
  if (folder) return { type: "tree", sha: folder };
  const file = snapshot.files.get(clean);
  if (!file) return undefined;
  return { type: "blob", sha: file.sha, content: snapshot.blobs.get(file.sha)! };
}

/**
 * The commit as GitHub's zipball: a folder entry, then every folder and file under `prefix`, Unix modes kept (links
 * as 0o120777 entries holding their target), the SHA as the archive comment. adm-zip writes it synchronously.
 */
export function snapshotArchive(snapshot: GitSnapshot, prefix: string): Buffer {
  const modifiedAt = new Date(snapshot.commit.committer.date);
  const zip = new AdmZip();
  const add = (path: string, mode: number, content: Uint8Array = new Uint8Array(0)) => {
    const entry = zip.addFile(path, Buffer.from(content));
    // External attributes: the Unix mode with its type bits above, the MS-DOS folder flag below.
    entry.attr = (((mode & 0xffff) << 16) | (path.endsWith("/") ? 0x10 : 0)) >>> 0;
    entry.header.time = modifiedAt;
  };
  add(prefix, 0o40755);
  for (const entry of listTree(snapshot, snapshot.commit.treeSha, true) ?? []) {
    if (entry.type === "tree") {
      add(`${prefix}${entry.path}/`, 0o40755);
    } else if (entry.type === "blob") {
      const mode =
        entry.mode === API_MODES.symlink ? 0o120777 : entry.mode === API_MODES.executable ? 0o100755 : 0o100644;
      add(prefix + entry.path, mode, snapshot.blobs.get(entry.sha)!);
    }
  }
  zip.addZipComment(snapshot.commit.sha);
  return zip.toBuffer();
}

export function gitObjectId(type: "blob" | "tree" | "commit", body: Buffer): string {
  return createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest("hex");
}

/** Git sorts tree entries by name bytes, comparing a folder as if its name ended in "/". */
function treeSortKey(entry: TreeEntry): Buffer {
  return Buffer.from(entry.type === "tree" ? `${entry.path}/` : entry.path, "utf8");
}
