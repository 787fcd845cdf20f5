import { decodeOpaqueCursor, encodeOpaqueCursor, invalidCursor } from "../api/opaqueCursor";

/** Where a page of `GET /repositories` resumes: an installation id and how many of its repositories were shown. */
export interface RepositoryCursor {
  readonly installationId: number;
  readonly offset: number;
}

const MAX_CURSOR_LENGTH = 200;
/** GitHub lists at most this many repositories per installation we page through (a generous ceiling). */
const MAX_OFFSET = 1_000_000;

/** The opaque `nextCursor`: base64url of `{ "i": installationId, "o": offset }`. */
export function encodeRepositoryCursor(cursor: RepositoryCursor): string {
  return encodeOpaqueCursor({ i: cursor.installationId, o: cursor.offset });
}

/** A cursor this route gave out, or a 400 on `cursor`: anything else (bad encoding, extra keys, non-numbers). */
export function decodeRepositoryCursor(cursor: string): RepositoryCursor {
  const parsed = decodeOpaqueCursor(cursor, MAX_CURSOR_LENGTH);
  const { i, o, ...rest } = parsed;
  const whole = (value: unknown, min: number, max: number) =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
  if (Object.keys(rest).length > 0 || !whole(i, 1, Number.MAX_SAFE_INTEGER) || !whole(o, 0, MAX_OFFSET)) {
    throw invalidCursor();
  }
  return { installationId: i as number, offset: o as number };
}
