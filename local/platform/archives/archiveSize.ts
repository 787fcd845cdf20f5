import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface ArchiveSize {
  readonly files: number;
  /** What counts toward Lambda's 250 MB limit and what a cold start reads. */
  readonly unzippedBytes: number;
  /** Deflate at the default level plus each entry's local and central headers and the end record, as a zip has them. */
  readonly zippedBytes: number;
}

/** The size of an unpacked archive (a function's /var/task) as Lambda receives it. */
export function archiveSize(codeDir: string): ArchiveSize {
  let files = 0;
  let unzippedBytes = 0;
  let zippedBytes = 22;
  const visit = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const archivePath = prefix ? `${prefix}/${entry.name}` : entry.name;
      const diskPath = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(diskPath, archivePath);
      else if (entry.isFile()) {
        const bytes = fs.readFileSync(diskPath);
        const name = Buffer.byteLength(archivePath);
        files++;
        unzippedBytes += bytes.length;
        zippedBytes += Math.min(zlib.deflateRawSync(bytes).length, bytes.length) + 30 + name + 46 + name;
      }
    }
  };
  visit(codeDir, "");
  return { files, unzippedBytes, zippedBytes };
}
