import { randomBytes } from "node:crypto";
import http, { validateHeaderName, validateHeaderValue } from "node:http";
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
import { readBody } from "../../emulators/http/readBody";

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
  /** How long an idle kept-alive connection stays open. Default KEEP_ALIVE_TIMEOUT_MS. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Answers requests no route matches (the local dashboard's files and the local issuer's pages, which AWS serves
   * from other origins); undefined = API Gateway's 404. Default none.
   */
  readonly fallback?: (request: FallbackRequest) => Promise<GatewayResponse | undefined>;
}

/** A request no API route matched, as `fallback` sees it. */
export interface FallbackRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
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

/**
 * Idle kept-alive connections close after 310 s: longer than the clients people use keep an idle connection (undici
 * and Node's agent 4–5 s, aiohttp 15 s, Go 90 s, Firefox 115 s, Chrome and OkHttp 300 s), as API Gateway's idle
 * connections outlive its clients'. Node's default (5 s) is shorter than some of them, so a client could send a
 * request on a connection the server was closing and get a socket error (issue 8, finding 9).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 310_000;

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
    if (!match) {
      const served = await options.fallback?.({ method, target, headers: incoming.headers, body });
      return { response: served ?? gatewayResponse("notFound") };
    }
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

  /** One request, start to end. Never throws: whatever fails becomes a JSON 5xx and an access-log entry. */
  async function respond(incoming: http.IncomingMessage, outgoing: http.ServerResponse): Promise<void> {
    const at = clock();
    const requestId = newRequestId();
    const outcome = await readBody(incoming, MAX_PAYLOAD_BYTES)
      .then((body) => decide(incoming, body, requestId, at))
      .catch((error: unknown): Outcome => ({
        response: gatewayResponse("internalServerError"),
        integrationError: `gateway: ${describe(error)}`,
      }));
    let response: GatewayResponse;
    let gatewayError: string | undefined;
    try {
      response = finalResponse(outcome.response, corsFor(incoming), requestId, clock());
    } catch (error) {
      response = finalResponse(gatewayResponse("internalServerError"), undefined, requestId, clock());
      gatewayError = `gateway: ${describe(error)}`;
    }
    const written = write(outgoing, response, requestId, clock());
    const integrationError = [outcome.integrationError, gatewayError, written.error].filter(Boolean).join("; ");
    try {
      options.logger?.({
        requestId,
        ip: incoming.socket?.remoteAddress ?? "127.0.0.1",
        requestTime: clfTime(at),
        routeKey: outcome.routeKey ?? "-",
        status: written.response.status,
        latencyMs: Math.max(0, clock() - at),
        responseLength: written.response.body.length,
        ...(outcome.userId !== undefined ? { userId: outcome.userId } : {}),
        ...(outcome.authorizerError !== undefined ? { authorizerError: outcome.authorizerError } : {}),
        ...(integrationError ? { integrationError } : {}),
      });
    } catch {
      // A logger that throws must not take the API down with it; the response is already written.
    }
  }

  /** The CORS headers for this request's origin, when the API has a CORS configuration. */
  function corsFor(incoming: http.IncomingMessage): Record<string, string> | undefined {
    if (!options.cors) return undefined;
    const headers = incoming.headers;
    const requestHeaders = headers["access-control-request-headers"];
    const requestMethod = headers["access-control-request-method"];
    return corsHeaders(options.cors, {
      ...(headers.origin !== undefined ? { origin: headers.origin } : {}),
      preflight: isPreflight((incoming.method ?? "").toUpperCase(), headers as Record<string, string>),
      ...(requestHeaders !== undefined ? { requestHeaders } : {}),
      ...(requestMethod !== undefined ? { requestMethod: String(requestMethod) } : {}),
    });
  }

  const server = http.createServer((incoming, outgoing) => {
    respond(incoming, outgoing).catch((error: unknown) => {
      // respond() catches everything it can; this is the last line of defence: never an unhandled rejection.
      process.stderr.write(`local HTTP API: request failed: ${describe(error)}\n`);
      if (!outgoing.destroyed) outgoing.destroy();
    });
  });
  // Idle kept-alive connections stay open longer than any common client keeps them (see KEEP_ALIVE_TIMEOUT_MS),
  // so the client always closes first and never sends a request on a connection the server is closing.
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS;
  // Node requires the header deadline to exceed the keep-alive timeout for it to apply to kept-alive connections.
  server.headersTimeout = server.keepAliveTimeout + 1_000;

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

/**
 * Writes the response. Headers are checked first (a header Node refuses would otherwise throw while the head is
 * written): a response that cannot be written as it stands is replaced by the gateway's 500, which can.
 */
function write(
  outgoing: http.ServerResponse,
  response: GatewayResponse,
  requestId: string,
  now: number,
): { response: GatewayResponse; error?: string } {
  let written = response;
  let error: string | undefined;
  try {
    checkHeaders(response);
  } catch (refused) {
    written = finalResponse(gatewayResponse("internalServerError"), undefined, requestId, now);
    error = `gateway: response header refused: ${describe(refused)}`;
  }
  if (outgoing.destroyed || outgoing.headersSent) return { response: written, ...(error ? { error } : {}) };
  try {
    for (const [name, value] of Object.entries(written.headers)) outgoing.setHeader(name, value);
    if (written.cookies.length > 0) outgoing.setHeader("set-cookie", [...written.cookies]);
    outgoing.setHeader("content-length", written.body.length);
    outgoing.writeHead(written.status);
    outgoing.end(written.body);
  } catch (failure) {
    error = [error, `gateway: could not write the response: ${describe(failure)}`].filter(Boolean).join("; ");
    outgoing.destroy();
  }
  return { response: written, ...(error ? { error } : {}) };
}

function checkHeaders(response: GatewayResponse): void {
  for (const [name, value] of Object.entries(response.headers)) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  }
  for (const cookie of response.cookies) validateHeaderValue("set-cookie", cookie);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
