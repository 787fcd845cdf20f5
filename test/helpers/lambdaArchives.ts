import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import type { RecordedResource } from "./pulumiMocks";

/** A function's deployment archive as Pulumi built it: the serialized handler and the folders packed beside it. */
export interface FunctionArchive {
  readonly functionName: string;
  /** The text of `__index.js`. */
  readonly index: string;
  /** Archive path (e.g. `node_modules/@octokit/request`) → folder on disk it is packed from. */
  readonly folders: ReadonlyMap<string, string>;
}

/** Reads the archive out of a recorded `aws:lambda/function:Function` (its `code` input is an AssetArchive). */
export async function functionArchive(resource: RecordedResource): Promise<FunctionArchive> {
  const assets = (await resource.inputs.code.assets) as Record<
    string,
    { text?: Promise<string>; path?: Promise<string> }
  >;
  let index: string | undefined;
  const folders = new Map<string, string>();
  for (const [name, asset] of Object.entries(assets)) {
    if (name === "__index.js") index = await asset.text;
    else folders.set(name, path.resolve(await asset.path!));
  }
  if (index === undefined) throw new Error(`${resource.name} has no __index.js`);
  return { functionName: resource.name, index, folders };
}

function* filesUnder(folder: string, prefix: string): Generator<{ archivePath: string; diskPath: string }> {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const diskPath = path.join(folder, entry.name);
    const archivePath = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* filesUnder(diskPath, archivePath);
    else if (entry.isFile()) yield { archivePath, diskPath };
  }
}

/** Every file in the archive with its bytes. */
export function archiveFiles(archive: FunctionArchive): { archivePath: string; bytes: Buffer }[] {
  const files = [{ archivePath: "__index.js", bytes: Buffer.from(archive.index) }];
  for (const [archivePath, folder] of archive.folders) {
    for (const file of filesUnder(folder, archivePath))
      files.push({ archivePath: file.archivePath, bytes: fs.readFileSync(file.diskPath) });
  }
  return files;
}

/**
 * Sizes as Lambda sees them: unzipped (what counts toward the 250 MB limit and cold start) and zipped (deflate at
 * the default level, plus each entry's local and central headers and the end record, as a zip file has them).
 */
export function archiveSize(archive: FunctionArchive): { files: number; unzippedBytes: number; zippedBytes: number } {
  const files = archiveFiles(archive);
  let unzippedBytes = 0;
  let zippedBytes = 22;
  for (const { archivePath, bytes } of files) {
    unzippedBytes += bytes.length;
    const name = Buffer.byteLength(archivePath);
    zippedBytes += Math.min(zlib.deflateRawSync(bytes).length, bytes.length) + 30 + name + 46 + name;
  }
  return { files: files.length, unzippedBytes, zippedBytes };
}

/**
 * Lays the archive out in `dir` as Lambda would unpack it: `__index.js` and the packed folders (copied, so nothing
 * outside the archive can be resolved from them).
 */
export function unpackArchive(archive: FunctionArchive, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "__index.js"), archive.index);
  for (const [archivePath, folder] of archive.folders) {
    fs.cpSync(folder, path.join(dir, archivePath), { recursive: true, dereference: true });
  }
}

/** Moved to the local platform, which builds the same folder for `npm start`; re-exported for existing tests. */
export { lambdaRuntimeModules } from "../../local/platform/lambda/lambdaRuntimeModules";
