import type { APIGatewayProxyEventHeaders } from "aws-lambda";
import { ValidationError } from "../errors";
import { header } from "../http";

/** 1–255 printable ASCII characters (space to ~): what fits in a header and in a DynamoDB key without surprises. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** The request's `Idempotency-Key`, if it sent one; a malformed one is a 400 rather than silently ignored. */
export function readIdempotencyKey(headers: APIGatewayProxyEventHeaders | undefined): string | undefined {
  const key = header(headers, "idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError(
      "idempotency-key",
      "Idempotency-Key must be 1 to 255 printable ASCII characters; a new UUID per deployment works well",
    );
  }
  return key;
}
