import { validateHeaderName, validateHeaderValue } from "node:http";
import type { InvokeResult } from "../lambda/invokeResult";
import { gatewayResponse, type GatewayResponse } from "./gatewayResponse";

/**
 * Maps a Lambda invocation to the HTTP response, by payload format 2.0's rules. A result with a `statusCode` is a
 * response as it stands (headers, cookies → set-cookie, body, base64 bodies decoded); any other value is a 200 with
 * the value as a JSON body (a string as itself). A function error is a 500; a timeout is a 503. A result that claims
 * to be a response but cannot be one (a status that is not an HTTP status, a header Node refuses) is a 500, as API
 * Gateway answers a malformed Lambda response.
 */
export function integrationResponse(result: InvokeResult): { response: GatewayResponse; integrationError?: string } {
  if (!result.ok) {
    return {
      response: gatewayResponse(result.timedOut ? "serviceUnavailable" : "internalServerError"),
      integrationError: `${result.errorType}: ${result.errorMessage}`,
    };
  }
  const value = result.result;
  if (value === null || typeof value !== "object" || !("statusCode" in value)) {
    return {
      response: {
        status: 200,
        headers: { "content-type": "application/json" },
        cookies: [],
        body: Buffer.from(typeof value === "string" ? value : JSON.stringify(value)),
      },
    };
  }
  try {
    return { response: structuredResponse(value as Record<string, unknown>) };
  } catch (error) {
    return {
      response: gatewayResponse("internalServerError"),
      integrationError: `Malformed Lambda response: ${(error as Error).message}`,
    };
  }
}

function structuredResponse(value: Record<string, unknown>): GatewayResponse {
  const status = value.statusCode;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new Error(`statusCode ${JSON.stringify(status)} is not an HTTP status`);
  }
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(asObject(value.headers, "headers"))) {
    if (raw === null || raw === undefined) continue;
    const text = String(raw);
    validateHeaderName(name);
    validateHeaderValue(name, text);
    headers[name.toLowerCase()] = text;
  }
  const cookies = value.cookies === undefined || value.cookies === null ? [] : value.cookies;
  if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== "string")) throw new Error("cookies must be strings");
  for (const cookie of cookies) validateHeaderValue("set-cookie", cookie);
  const body = value.body === undefined || value.body === null ? "" : value.body;
  if (typeof body !== "string") throw new Error("body must be a string");
  return {
    status,
    headers,
    cookies: cookies as string[],
    body: value.isBase64Encoded === true ? Buffer.from(body, "base64") : Buffer.from(body, "utf8"),
  };
}

function asObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${name} must be an object`);
  return value as Record<string, unknown>;
}
