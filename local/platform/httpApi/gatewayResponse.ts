/** A response the gateway writes: status, headers (lowercase names), `set-cookie` values, body bytes. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/** The answers API Gateway gives itself, without calling an integration: status and the `message` it sends. */
export const GATEWAY_ERRORS = {
  notFound: { status: 404, message: "Not Found" },
  unauthorized: { status: 401, message: "Unauthorized" },
  payloadTooLarge: { status: 413, message: "Request Entity Too Large" },
  tooManyRequests: { status: 429, message: "Too Many Requests" },
  internalServerError: { status: 500, message: "Internal Server Error" },
  serviceUnavailable: { status: 503, message: "Service Unavailable" },
} as const;

export type GatewayErrorKind = keyof typeof GATEWAY_ERRORS;

/** `{"message":"Not Found"}` and the like, as JSON. */
export function gatewayResponse(
  kind: GatewayErrorKind,
  headers: Readonly<Record<string, string>> = {},
): GatewayResponse {
  const { status, message } = GATEWAY_ERRORS[kind];
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    cookies: [],
    body: Buffer.from(JSON.stringify({ message })),
  };
}
