import zlib from "node:zlib";

export interface ZipEntry {
  /** Posix path inside the archive; folders end with "/". */
  readonly path: string;
  /** File bytes (for a symbolic link: its target). Absent for folders. */
  readonly content?: Uint8Array;
  /** Unix mode with type bits: 0o100644, 0o100755, 0o120777 (link), 0o40755 (folder). */
  readonly mode?: number;
  readonly modifiedAt?: Date;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const UTF8_NAMES = 0x0800;
const STORED = 0;
const DEFLATED = 8;
/** "Made by" Unix (3) with spec version 3.0, so unzip restores the modes kept in the external attributes. */
const MADE_BY_UNIX = (3 << 8) | 30;
const NEEDS_VERSION = 20;

/**
 * A ZIP archive, as GitHub's zipball and `git archive --format=zip` write it: one entry per folder and file, deflated
 * when that makes it smaller, Unix modes kept, and the archive comment free for the commit SHA. No ZIP64: the
 * emulator serves test repositories, far below 4 GiB and 65,535 entries.
 */
export function createZip(entries: readonly ZipEntry[], comment = ""): Buffer {
  if (entries.length > 0xffff) throw new Error(`createZip supports up to 65535 entries, not ${entries.length}`);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.path, "utf8");
    const isFolder = entry.path.endsWith("/");
    const raw = Buffer.from(entry.content ?? new Uint8Array(0));
    const deflated = raw.length > 0 ? zlib.deflateRawSync(raw) : raw;
    const method = deflated.length < raw.length ? DEFLATED : STORED;
    const data = method === DEFLATED ? deflated : raw;
    if (raw.length >= 0xffffffff || offset >= 0xffffffff) throw new Error("createZip does not write ZIP64 archives");
    const crc = zlib.crc32(raw) >>> 0;
    const { time, date } = dosDateTime(entry.modifiedAt ?? new Date(Date.UTC(1980, 0, 1)));
    const mode = entry.mode ?? (isFolder ? 0o40755 : 0o100644);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(NEEDS_VERSION, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, data);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_HEADER, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(NEEDS_VERSION, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: all 0
    central.writeUInt32LE((((mode & 0xffff) << 16) | (isFolder ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + data.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  const commentBytes = Buffer.from(comment, "utf8");
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(commentBytes.length, 20);
  return Buffer.concat([...locals, centralDirectory, end, commentBytes]);
}

export interface ZipListing {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
  readonly content: Buffer;
}

/**
 * Reads an archive through its central directory (the way unzip does), inflating every entry. For tests and
 * tools that check what an emulator served; it handles the archives `createZip` and `git archive` write.
 */
export function readZip(archive: Uint8Array): { entries: ZipListing[]; comment: string } {
  const buffer = Buffer.from(archive);
  let end = -1;
  for (let at = buffer.length - 22; at >= Math.max(0, buffer.length - 22 - 0xffff); at--) {
    if (buffer.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error("Not a ZIP archive: no end-of-central-directory record");
  const count = buffer.readUInt16LE(end + 10);
  let at = buffer.readUInt32LE(end + 16);
  const comment = buffer.subarray(end + 22, end + 22 + buffer.readUInt16LE(end + 20)).toString("utf8");
  const entries: ZipListing[] = [];
  for (let index = 0; index < count; index++) {
    if (buffer.readUInt32LE(at) !== CENTRAL_HEADER) throw new Error(`Corrupt ZIP central directory at ${at}`);
    const method = buffer.readUInt16LE(at + 10);
    const crc = buffer.readUInt32LE(at + 16);
    const compressedSize = buffer.readUInt32LE(at + 20);
    const size = buffer.readUInt32LE(at + 24);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const mode = buffer.readUInt32LE(at + 38) >>> 16;
    const localOffset = buffer.readUInt32LE(at + 42);
    const path = buffer.subarray(at + 46, at + 46 + nameLength).toString("utf8");
    const dataStart = localOffset + 30 + buffer.readUInt16LE(localOffset + 26) + buffer.readUInt16LE(localOffset + 28);
    const data = buffer.subarray(dataStart, dataStart + compressedSize);
    const content = method === DEFLATED ? zlib.inflateRawSync(data) : Buffer.from(data);
    if (content.length !== size || zlib.crc32(content) >>> 0 !== crc) throw new Error(`Corrupt ZIP entry ${path}`);
    entries.push({ path, size, mode, content });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return { entries, comment };
}

function dosDateTime(when: Date): { time: number; date: number } {
  const year = Math.min(Math.max(when.getUTCFullYear(), 1980), 2107);
  return {
    time: (when.getUTCHours() << 11) | (when.getUTCMinutes() << 5) | Math.floor(when.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((when.getUTCMonth() + 1) << 5) | when.getUTCDate(),
  };
}
