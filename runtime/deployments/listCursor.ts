import { ValidationError } from "../errors";
import { DEPLOYMENTS } from "../schema";

/** The attributes of a `byUser` query's LastEvaluatedKey: the table key plus the index keys, nothing else. */
const CURSOR_KEYS = [DEPLOYMENTS.hashKey, DEPLOYMENTS.byUserIndex.hashKey, DEPLOYMENTS.byUserIndex.rangeKey] as const;
type CursorKey = Record<(typeof CURSOR_KEYS)[number], string>;

/** Generous for three short strings; anything longer is not a cursor this API made. */
const MAX_CURSOR_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The opaque `nextCursor` a client hands back: base64url of the key to resume after. */
export function encodeCursor(key: Readonly<Record<string, unknown>>): string {
  const picked: Record<string, unknown> = {};
  for (const name of CURSOR_KEYS) picked[name] = key[name];
  return Buffer.from(JSON.stringify(picked), "utf8").toString("base64url");
}

/**
 * The ExclusiveStartKey a cursor stands for. Anything that is not exactly a key this API could have returned to this
 * user (bad encoding, extra or missing attributes, non-strings, someone else's user id) is a 400 on `cursor`: a
 * crafted key must never let a query start in another user's partition or read an attribute it was not built from.
 */
export function decodeCursor(cursor: string, userId: string): CursorKey {
  const invalid = () =>
    new ValidationError("cursor", "cursor is not one this API returned; list again without a cursor to start over");
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalid();
  const bytes = Buffer.from(cursor, "base64url");
  // Node's decoder skips what it cannot read; a cursor must survive the round trip exactly.
  if (bytes.toString("base64url") !== cursor) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid();
  const entries = Object.entries(parsed);
  const expected = new Set<string>(CURSOR_KEYS);
  if (
    entries.length !== CURSOR_KEYS.length ||
    entries.some(([name, value]) => !expected.has(name) || typeof value !== "string" || value === "")
  ) {
    throw invalid();
  }
  const key = parsed as CursorKey;
  if (key[DEPLOYMENTS.byUserIndex.hashKey] !== userId) throw invalid();
  return key;
}
