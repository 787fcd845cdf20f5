import { ValidationError } from "../errors";

/**
 * The envelope of every opaque `nextCursor` the API gives out: base64url of a small JSON object. What the object
 * holds is each route's own business; this only packs it and refuses anything the API could not have produced.
 */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The 400 every route answers for a cursor it did not give out. */
export const invalidCursor = () =>
  new ValidationError("cursor", "cursor is not one this API returned; list again without a cursor to start over");

export function encodeOpaqueCursor(value: Readonly<Record<string, unknown>>): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

/** The JSON object a cursor carries, or `invalidCursor()`: too long, bad encoding, not JSON, not an object. */
export function decodeOpaqueCursor(cursor: string, maxLength: number): Record<string, unknown> {
  if (cursor.length > maxLength || !BASE64URL.test(cursor)) throw invalidCursor();
  const bytes = Buffer.from(cursor, "base64url");
  // Node's decoder skips what it cannot read; a cursor must survive the round trip exactly.
  if (bytes.toString("base64url") !== cursor) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  return parsed as Record<string, unknown>;
}
