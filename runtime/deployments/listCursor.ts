import { decodeOpaqueCursor, encodeOpaqueCursor, invalidCursor } from "../api/opaqueCursor";
import { DEPLOYMENTS } from "../schema";

/** The attributes of a `byUser` query's LastEvaluatedKey: the table key plus the index keys, nothing else. */
const CURSOR_KEYS = [DEPLOYMENTS.hashKey, DEPLOYMENTS.byUserIndex.hashKey, DEPLOYMENTS.byUserIndex.rangeKey] as const;
type CursorKey = Record<(typeof CURSOR_KEYS)[number], string>;

/** Generous for three short strings; anything longer is not a cursor this API made. */
const MAX_CURSOR_LENGTH = 1024;

/** The opaque `nextCursor` a client hands back: base64url of the key to resume after. */
export function encodeCursor(key: Readonly<Record<string, unknown>>): string {
  const picked: Record<string, unknown> = {};
  for (const name of CURSOR_KEYS) picked[name] = key[name];
  return encodeOpaqueCursor(picked);
}

/**
 * The ExclusiveStartKey a cursor stands for. Anything that is not exactly a key this API could have returned to this
 * user (bad encoding, extra or missing attributes, non-strings, someone else's user id) is a 400 on `cursor`: a
 * crafted key must never let a query start in another user's partition or read an attribute it was not built from.
 */
export function decodeCursor(cursor: string, userId: string): CursorKey {
  const parsed = decodeOpaqueCursor(cursor, MAX_CURSOR_LENGTH);
  const entries = Object.entries(parsed);
  const expected = new Set<string>(CURSOR_KEYS);
  if (
    entries.length !== CURSOR_KEYS.length ||
    entries.some(([name, value]) => !expected.has(name) || typeof value !== "string" || value === "")
  ) {
    throw invalidCursor();
  }
  const key = parsed as CursorKey;
  if (key[DEPLOYMENTS.byUserIndex.hashKey] !== userId) throw invalidCursor();
  return key;
}
