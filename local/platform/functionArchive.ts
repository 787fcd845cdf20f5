import * as fs from "node:fs";
import * as path from "node:path";

/** A function's deployment archive as Pulumi built it: the serialized handler and the folders packed beside it. */
export interface FunctionArchive {
  readonly functionName: string;
  /** The text of `__index.js`. */
  readonly index: string;
  /** Archive path (e.g. `node_modules/@octokit/request`) → the folder on disk it is packed from. */
  readonly folders: ReadonlyMap<string, string>;
}

type ArchiveAssets = Record<string, { text?: Promise<string> | string; path?: Promise<string> | string }>;

/**
 * Reads the archive out of a Lambda function's `code` input as the mock monitor receives it: an AssetArchive whose
 * `__index.js` is a StringAsset and whose packages are FileArchives (their text and paths are promises).
 */
export async function readFunctionArchive(functionName: string, code: unknown): Promise<FunctionArchive> {
  const assets = (await (code as { assets?: Promise<ArchiveAssets> | ArchiveAssets }).assets) ?? {};
  let index: string | undefined;
  const folders = new Map<string, string>();
  for (const [name, asset] of Object.entries(assets)) {
    if (name === "__index.js") index = await asset.text;
    else folders.set(name, path.resolve(String(await asset.path)));
  }
  if (index === undefined) throw new Error(`${functionName}'s archive has no __index.js`);
  return { functionName, index, folders };
}

/**
 * Lays the archive out in `dir` as Lambda unpacks it into /var/task: `__index.js` and the packed folders, copied so
 * that nothing outside the archive can be resolved from them. Replaces what a previous run left there.
 */
export function unpackArchive(archive: FunctionArchive, dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "__index.js"), archive.index);
  for (const [archivePath, folder] of archive.folders) {
    fs.cpSync(folder, path.join(dir, archivePath), { recursive: true, dereference: true });
  }
}
