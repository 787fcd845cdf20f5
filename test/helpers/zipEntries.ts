import AdmZip from "adm-zip";

export interface ZipListing {
  readonly path: string;
  readonly size: number;
  /** Unix mode with type bits, from the entry's external attributes (0 when the archive has none). */
  readonly mode: number;
  readonly content: Buffer;
}

/** An archive's entries in order and its comment, read with adm-zip (as tests check what an emulator served). */
export function readZip(archive: Uint8Array): { entries: ZipListing[]; comment: string } {
  const zip = new AdmZip(Buffer.from(archive));
  const entries = zip.getEntries().map((entry) => {
    const content = entry.isDirectory ? Buffer.alloc(0) : entry.getData();
    return { path: entry.entryName, size: content.length, mode: entry.attr >>> 16, content };
  });
  return { entries, comment: zip.getZipComment() };
}
