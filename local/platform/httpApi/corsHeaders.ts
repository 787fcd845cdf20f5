/** An HTTP API's corsConfiguration, field for field (what components/deploymentApi.ts's `corsConfiguration` returns). */
export interface CorsConfiguration {
  readonly allowOrigins?: readonly string[];
  readonly allowMethods?: readonly string[];
  readonly allowHeaders?: readonly string[];
  readonly exposeHeaders?: readonly string[];
  /** Seconds a browser may cache a preflight answer. */
  readonly maxAge?: number;
  readonly allowCredentials?: boolean;
}

/** A preflight: OPTIONS with Origin and Access-Control-Request-Method. Any other OPTIONS is routed like a request. */
export function isPreflight(method: string, headers: Readonly<Record<string, string | undefined>>): boolean {
  return method === "OPTIONS" && headers.origin !== undefined && headers["access-control-request-method"] !== undefined;
}

/**
 * The CORS headers API Gateway adds for a request from `origin`: none unless the origin is allowed. A preflight
 * gets the allow-* set (the gateway answers it itself, route or no route); any other response gets the allowed
 * origin and the exposed headers. `*` in a list allows anything; in an origin it stands for one host label run
 * (`https://*.example.com`).
 */
export function corsHeaders(
  cors: CorsConfiguration,
  request: {
    readonly origin?: string;
    readonly preflight: boolean;
    readonly requestHeaders?: string;
    readonly requestMethod?: string;
  },
): Record<string, string> {
  const origin = request.origin;
  if (origin === undefined || !(cors.allowOrigins ?? []).some((allowed) => originMatches(allowed, origin))) return {};
  const headers: Record<string, string> = {
    "access-control-allow-origin": (cors.allowOrigins ?? []).includes("*") && !cors.allowCredentials ? "*" : origin,
  };
  if (cors.allowCredentials) headers["access-control-allow-credentials"] = "true";
  if (!request.preflight) {
    if (cors.exposeHeaders?.length) headers["access-control-expose-headers"] = cors.exposeHeaders.join(",");
    return headers;
  }
  const methods = listOrEcho(cors.allowMethods, request.requestMethod);
  const allowHeaders = listOrEcho(cors.allowHeaders, request.requestHeaders);
  if (methods) headers["access-control-allow-methods"] = methods;
  if (allowHeaders) headers["access-control-allow-headers"] = allowHeaders;
  if (cors.maxAge !== undefined) headers["access-control-max-age"] = String(cors.maxAge);
  return headers;
}

/** A configured list, joined; `*` answers with what the browser asked for. */
function listOrEcho(list: readonly string[] | undefined, asked: string | undefined): string | undefined {
  if (!list?.length) return undefined;
  if (list.includes("*")) return asked ?? "*";
  return list.join(",");
}

function originMatches(allowed: string, origin: string): boolean {
  if (allowed === "*") return true;
  if (!allowed.includes("*")) return allowed.toLowerCase() === origin.toLowerCase();
  const pattern = allowed
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^.]+");
  return new RegExp(`^${pattern}$`, "i").test(origin);
}
