import { createHash } from "node:crypto";
import type { DeploymentRequest } from "./validateDeploymentRequest";

/**
 * What an Idempotency-Key remembers about the request it came with: a digest of the normalised request, so the same
 * request written differently (field order, `./apps/web/` vs `apps/web`) replays, and any real difference does not.
 */
export function requestFingerprint(request: DeploymentRequest): string {
  const canonical = JSON.stringify([request.repository, request.ref ?? null, request.rootDirectory ?? null]);
  return createHash("sha256").update(canonical).digest("base64url");
}
