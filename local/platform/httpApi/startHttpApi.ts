import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { InvokeResult } from "../lambda/invokeResult";
import { claimStrings } from "./claimStrings";
import { corsHeaders, isPreflight, type CorsConfiguration } from "./corsHeaders";
import { createJwtVerifier, type JwtAuthorizerConfig } from "./createJwtVerifier";
import { gatewayResponse, type GatewayResponse } from "./gatewayResponse";
import { integrationResponse } from "./integrationResponse";
import { clfTime, payloadEvent, type HttpApiEvent } from "./payloadEvent";
import { createRouteTable } from "./routeTable";
import { createTokenBucket, type ThrottlingSettings } from "./tokenBucket";

export type { HttpApiEvent } from "./payloadEvent";
export type { CorsConfiguration } from "./corsHeaders";
export type { JwtAuthorizerConfig } from "./createJwtVerifier";
export type { ThrottlingSettings } from "./tokenBucket";

export interface HttpApiRoute {
  /** `"POST /deployments"`, `"GET /deployments/{id}"`, `"ANY /files/{path+}"`. */
  readonly routeKey: string;
  /** Default "NONE", as in API Gateway. "JWT" needs `authorizer`. */
  readonly authorizationType?: "JWT" | "NONE";
  /** The integration (a local Lambda function's `invoke`). */
  invoke(event: HttpApiEvent): Promise<InvokeResult>;
}

/** One line of the access log: the fields of the stack's ACCESS_LOG_FORMAT (components/deploymentApi.ts). */
export interface AccessLogEntry {
  readonly requestId: string;
  readonly ip: string;
  readonly requestTime: string;
  /** The matched route, or "-" when none matched. */
  readonly routeKey: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly responseLength: number;
  /** The token's `sub`, on authorized routes. */
  readonly userId?: string;
  readonly authorizerError?: string;
  readonly integrationError?: string;
}

export interface StartHttpApiOptions {
  /** Port on 127.0.0.1 (the only address the API listens on); 0 or absent picks a free one. */
  readonly port?: number;
  readonly routes: readonly HttpApiRoute[];
  readonly authorizer?: JwtAuthorizerConfig;
  /** The API's corsConfiguration; absent = no CORS (preflights are routed like any request). */
  readonly cors?: CorsConfiguration;
  /** The stage's default route throttling; absent = unlimited. */
  readonly throttling?: ThrottlingSettings;
  /** Receives one entry per request, after the response is written. Default none. */
  readonly logger?: (entry: AccessLogEntry) => void;
  /** Milliseconds since the epoch: token expiry, throttling, event time. Default Date.now. */
  readonly clock?: () => number;
  /** Default "000000000000". */
  readonly accountId?: string;
  /** Default "local". */
  readonly apiId?: string;
  /** API Gateway gives an integration 30 s before answering 503. */
  readonly integrationTimeoutMs?: number;
}

export interface HttpApi {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends every connection. Invocations already running finish on their own. */
  close(): Promise<void>;
}

/** API Gateway's payload quota. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

interface Outcome {
  readonly response: GatewayResponse;
  readonly routeKey?: string;
  readonly userId?: string;
  readonly authorizerError?: string;
  readonly integrationError?: string;
}

/**
 * An API Gateway HTTP API on 127.0.0.1, in front of local integrations. Per request, in API Gateway's order: the
 * payload quota (413), throttling (429), CORS preflight (answered by the gateway), route selection (404), the JWT
 * authorizer (401), then the integration with a payload 2.0 event, its result mapped back by the 2.0 rules. Every
 * response carries `apigw-requestid`, and CORS headers when the origin is allowed.
 */
