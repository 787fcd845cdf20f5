import { ValidationError } from "../errors";
import type { Deployment } from "../deployment";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { BuildLogReader } from "../lifecycle/buildLogs";
import type { Logger } from "../log";
import { isFinalStatus } from "../schema";
import type { LogsPage } from "./apiShapes";
import { callersDeployment } from "./deploymentId";

export interface LogsDependencies {
  readonly deployments: { get(id: string, options?: { consistent?: boolean }): Promise<Deployment | undefined> };
  readonly logs: BuildLogReader;
  /** CodeBuild project name → its log group. */
  readonly logGroups: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
}

export const DEFAULT_LOG_PAGE = 500;
export const MAX_LOG_PAGE = 1000;

/** A cursor is a CloudWatch Logs forward token handed out by this route: `f/<digits>/s`. */
const CURSOR = /^f\/[0-9]{1,100}\/s$/;

export type { LogsPage } from "./apiShapes";

/**
 * GET /deployments/{id}/logs?cursor=&limit= → the build's log, oldest first, a page at a time. `nextCursor` is
 * CloudWatch's forward token: polling with it follows a running build (an empty page until more is logged). It is
 * left out before the build has logged anything (poll again without a cursor) and once a finished deployment's log
 * has been read to its end.
 */
export function deploymentLogs(event: ApiEvent, deps: LogsDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const cursor = parseCursor(event.queryStringParameters?.cursor);
    const limit = parseLogLimit(event.queryStringParameters?.limit);
    const deployment = await callersDeployment(deps.deployments, event.pathParameters?.id, userId);
    const body = await readPage(deployment, cursor, limit, deps);
    return jsonResponse(200, body);
  });
}

async function readPage(
  deployment: Deployment,
  cursor: string | undefined,
  limit: number,
  deps: LogsDependencies,
): Promise<LogsPage> {
  if (!deployment.buildId) return { events: [] };
  const separator = deployment.buildId.lastIndexOf(":");
  const project = deployment.buildId.slice(0, separator);
  const group = deps.logGroups[project];
  if (!group) throw new Error(`no log group known for project ${project}; BUILD_LOG_GROUPS is incomplete`);
  let page;
  try {
    page = await deps.logs.read({ group, stream: deployment.buildId.slice(separator + 1), token: cursor, limit });
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === "InvalidParameterException") {
      throw new ValidationError(
        "cursor",
        "cursor is not one this route gave out for this deployment; start again without a cursor.",
      );
    }
    throw error;
  }
  if (!page) return cursor ? { events: [], nextCursor: cursor } : { events: [] };
  const atEnd = page.events.length === 0 && page.nextToken === cursor;
  return {
    events: page.events.map((e) => ({ timestamp: new Date(e.timestamp).toISOString(), message: e.message })),
    ...(atEnd && isFinalStatus(deployment.status) ? {} : { nextCursor: page.nextToken }),
  };
}

function parseCursor(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!CURSOR.test(raw)) {
    throw new ValidationError("cursor", "cursor must be the nextCursor of an earlier page; start again without one.");
  }
  return raw;
}

/** `limit`: absent → 500; a whole number 1–1000; anything else is a 400 on limit. */
export function parseLogLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LOG_PAGE;
  const limit = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_LOG_PAGE)) {
    throw new ValidationError("limit", `limit must be a whole number from 1 to ${MAX_LOG_PAGE}.`);
  }
  return limit;
}
