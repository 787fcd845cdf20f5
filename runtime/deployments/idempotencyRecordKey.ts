import { userKey } from "./userKey";

/**
 * The `idempotency` table's key for one user's Idempotency-Key: the hashed user id, then the client's key.
 * `${userId}#${key}` was ambiguous: user `victim` with key `x#k1` and user `victim#x` with key `k1` shared a record,
 * so one could replay the other's deployment (issue 8, finding 5).
 */
export function idempotencyRecordKey(userId: string, key: string): string {
  return `${userKey(userId)}#${key}`;
}
