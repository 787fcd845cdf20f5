/**
 * Slipway's domain errors. Each carries a stable `code` and a message a person can act on.
 *
 * Why `kind` and explicit `this.message`: Lambda code is serialized by Pulumi, which rewrites `class X extends Error`
 * into a plain constructor calling `Error.call(this, …)`; that call does not set `message` on `this`, and the
 * prototype chain to `Error` is not kept. So the fields are assigned explicitly and callers tell errors apart by
 * `kind` (see the guards below), which survives serialization, instead of `instanceof`.
 */
export type ErrorKind =
  | "permanent"
  | "transient"
  | "validation"
  | "conflict"
  | "not-found"
  | "rate-limited"
  | "invalid-state";

export class SlipwayError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  constructor(kind: ErrorKind, code: string, message: string) {
    super(message);
    this.message = message;
    this.kind = kind;
    this.code = code;
    this.name = "SlipwayError";
  }
}

/** The deployment cannot succeed as asked (no installation, no framework, ref not found): it ends FAILED. */
export class PermanentError extends SlipwayError {
  constructor(code: string, message: string) {
    super("permanent", code, message);
    this.name = "PermanentError";
  }
}

/** A peer is briefly unavailable (GitHub 5xx, throttling): the work is retried. */
export class TransientError extends SlipwayError {
  /** When the peer said to come back, if it did (retry-after, x-ratelimit-reset). */
  readonly retryAfterMs?: number;
  constructor(code: string, message: string, retryAfterMs?: number) {
    super("transient", code, message);
    this.name = "TransientError";
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** A request the API rejects with 400; `field` names what to fix. */
export class ValidationError extends SlipwayError {
  readonly field: string;
  constructor(field: string, message: string) {
    super("validation", "INVALID_REQUEST", message);
    this.name = "ValidationError";
    this.field = field;
  }
}

/** A request that contradicts an earlier one (an Idempotency-Key reused with another body): 422. */
export class ConflictError extends SlipwayError {
  constructor(code: string, message: string) {
    super("conflict", code, message);
    this.name = "ConflictError";
  }
}

/** Something that does not exist for this caller: 404. */
export class NotFoundError extends SlipwayError {
  constructor(code: string, message: string) {
    super("not-found", code, message);
    this.name = "NotFoundError";
  }
}

/** The caller asked for more than its per-user limit allows: 429 with Retry-After. */
export class RateLimitedError extends SlipwayError {
  /** Whole seconds until the caller may try again (at least 1). */
  readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super("rate-limited", code, message);
    this.name = "RateLimitedError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What was asked cannot be done in the resource's current state (cancel a finished deployment): 409. */
export class InvalidStateError extends SlipwayError {
  constructor(code: string, message: string) {
    super("invalid-state", code, message);
    this.name = "InvalidStateError";
  }
}

function hasKind(error: unknown, kind: ErrorKind): boolean {
  return typeof error === "object" && error !== null && (error as { kind?: unknown }).kind === kind;
}

export const isPermanentError = (e: unknown): e is PermanentError => hasKind(e, "permanent");
export const isTransientError = (e: unknown): e is TransientError => hasKind(e, "transient");
export const isValidationError = (e: unknown): e is ValidationError => hasKind(e, "validation");
export const isConflictError = (e: unknown): e is ConflictError => hasKind(e, "conflict");
export const isNotFoundError = (e: unknown): e is NotFoundError => hasKind(e, "not-found");
export const isRateLimitedError = (e: unknown): e is RateLimitedError => hasKind(e, "rate-limited");

/** A short description of any thrown value for logs and `lastError`; never includes request headers or bodies. */
export function describeError(error: unknown): { code: string; message: string } {
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; name?: unknown; message?: unknown };
    const code = typeof e.code === "string" ? e.code : typeof e.name === "string" ? e.name : "ERROR";
    const message = typeof e.message === "string" && e.message ? e.message : String(code);
    return { code, message };
  }
  return { code: "ERROR", message: String(error) };
}