export async function startHttpApi(options: StartHttpApiOptions): Promise<HttpApi> {
  const clock = options.clock ?? Date.now;
  const unauthorized = options.routes.filter((route) => route.authorizationType === "JWT" && !options.authorizer);
  if (unauthorized.length > 0) {
    throw new Error(`routes ${unauthorized.map((r) => r.routeKey).join(", ")} use JWT: pass \`authorizer\` too`);
  }
  const matchRoute = createRouteTable(options.routes);
  const verify = options.authorizer ? createJwtVerifier(options.authorizer) : undefined;
  const bucket = options.throttling ? createTokenBucket(options.throttling, clock) : undefined;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 30_000;
  const accountId = options.accountId ?? "000000000000";
  const apiId = options.apiId ?? "local";
  let port = 0;

  async function decide(
    incoming: http.IncomingMessage,
    body: Buffer | undefined,
    requestId: string,
    at: number,
  ): Promise<Outcome> {
    if (body === undefined) return { response: gatewayResponse("payloadTooLarge") };
    if (bucket && !bucket.take()) return { response: gatewayResponse("tooManyRequests") };
    const method = (incoming.method ?? "GET").toUpperCase();
    const headers = incoming.headers as Record<string, string | undefined>;
    if (options.cors && isPreflight(method, headers)) {
      return { response: { status: 204, headers: {}, cookies: [], body: Buffer.alloc(0) } };
    }
    const target = incoming.url ?? "/";
    const match = matchRoute(method, target.split("?")[0]!);
    if (!match) return { response: gatewayResponse("notFound") };
    const routeKey = match.route.routeKey;

    let jwt: { claims: Record<string, string>; scopes: string[] | null } | undefined;
    if (match.route.authorizationType === "JWT" && verify) {
      const verdict = await verify(headers.authorization, at);
      if (!verdict.ok) {
        const challenge =
          verdict.description === undefined
            ? "Bearer"
            : `Bearer scope="" error="invalid_token" error_description="${verdict.description}"`;
        return {
          response: gatewayResponse("unauthorized", { "www-authenticate": challenge }),
          routeKey,
          authorizerError: verdict.description ?? "no token",
        };
      }
      jwt = { claims: claimStrings(verdict.claims), scopes: verdict.scopes };
    }

    const event = payloadEvent(
      {
        method,
        target,
        rawHeaders: incoming.rawHeaders,
        body,
        sourceIp: incoming.socket.remoteAddress ?? "127.0.0.1",
        localPort: port,
      },
      {
        routeKey,
        pathParameters: match.pathParameters,
        ...(jwt ? { jwt } : {}),
        requestId,
        traceId: traceId(at),
        timeEpoch: at,
        accountId,
        apiId,
      },
    );
    const userId = jwt?.claims.sub;
    const result = await withTimeout(match.route.invoke(event), integrationTimeoutMs).catch(
      (error: unknown): InvokeResult => ({
        ok: false,
        errorType: "IntegrationError",
        errorMessage: error instanceof Error ? error.message : String(error),
        durationMs: 0,
      }),
    );
    const mapped =
      result === "timeout"
        ? {
            response: gatewayResponse("serviceUnavailable"),
            integrationError: `no answer within ${integrationTimeoutMs} ms`,
          }
        : integrationResponse(result);
    return { ...mapped, routeKey, ...(userId !== undefined ? { userId } : {}) };
  }

  const server = http.createServer((incoming, outgoing) => {
    const at = clock();
    const requestId = newRequestId();
    void readBody(incoming, MAX_PAYLOAD_BYTES)
      .then((body) => decide(incoming, body, requestId, at))
      .catch((error: unknown): Outcome => ({
        response: gatewayResponse("internalServerError"),
        integrationError: `gateway: ${error instanceof Error ? error.message : String(error)}`,
      }))
      .then((outcome) => {
        const origin = incoming.headers.origin;
        const preflight = isPreflight(
          (incoming.method ?? "").toUpperCase(),
          incoming.headers as Record<string, string>,
        );
        const cors = options.cors
          ? corsHeaders(options.cors, {
              ...(origin !== undefined ? { origin } : {}),
              preflight,
              ...(incoming.headers["access-control-request-headers"] !== undefined
                ? { requestHeaders: incoming.headers["access-control-request-headers"] }
                : {}),
              ...(incoming.headers["access-control-request-method"] !== undefined
                ? { requestMethod: String(incoming.headers["access-control-request-method"]) }
                : {}),
            })
          : undefined;
        const response = finalResponse(outcome.response, cors, requestId, clock());
        write(outgoing, response);
        options.logger?.({
          requestId,
          ip: incoming.socket.remoteAddress ?? "127.0.0.1",
          requestTime: clfTime(at),
          routeKey: outcome.routeKey ?? "-",
          status: response.status,
          latencyMs: Math.max(0, clock() - at),
          responseLength: response.body.length,
          ...(outcome.userId !== undefined ? { userId: outcome.userId } : {}),
          ...(outcome.authorizerError !== undefined ? { authorizerError: outcome.authorizerError } : {}),
          ...(outcome.integrationError !== undefined ? { integrationError: outcome.integrationError } : {}),
        });
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * With CORS configured, the gateway owns the CORS headers: the integration's are dropped and the gateway's added.
 * Then the request id, and the date by the gateway's clock.
 */
function finalResponse(
  response: GatewayResponse,
  cors: Record<string, string> | undefined,
  requestId: string,
  now: number,
): GatewayResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (!(cors && name.startsWith("access-control-"))) headers[name] = value;
  }
  return {
    ...response,
    headers: { ...headers, ...cors, date: new Date(now).toUTCString(), "apigw-requestid": requestId },
  };
}

function write(outgoing: http.ServerResponse, response: GatewayResponse): void {
  if (outgoing.destroyed) return;
  for (const [name, value] of Object.entries(response.headers)) outgoing.setHeader(name, value);
  if (response.cookies.length > 0) outgoing.setHeader("set-cookie", [...response.cookies]);
  outgoing.setHeader("content-length", response.body.length);
  outgoing.writeHead(response.status);
  outgoing.end(response.body);
}

/** The whole body; undefined past the limit (the rest is read and dropped, so the client can take its 413). */
function readBody(incoming: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    incoming.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    incoming.on("error", reject);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** API Gateway's request ids look like `JcJeIhKDoAMEPnw=`: eleven random bytes in base64. */
function newRequestId(): string {
  return randomBytes(11).toString("base64");
}

/** An X-Ray trace header: `Root=1-<epoch seconds, hex>-<96 random bits, hex>`. */
function traceId(epochMs: number): string {
  return `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
}
