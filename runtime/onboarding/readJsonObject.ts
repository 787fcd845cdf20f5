import { ValidationError } from "../errors";

/** The onboarding routes' bodies are a few short fields. */
const MAX_BODY_BYTES = 4 * 1024;

/**
 * A request body as a JSON object with only the `allowed` fields, or a ValidationError naming what to fix. Kept apart
 * from `validateDeploymentRequest` so the onboarding routes can evolve without touching the deployments route.
 */
export function readJsonObject(
  body: string | undefined,
  isBase64Encoded: boolean,
  allowed: readonly string[],
  example: string,
): Record<string, unknown> {
  const text = body === undefined ? "" : isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new ValidationError("body", `the body is larger than ${MAX_BODY_BYTES} bytes; send only ${example}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError("body", `the body is not valid JSON; send an object like ${example}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError("body", `the body must be a JSON object like ${example}`);
  }
  const unknown = Object.keys(parsed).find((name) => !allowed.includes(name));
  if (unknown !== undefined) {
    throw new ValidationError(
      unknown,
      `unknown field ${JSON.stringify(unknown)}; the fields are ${allowed.join(", ")}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** GitHub installation ids are positive integers (a number in JSON, or its decimal text in a path). */
export function readInstallationId(value: unknown, field = "installationId"): number {
  const id = typeof value === "string" && /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : value;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) {
    throw new ValidationError(
      field,
      `${field} must be a positive integer: the installation_id GitHub added to the setup URL`,
    );
  }
  return id;
}

/** A non-empty string field of reasonable length. */
export function readToken(value: unknown, field: string, what: string): string {
  if (typeof value !== "string" || value === "" || value.length > 512) {
    throw new ValidationError(field, `${field} is required: ${what}`);
  }
  return value;
}
