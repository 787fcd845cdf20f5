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

/** GitHub's words for a secondary limit (and its older name, the abuse limit), as @octokit/plugin-throttling reads them. */
const SECONDARY_LIMIT_MESSAGE = /secondary rate limit|abuse detection/i;

/** The message GitHub's answer carried (octokit puts the JSON body in `response.data`). */
function messageOf(failure: GitHubRequestFailure): string {
  const data = failure.response?.data;
  const fromBody =
    typeof data === "object" && data !== null && typeof (data as { message?: unknown }).message === "string"
      ? (data as { message: string }).message
      : "";
  return `${fromBody} ${failure.message ?? ""}`;
}

/**
 * How long GitHub asked us to wait, in ms, or undefined when the failure is not a rate limit. GitHub's rules
 * ("Rate limits for the REST API", section "Handle rate limit errors appropriately",
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * - a 403 or 429 with `retry-after`: wait that many seconds;
 * - with `x-ratelimit-remaining: 0`: wait until `x-ratelimit-reset` (epoch seconds);
 * - otherwise a secondary limit (the message says so; `retry-after` "might be present", so it may not be): wait at
 *   least a minute, and exponentially longer while it keeps failing (`repeats` counts the earlier ones);
 * - a 429 with none of these: a minute too. A 403 that is none of these is a permission problem, not a wait.
 */
export function rateLimitDelayMs(error: unknown, now: number, repeats = 0): number | undefined {
  const failure = asFailure(error);
  if (!failure || (failure.status !== 403 && failure.status !== 429)) return undefined;
  const retryAfter = header(failure, "retry-after");
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter) * 1000;
  if (retryAfter !== undefined && !Number.isNaN(Date.parse(retryAfter)))
    return Math.max(0, Date.parse(retryAfter) - now);
  const remaining = header(failure, "x-ratelimit-remaining");
  const reset = header(failure, "x-ratelimit-reset");
  if (remaining === "0" && reset !== undefined && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  if (SECONDARY_LIMIT_MESSAGE.test(messageOf(failure)) || failure.status === 429) return 60_000 * 2 ** repeats;
  return undefined;
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

/** The `message` of GitHub's JSON answer to a failed request ("" when there was none). */
export function gitHubMessage(error: unknown): string {
  const failure = asFailure(error);
  return failure ? messageOf(failure).trim() : "";
}

export interface RetryOptions {
  /** Attempts in all for 5xx and network errors, the first included. Default 4. */
  readonly attempts?: number;
  /**
   * Epoch ms by which the calling invocation must be done with GitHub (the Lambda's end less what the rest of the
   * work needs). A wait that would end later is not slept here: it becomes a TransientError carrying the wait, which
   * the inspector records on the deployment so the next attempt honours it. Default: no deadline.
   */
  readonly deadline?: number;
  /**
   * The longest rate-limit wait Slipway accepts at all. A longer one (an installation's hourly budget spent, reset
   * in 40 minutes) fails the deployment with the time to deploy again: holding it, and the stream shard it sits on,
   * that long helps nobody. Default 15 minutes.
   */
  readonly maxRateLimitWaitMs?: number;
  /** First backoff for 5xx and network errors, doubled each time. Default 250 ms. */
  readonly baseDelayMs?: number;
  /**
   * Multiplies every wait GitHub asks for (1 in AWS). The local platform's fault tests set it below 1 so a
   * 60-second secondary limit takes well under a second there, with the same decisions.
   */
  readonly waitScale?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A rate limit that ends the deployment: the wait is longer than Slipway holds a deployment. */
export function rateLimitTooLong(what: string, waitMs: number, now: number): PermanentError {
  const until = new Date(now + waitMs).toISOString().slice(11, 16);
  return new PermanentError(
    "GITHUB_RATE_LIMITED",
    `GitHub's rate limit for the Slipway App was reached while ${what}, and GitHub asks to wait until ${until} UTC ` +
      `(${Math.ceil(waitMs / 60_000)} min). Deploy again after that time.`,
  );
}

/** The TransientError that hands a rate-limit wait back to the stream, with the wait GitHub asked for. */
export function rateLimited(what: string, waitMs: number): TransientError {
  return new TransientError(
    "GITHUB_RATE_LIMITED",
    `GitHub's rate limit was reached while ${what}; Slipway retries after ${Math.ceil(waitMs / 1000)} s.`,
    waitMs,
  );
}

/**
 * Runs one GitHub call, honouring rate limits and retrying transient failures with backoff, all within `deadline`.
 * What cannot be waited out here becomes a TransientError (with `retryAfterMs` for a rate limit, so the wait is
 * honoured later rather than burned as immediate retries); a rate limit longer than `maxRateLimitWaitMs` becomes a
 * PermanentError; anything else is rethrown untouched so the caller translates only what it expects (404, 422…).
 */
export async function withGitHubRetries<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 250;
  const maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 15 * 60_000;
  const scale = options.waitScale ?? 1;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  let failures = 0;
  let rateLimits = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const asked = rateLimitDelayMs(error, now(), rateLimits);
      if (asked !== undefined) {
        rateLimits++;
        const wait = Math.ceil(asked * scale);
        if (asked > maxRateLimitWaitMs) throw rateLimitTooLong(what, asked, now());
        if (now() + wait > deadline) throw rateLimited(what, wait);
        await sleep(wait);
        continue;
      }
      if (!isRetryableFailure(error)) throw error;
      failures++;
      const backoff = baseDelayMs * 2 ** (failures - 1);
      if (failures >= attempts || now() + backoff > deadline) {
        throw new TransientError(
          "GITHUB_UNAVAILABLE",
          `GitHub did not answer while ${what} (${describeFailure(error)}); Slipway retries.`,
        );
      }
      await sleep(backoff);
    }
  }
}

function describeFailure(error: unknown): string {
  const failure = asFailure(error);
  if (failure?.name === "AbortError" || failure?.name === "TimeoutError") return "timed out";
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
