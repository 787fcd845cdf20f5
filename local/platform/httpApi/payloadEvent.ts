import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
} from "aws-lambda";

/** What a route's integration receives: payload format 2.0, with `authorizer` on routes behind the JWT authorizer. */
export type HttpApiEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { authorizer?: APIGatewayEventRequestContextJWTAuthorizer }
>;

/** An HTTP request as it reached the gateway. */
export interface GatewayRequest {
  readonly method: string;
  /** The request target as sent: path and query, still encoded. */
  readonly target: string;
  /** Node's `rawHeaders`: name, value, name, value… with repeats and original case. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  /** The port the gateway listens on (x-forwarded-port). */
  readonly localPort: number;
}

/** What the gateway decided about the request before calling the integration. */
export interface GatewayDecision {
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Claims already stringified; absent on routes without an authorizer. */
  readonly jwt?: { readonly claims: Readonly<Record<string, string>>; readonly scopes: string[] | null };
  readonly requestId: string;
  readonly traceId: string;
  readonly timeEpoch: number;
  readonly accountId: string;
  readonly apiId: string;
}

/**
 * Request bodies API Gateway HTTP APIs hand over as text; every other body, including one without a content type
 * and (surprisingly) form posts, arrives base64-encoded with `isBase64Encoded: true`.
 */
const TEXT_CONTENT_TYPES: readonly RegExp[] = [
  /^text\//,
  /^application\/json$/,
  /^application\/xml$/,
  /^application\/javascript$/,
];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/**
 * The payload format 2.0 event for a request: header names lowercased and repeats joined with commas, cookies moved
 * from the Cookie header to `cookies`, query parameters decoded with repeats joined by commas, the body as text or
 * base64, and the request context API Gateway adds (including the x-forwarded-* and trace headers).
 */
export function payloadEvent(request: GatewayRequest, decision: GatewayDecision): HttpApiEvent {
  const queryAt = request.target.indexOf("?");
  const rawPath = queryAt >= 0 ? request.target.slice(0, queryAt) : request.target;
  const rawQueryString = queryAt >= 0 ? request.target.slice(queryAt + 1) : "";

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    if (name === "cookie")
      cookies.push(
        ...value
          .split(";")
          .map((c) => c.trim())
          .filter(Boolean),
      );
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  headers["x-forwarded-for"] = headers["x-forwarded-for"]
    ? `${headers["x-forwarded-for"]}, ${request.sourceIp}`
    : request.sourceIp;
  headers["x-forwarded-port"] = String(request.localPort);
  headers["x-forwarded-proto"] = "http";
  headers["x-amzn-trace-id"] ??= decision.traceId;

  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const contentType = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  const isText = TEXT_CONTENT_TYPES.some((pattern) => pattern.test(contentType));
  const hasBody = request.body.length > 0;
  const domainName = (headers.host ?? "127.0.0.1").replace(/:\d+$/, "");

  return {
    version: "2.0",
    routeKey: decision.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(decision.pathParameters).length > 0 ? { pathParameters: { ...decision.pathParameters } } : {}),
    requestContext: {
      accountId: decision.accountId,
      apiId: decision.apiId,
      ...(decision.jwt
        ? {
            authorizer: {
              principalId: "",
              integrationLatency: 0,
              // API Gateway sends `scopes: null` when the token has none, whatever the type definitions say.
              jwt: { claims: { ...decision.jwt.claims }, scopes: decision.jwt.scopes as string[] },
            },
          }
        : {}),
      domainName,
      domainPrefix: domainName.split(".")[0] ?? domainName,
      http: {
        method: request.method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: decision.requestId,
      routeKey: decision.routeKey,
      stage: "$default",
      time: clfTime(decision.timeEpoch),
      timeEpoch: decision.timeEpoch,
    },
    ...(hasBody ? { body: isText ? request.body.toString("utf8") : request.body.toString("base64") } : {}),
    isBase64Encoded: hasBody && !isText,
  };
}

/** `12/Mar/2020:19:03:58 +0000`, the request time format API Gateway uses. */
export function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}
