import { lstat, readdir, readFile } from "fs/promises";
import { join } from "path";
import type { RepoFileSystem } from "./fileSystem";

/**
 * Folders a checkout holds that are not part of the repository's source: VCS data, installed dependencies, virtual
 * environments, build caches. Skipping them keeps a walk of a developer's working copy fast and its listing close to
 * what GitHub's tree of the same commit would show. (An array: a module-level Set reaches Lambda empty.)
 */
export const IGNORED_LOCAL_FOLDERS: readonly string[] = [
  ".git",
  ".hg",
  ".svn",
  "node_modules",
  "bower_components",
  "jspm_packages",
  "vendor",
  ".venv",
  "venv",
  "__pycache__",
  ".tox",
  ".gradle",
  ".next",
  ".nuxt",
  ".svelte-kit",
  ".turbo",
  ".cache",
];

/** Larger files are treated like binaries (absent): no manifest a rule reads is anywhere near this size. */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * A folder on disk. Symbolic links are not followed (a link may point outside the folder or loop), and files that
 * look binary (a NUL byte in the first 8 KB) or exceed 1 MiB read as absent, like the GitHub backend's binaries.
 */
export function createLocalFileSystem(dir: string): RepoFileSystem {
  const walk = async (relative: string, into: string[]): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!IGNORED_LOCAL_FOLDERS.includes(entry.name)) await walk(path, into);
      } else if (entry.isFile()) {
        into.push(path);
      }
    }
  };
  let listing: Promise<readonly string[]> | undefined;

  const readText = async (path: string): Promise<string | undefined> => {
    // Refuses to leave the folder, whatever the caller passes.
    if (path.split("/").some((part) => part === ".." || part === "")) return undefined;
    const full = join(dir, path);
    try {
      const stat = await lstat(full);
      if (!stat.isFile() || stat.size > MAX_TEXT_BYTES) return undefined;
      const bytes = await readFile(full);
      if (bytes.subarray(0, 8192).includes(0)) return undefined;
      return bytes.toString("utf8");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT" || (error as { code?: unknown }).code === "ENOTDIR") {
        return undefined;
      }
      throw error;
    }
  };

  return {
    listFiles: () => {
      listing ??= (async () => {
        const paths: string[] = [];
        await walk("", paths);
        return paths.sort();
      })();
      return listing;
    },
    readFiles: async (paths) => {
      const found = new Map<string, string>();
      const texts = await Promise.all(paths.map(readText));
      paths.forEach((path, index) => {
        const text = texts[index];
        if (text !== undefined) found.set(path, text);
      });
      return found;
    },
  };
}
