import type {
  APIGatewayProxyEventHeaders,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import type { ApiErrorBody } from "./api/apiShapes";
import { describeError, type ErrorKind } from "./errors";
import type { Logger } from "./log";

/** An API Gateway HTTP API request (payload format 2.0) that passed the JWT authorizer. */
export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

/** Which domain errors a client caused, and the status that tells it so. Any other error is ours: 500. */
const STATUS_BY_ERROR_KIND: Readonly<Partial<Record<ErrorKind, number>>> = {
  validation: 400,
  "not-found": 404,
  conflict: 422,
  "rate-limited": 429,
  "invalid-state": 409,
};

/** What a 500 tells the client when the route says nothing more specific: the request changed nothing it can see. */
const DEFAULT_FAILURE_MESSAGE = "Something went wrong on our side. Try again in a moment.";

/** The API's responses are per-user: no shared cache may keep them. */
const COMMON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** `{ "error": { "code", "message", "field"? } }`, the one error shape every route returns. */
export function errorResponse(statusCode: number, code: string, message: string, field?: string): ApiResult {
  const body: ApiErrorBody = { error: field === undefined ? { code, message } : { code, message, field } };
  return jsonResponse(statusCode, body);
}

/** A header by name; API Gateway lowercases names, but a test or another proxy may not. */
export function header(headers: APIGatewayProxyEventHeaders | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The caller: the JWT's `sub`, which the authorizer verified. Never read from the body or a header. */
export function callerId(event: ApiEvent): string | undefined {
  const sub = event.requestContext?.authorizer?.jwt?.claims?.sub;
  return typeof sub === "string" && sub !== "" ? sub : undefined;
}

/**
 * Runs one route for an authenticated caller and turns what it throws into the API's error responses. Domain errors
 * become 4xx with their code, message and field; anything else is a 500 with a generic message, and the details go to
 * the log only (facts about the error, never the request's body or headers, which may carry tokens).
 */
export async function handleApiRequest(
  event: ApiEvent,
  logger: Logger,
  route: (userId: string) => Promise<ApiResult>,
  options: {
    /** The 500's message: what the client should do next (a route that writes says how to retry safely). */
    readonly failureMessage?: string;
  } = {},
): Promise<ApiResult> {
  const context = { requestId: event.requestContext?.requestId, routeKey: event.routeKey };
  const userId = callerId(event);
  if (!userId) {
    logger.warn("request without a user", context);
    return errorResponse(401, "UNAUTHENTICATED", "Sign in and send your token in the Authorization header.");
  }
  try {
    return await route(userId);
  } catch (error) {
    const e = error as {
      kind?: ErrorKind;
      code?: unknown;
      message?: unknown;
      field?: unknown;
      retryAfterSeconds?: unknown;
    };
    const status = e?.kind ? STATUS_BY_ERROR_KIND[e.kind] : undefined;
    if (status !== undefined && typeof e.code === "string" && typeof e.message === "string") {
      const field = typeof e.field === "string" ? e.field : undefined;
      logger.info("request refused", { ...context, status, code: e.code, field });
      const response = errorResponse(status, e.code, e.message, field);
      if (typeof e.retryAfterSeconds === "number") response.headers["retry-after"] = String(e.retryAfterSeconds);
      return response;
    }
    const { code, message } = describeError(error);
    logger.error("request failed", { ...context, code, error: message });
    return errorResponse(500, "INTERNAL_ERROR", options.failureMessage ?? DEFAULT_FAILURE_MESSAGE);
  }
}
