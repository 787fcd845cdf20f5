import { ValidationError } from "../errors";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { ApiDependencies } from "./apiDependencies";
import type { DeploymentPage } from "./apiShapes";
import { toDeploymentSummary } from "./publicDeployment";

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** GET /deployments?limit=&cursor=: the caller's deployments, newest first, a page at a time. */
export function listDeployments(
  event: ApiEvent,
  deps: Pick<ApiDependencies, "deployments" | "logger">,
): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const limit = parseLimit(event.queryStringParameters?.limit);
    const cursor = event.queryStringParameters?.cursor;
    const page = await deps.deployments.listByUser(userId, { limit, ...(cursor !== undefined ? { cursor } : {}) });
    const body: DeploymentPage = {
      items: page.items.map(toDeploymentSummary),
      ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
    };
    return jsonResponse(200, body);
  });
}

/** `limit` as given in the query string: absent → the default; anything but a whole number 1–100 → 400. */
export function parseLimit(raw: string | undefined, defaultSize = DEFAULT_PAGE_SIZE): number {
  if (raw === undefined) return defaultSize;
  const limit = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) {
    throw new ValidationError(
      "limit",
      `limit must be a whole number from 1 to ${MAX_PAGE_SIZE} (default ${defaultSize})`,
    );
  }
  return limit;
}
