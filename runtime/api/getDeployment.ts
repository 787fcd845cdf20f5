import { NotFoundError } from "../errors";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { ApiDependencies } from "./apiDependencies";
import { toPublicDeployment } from "./publicDeployment";

/** Deployment ids are crypto.randomUUID() output; anything else cannot exist, so it is not looked up. */
const DEPLOYMENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * GET /deployments/{id}: the caller's deployment. Someone else's and a malformed id get the very same 404, so ids
 * cannot be probed for existence.
 */
export function getDeployment(
  event: ApiEvent,
  deps: Pick<ApiDependencies, "deployments" | "logger">,
): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const id = event.pathParameters?.id ?? "";
    // Consistent: a client that polls right after its POST must not get a 404 for what it just created.
    const deployment = DEPLOYMENT_ID.test(id) ? await deps.deployments.get(id, { consistent: true }) : undefined;
    if (!deployment || deployment.userId !== userId) {
      throw new NotFoundError(
        "DEPLOYMENT_NOT_FOUND",
        "You have no deployment with this id. GET /deployments lists yours.",
      );
    }
    return jsonResponse(200, toPublicDeployment(deployment));
  });
}
