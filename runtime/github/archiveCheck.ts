import { Transform, type TransformCallback } from "node:stream";
import { PermanentError, TransientError } from "../errors";

export interface ArchiveCheckOptions {
  /** `owner/name@sha7`, for messages. */
  readonly label: string;
  /** The `content-length` GitHub announced, when it did (codeload streams a fresh archive without one). */
  readonly expectedBytes?: number;
  /** More bytes than this end the transfer with SOURCE_TOO_LARGE. */
  readonly maxBytes: number;
}

/** The end of central directory record: signature, fixed size, and the largest comment it may carry. */
const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
/** Enough tail to hold the EOCD with the longest comment, the ZIP64 locator and the ZIP64 EOCD record. */
const TAIL_BYTES = EOCD_SIZE + 0xffff + ZIP64_LOCATOR_SIZE + 56;

/**
 * Passes a zipball through while counting it, and refuses to end it unless it is whole: as many bytes as GitHub
 * announced, and a ZIP that ends as a ZIP must (the end of central directory record, at its exact place, pointing at
 * a central directory that ends where the record begins — APPNOTE.TXT 4.3.16, and 4.3.14–4.3.15 for ZIP64). A body
 * cut short by the network (which `@octokit/request` would have handed over as an empty or partial buffer) fails
 * here as a TransientError, so the upload it feeds is abandoned and the stream retries; nothing is built from it.
 *
 * Hand-written (no ZIP library): the check needs only the last 64 KiB, and every streaming ZIP reader we looked at
 * parses entries from the front, which costs the whole archive.
 */
export function createArchiveCheck(options: ArchiveCheckOptions): Transform & { bytes(): number } {
  let bytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  const incomplete = (why: string) =>
    new TransientError(
      "SOURCE_DOWNLOAD_INCOMPLETE",
      `The source archive of ${options.label} from GitHub was incomplete (${why}); Slipway downloads it again.`,
    );
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) return callback(tooLarge(options.label, bytes, options.maxBytes, "at least "));
      if (options.expectedBytes !== undefined && bytes > options.expectedBytes) {
        return callback(incomplete(`more than the ${options.expectedBytes} bytes announced`));
      }
      tail = tail.length + chunk.length <= TAIL_BYTES ? Buffer.concat([tail, chunk]) : keepTail(tail, chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (options.expectedBytes !== undefined && bytes !== options.expectedBytes) {
        return callback(incomplete(`${bytes} of ${options.expectedBytes} bytes`));
      }
      const problem = zipTrailerProblem(tail, bytes);
      callback(problem ? incomplete(`${problem} after ${bytes} bytes`) : null);
    },
  });
  return Object.assign(check, { bytes: () => bytes });
}

function keepTail(tail: Buffer, chunk: Buffer): Buffer {
  if (chunk.length >= TAIL_BYTES) return Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES));
  return Buffer.concat([tail.subarray(tail.length + chunk.length - TAIL_BYTES), chunk]);
}

/** SOURCE_TOO_LARGE with the limit in the message (before downloading, or as soon as the transfer passes it). */
export function tooLarge(label: string, bytes: number, limit: number, qualifier = ""): PermanentError {
  const mib = (n: number) => `${Math.ceil(n / 1048576)} MiB`;
  return new PermanentError(
    "SOURCE_TOO_LARGE",
    `${label} is ${qualifier}${mib(bytes)}; Slipway builds sources up to ${mib(limit)}. Remove large files from the ` +
      `repository (or keep them in Git LFS), or deploy a smaller rootDirectory's repository, then deploy again.`,
  );
}

/**
 * Why `tail` (the last bytes of an archive of `total` bytes) is not the end of a whole ZIP, or undefined when it is.
 * Exported for tests.
 */
export function zipTrailerProblem(tail: Buffer, total: number): string | undefined {
  if (tail.length < EOCD_SIZE) return "no ZIP end record";
  // The record is the last EOCD signature whose comment length reaches exactly to the end.
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== EOCD_SIGNATURE) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + EOCD_SIZE + commentLength !== tail.length) continue;
    const position = total - tail.length + at;
    let directorySize = tail.readUInt32LE(at + 12);
    let directoryOffset = tail.readUInt32LE(at + 16);
    let directoryEnd = position;
    if (directorySize === 0xffffffff || directoryOffset === 0xffffffff || tail.readUInt16LE(at + 10) === 0xffff) {
      const locator = at - ZIP64_LOCATOR_SIZE;
      if (locator < 0 || tail.readUInt32LE(locator) !== ZIP64_LOCATOR_SIGNATURE) return "no ZIP64 locator";
      const recordPosition = Number(tail.readBigUInt64LE(locator + 8));
      const record = recordPosition - (total - tail.length);
      if (record < 0 || record + 56 > tail.length || tail.readUInt32LE(record) !== ZIP64_EOCD_SIGNATURE) {
        return "no ZIP64 end record";
      }
      directorySize = Number(tail.readBigUInt64LE(record + 40));
      directoryOffset = Number(tail.readBigUInt64LE(record + 48));
      directoryEnd = recordPosition;
    }
    if (directoryOffset + directorySize !== directoryEnd) return "a ZIP end record that does not match its directory";
    return undefined;
  }
  return "no ZIP end record";
}
