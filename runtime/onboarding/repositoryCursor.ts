import { ValidationError } from "../errors";

/** Where a page of `GET /repositories` resumes: an installation id and how many of its repositories were shown. */
export interface RepositoryCursor {
  readonly installationId: number;
  readonly offset: number;
}

const MAX_CURSOR_LENGTH = 200;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** GitHub lists at most this many repositories per installation we page through (a generous ceiling). */
const MAX_OFFSET = 1_000_000;

/** The opaque `nextCursor`: base64url of `{ "i": installationId, "o": offset }`. */
export function encodeRepositoryCursor(cursor: RepositoryCursor): string {
  return Buffer.from(JSON.stringify({ i: cursor.installationId, o: cursor.offset }), "utf8").toString("base64url");
}

/** A cursor this route gave out, or a 400 on `cursor`: anything else (bad encoding, extra keys, non-numbers). */
export function decodeRepositoryCursor(cursor: string): RepositoryCursor {
  const invalid = () =>
    new ValidationError("cursor", "cursor is not one this API returned; list again without a cursor to start over");
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
  const bytes = Buffer.from(cursor, "base64url");
  if (bytes.toString("base64url") !== cursor) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid();
  const { i, o, ...rest } = parsed as Record<string, unknown>;
  const whole = (value: unknown, min: number, max: number) =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
  if (Object.keys(rest).length > 0 || !whole(i, 1, Number.MAX_SAFE_INTEGER) || !whole(o, 0, MAX_OFFSET)) {
    throw invalid();
  }
  return { installationId: i as number, offset: o as number };
}
