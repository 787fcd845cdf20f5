import { PermanentError, TransientError } from "../errors";

/** What `@octokit/request` throws: a RequestError with `status` and, when GitHub answered, `response.headers`. */
export interface GitHubRequestFailure {
  readonly status?: number;
  readonly message?: string;
  readonly name?: string;
  readonly response?: { readonly headers?: Record<string, string | number | undefined>; readonly data?: unknown };
}

function asFailure(error: unknown): GitHubRequestFailure | undefined {
  return typeof error === "object" && error !== null && "status" in error ? (error as GitHubRequestFailure) : undefined;
}

function header(failure: GitHubRequestFailure, name: string): string | undefined {
  const value = failure.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/**
 * How long GitHub asked us to wait, in ms, or undefined when the failure is not a rate limit. GitHub's rules:
 * `retry-after` (secondary limits, 403 or 429) wins; otherwise a 403/429 with `x-ratelimit-remaining: 0` waits until
 * `x-ratelimit-reset` (epoch seconds). A 429 with neither waits a minute, as GitHub's docs advise.
 */
export function rateLimitDelayMs(error: unknown, now: number): number | undefined {
  const failure = asFailure(error);
  if (!failure || (failure.status !== 403 && failure.status !== 429)) return undefined;
  const retryAfter = header(failure, "retry-after");
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const remaining = header(failure, "x-ratelimit-remaining");
  const reset = header(failure, "x-ratelimit-reset");
  if (remaining === "0" && reset !== undefined && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return failure.status === 429 ? 60_000 : undefined;
}

/** A failure worth retrying as is: GitHub 5xx, a network error or a timeout (octokit reports both as status 500). */
export function isRetryableFailure(error: unknown): boolean {
  const failure = asFailure(error);
  if (!failure) return false;
  return failure.status === undefined || failure.status >= 500 || failure.name === "AbortError";
}

/** The HTTP status GitHub answered with, if it answered. */
export function statusOf(error: unknown): number | undefined {
  return asFailure(error)?.status;
}

export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  readonly attempts?: number;
  /** The longest wait worth spending inside one invocation; longer waits become a TransientError. Default 15 s. */
  readonly maxInlineWaitMs?: number;
  /** First backoff for 5xx and network errors, doubled each time. Default 250 ms. */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one GitHub call, honouring rate limits and retrying transient failures with backoff. What cannot be waited
 * out here becomes a TransientError (the stream retries the record later); anything else is rethrown untouched so
 * the caller translates only what it expects (404, 422…).
 */
export async function withGitHubRetries<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 15_000;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const rateLimitWait = rateLimitDelayMs(error, now());
      const wait = rateLimitWait ?? (isRetryableFailure(error) ? baseDelayMs * 2 ** (attempt - 1) : undefined);
      if (wait === undefined) throw error;
      if (attempt >= attempts || wait > maxInlineWaitMs) {
        throw rateLimitWait !== undefined
          ? new TransientError(
              "GITHUB_RATE_LIMITED",
              `GitHub's rate limit was reached while ${what}; Slipway retries after ${Math.ceil(wait / 1000)} s.`,
              wait,
            )
          : new TransientError(
              "GITHUB_UNAVAILABLE",
              `GitHub did not answer while ${what} (${describeFailure(error)}); Slipway retries.`,
            );
      }
      await sleep(wait);
    }
  }
}

function describeFailure(error: unknown): string {
  const failure = asFailure(error);
  if (failure?.name === "AbortError") return "timed out";
  if (failure?.status !== undefined && failure.status !== 500) return `HTTP ${failure.status}`;
  return failure?.message ? failure.message.slice(0, 200) : "no answer";
}

/** GitHub's 403 that is not a rate limit: the App lacks a permission. */
export function forbidden(what: string): PermanentError {
  return new PermanentError(
    "GITHUB_FORBIDDEN",
    `GitHub refused access while ${what}: the Slipway GitHub App needs read access to the repository's contents.`,
  );
}
