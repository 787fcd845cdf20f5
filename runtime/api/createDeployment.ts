import { randomUUID as systemRandomUUID } from "node:crypto";
import type { Deployment } from "../deployment";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { ApiDependencies } from "./apiDependencies";
import { readIdempotencyKey } from "./idempotencyKey";
import { toPublicDeployment } from "./publicDeployment";
import { requestFingerprint } from "./requestFingerprint";
import { validateDeploymentRequest } from "./validateDeploymentRequest";

/**
 * POST /deployments: records a PENDING deployment for the caller and answers 202; the table's stream takes it from
 * there. Everything is validated before the one write, so a bad request stores nothing. With an Idempotency-Key, a
 * retry of the same request gets the same deployment (`idempotent-replayed: true`) instead of a second one.
 */
export function createDeployment(event: ApiEvent, deps: ApiDependencies): Promise<ApiResult> {
  return handleApiRequest(
    event,
    deps.logger,
    async (userId) => {
      const idempotencyKey = readIdempotencyKey(event.headers);
      const request = validateDeploymentRequest(event.body, event.isBase64Encoded, event.headers);
      const now = (deps.clock ?? (() => new Date()))().toISOString();
      const deployment: Deployment = {
        id: (deps.randomUUID ?? systemRandomUUID)(),
        userId,
        repository: request.repository,
        ref: request.ref,
        rootDirectory: request.rootDirectory,
        rootDirectoryRequested: request.rootDirectory !== undefined ? true : undefined,
        status: "PENDING",
        trigger: "manual",
        createdAt: now,
        updatedAt: now,
      };
      const { deployment: stored, replayed } = await deps.deployments.create(
        deployment,
        idempotencyKey === undefined ? undefined : { key: idempotencyKey, fingerprint: requestFingerprint(request) },
      );
      deps.logger.info(replayed ? "deployment replayed" : "deployment created", {
        requestId: event.requestContext?.requestId,
        deploymentId: stored.id,
        repository: stored.repository,
      });
      return jsonResponse(202, toPublicDeployment(stored), {
        location: `/deployments/${stored.id}`,
        ...(replayed ? { "idempotent-replayed": "true" } : {}),
      });
    },
    { failureMessage: RETRY_ADVICE },
  );
}

/**
 * A 500 from POST /deployments cannot say whether the deployment was recorded (the write may have landed before the
 * failure), so it tells the client the one safe retry (issue 8, finding 8).
 */
export const RETRY_ADVICE =
  "Something went wrong on our side, and the deployment may or may not have been recorded. Retry with the same " +
  "Idempotency-Key header: you get the one deployment it made, or a new one if none was made. Without an " +
  "Idempotency-Key, a retry may create a second deployment; GET /deployments lists what was recorded.";
