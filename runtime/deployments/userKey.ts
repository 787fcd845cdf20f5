import { createHash } from "node:crypto";

/**
 * A user id as part of a composite table key: SHA-256, base64url. Fixed length and never containing `#`, so
 * `${userKey(id)}#${rest}` can be read back one way only, whatever a JWT `sub` contains.
 */
export function userKey(userId: string): string {
  return createHash("sha256").update(userId, "utf8").digest("base64url");
}
