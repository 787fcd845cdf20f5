import { promises as fs, readdirSync } from "node:fs";
import path from "node:path";
import { createGitCheckoutSource } from "./gitCheckoutSource";
import type { RepositorySource } from "./repositorySource";
import { createFolderSource, createMemorySource, type MemoryRepository } from "./snapshotSource";

export interface RepositoryCatalogOptions {
  /** A folder laid out `<root>/<owner>/<name>/`; each repository a plain folder or a git checkout. Read on demand. */
  readonly root?: string;
  /** `"owner/name"` → repository, taking precedence over a folder of the same name. */
  readonly repositories?: Readonly<Record<string, MemoryRepository>>;
}

export interface RepositoryCatalog {
  /** Case-insensitive, as GitHub is. */
  find(owner: string, name: string): Promise<RepositorySource | undefined>;
  /** Every owner with at least one repository. */
  owners(): Promise<string[]>;
  repositoriesOf(owner: string): Promise<RepositorySource[]>;
  add(fullName: string, repository: MemoryRepository): void;
}

export function createRepositoryCatalog(options: RepositoryCatalogOptions): RepositoryCatalog {
  const memory = new Map<string, RepositorySource>(); // lower-case "owner/name" → source
  const folders = new Map<string, RepositorySource>(); // absolute folder → source, so served commits stay known

  const add = (fullName: string, repository: MemoryRepository) => {
    const [owner, name, ...rest] = fullName.split("/");
    if (!owner || !name || rest.length > 0) throw new Error(`Repository names are "owner/name"; got "${fullName}"`);
    memory.set(fullName.toLowerCase(), createMemorySource(owner, name, repository));
  };
  for (const [fullName, repository] of Object.entries(options.repositories ?? {})) add(fullName, repository);

  const folderSource = async (owner: string, name: string, folder: string): Promise<RepositorySource> => {
    const existing = folders.get(folder);
    if (existing) return existing;
    const isCheckout = await exists(path.join(folder, ".git"));
    const source = isCheckout ? createGitCheckoutSource(owner, name, folder) : createFolderSource(owner, name, folder);
    folders.set(folder, source);
    return source;
  };

  const onDisk = async (): Promise<{ owner: string; name: string; folder: string }[]> => {
    if (!options.root) return [];
    const found: { owner: string; name: string; folder: string }[] = [];
    for (const owner of await subfolders(options.root)) {
      for (const name of await subfolders(path.join(options.root, owner))) {
        found.push({ owner, name, folder: path.join(options.root, owner, name) });
      }
    }
    return found;
  };

  const all = async (): Promise<RepositorySource[]> => {
    const sources = [...memory.values()];
    for (const { owner, name, folder } of await onDisk()) {
      if (!memory.has(`${owner}/${name}`.toLowerCase())) sources.push(await folderSource(owner, name, folder));
    }
    return sources;
  };

  return {
    async find(owner, name) {
      const key = `${owner}/${name}`.toLowerCase();
      const inMemory = memory.get(key);
      if (inMemory) return inMemory;
      const match = (await onDisk()).find((entry) => `${entry.owner}/${entry.name}`.toLowerCase() === key);
      return match && folderSource(match.owner, match.name, match.folder);
    },
    async owners() {
      const byKey = new Map<string, string>();
      for (const source of await all()) byKey.set(source.owner.toLowerCase(), source.owner);
      return [...byKey.values()];
    },
    async repositoriesOf(owner) {
      return (await all()).filter((source) => source.owner.toLowerCase() === owner.toLowerCase());
    },
    add,
  };
}

/** Synchronous: every API call looks its repository up here, and one readdir costs less CPU than its promise. */
async function subfolders(folder: string): Promise<string[]> {
  try {
    const entries = readdirSync(folder, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith(".")).map((entry) => entry.name);
  } catch {
    return [];
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
