import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { ApiDependencies } from "./apiDependencies";
import { callersDeployment } from "./deploymentId";
import { toPublicDeployment } from "./publicDeployment";

/**
 * GET /deployments/{id}: the caller's deployment. Someone else's and a malformed id get the very same 404, so ids
 * cannot be probed for existence.
 */
export function getDeployment(
  event: ApiEvent,
  deps: Pick<ApiDependencies, "deployments" | "logger">,
): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const deployment = await callersDeployment(deps.deployments, event.pathParameters?.id, userId);
    return jsonResponse(200, toPublicDeployment(deployment));
  });
}
