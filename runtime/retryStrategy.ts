import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types";

/**
 * How long the current invocation may still run: Lambda's `context.getRemainingTimeInMillis()`; undefined outside an
 * invocation (a script, a test), where only the attempt count bounds retries.
 */
export interface InvocationBudget {
  remainingMs(): number | undefined;
}

export interface RetryStrategyOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly budget?: InvocationBudget;
  /** Kept free at the end of the invocation, for the work after the call (recording the error, answering). */
  readonly reserveMs?: number;
  /** [0, 1): jitter. Default Math.random. */
  readonly random?: () => number;
  /** Epoch milliseconds, for Retry-After hints. Default Date.now. */
  readonly now?: () => number;
}

/** The error types the SDK's standard mode retries (@smithy/core's StandardRetryStrategy.isRetryableError). */
const RETRYABLE: readonly string[] = ["TRANSIENT", "THROTTLING"];
/** First retry's delay: a refused connection or a 500 is retried fast; throttling backs off from further up. */
const BASE_DELAY_MS: Readonly<Record<string, number>> = { TRANSIENT: 100, THROTTLING: 500 };
const MAX_DELAY_MS = 5_000;
/** As the SDK: a server's Retry-After is honoured up to this far beyond the computed delay. */
const MAX_HINT_EXTRA_MS = 5_000;

/** Exponential backoff with equal jitter: retry n waits between half and all of min(base × 2^(n-1), 5 s). */
export function retryDelayMs(retry: number, errorType: string, random: () => number = Math.random): number {
  const ceiling = Math.min((BASE_DELAY_MS[errorType] ?? BASE_DELAY_MS.TRANSIENT!) * 2 ** (retry - 1), MAX_DELAY_MS);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The retry strategy of every AWS client in the runtime: the SDK's standard rules for what to retry (transient and
 * throttling errors, as its middleware classifies them), exponential backoff with jitter, and a bound that the SDK
 * cannot know: the invocation's own deadline. A retry whose wait would run into the last `reserveMs` of the
 * invocation is not made, so the caller still has time to record the failure; the stream or the client retries then.
 *
 * Hand-written because the SDK's StandardRetryStrategy also spends a retry quota per client (500 tokens, 14 per
 * transient retry): about 35 retries drain it, so ten concurrent inspections would give up within a second of a
 * DynamoDB outage. In Lambda a client serves one invocation at a time, whose deadline bounds the retries instead.
 */
export function createRetryStrategy(options: RetryStrategyOptions): RetryStrategyV2 {
  const reserveMs = options.reserveMs ?? 1_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    // The SDK's retry middleware sleeps this long before the next attempt.
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    async refreshRetryTokenForRetry(previous: RetryToken, error: RetryErrorInfo): Promise<RetryToken> {
      const retry = previous.getRetryCount() + 1;
      // Throwing refuses the retry: the middleware then throws the call's own error, not this one.
      if (!RETRYABLE.includes(error.errorType)) throw new Error(`not retried: ${error.errorType} error`);
      if (retry >= options.maxAttempts) throw new Error(`not retried: ${options.maxAttempts} attempts made`);
      let delay = retryDelayMs(retry, error.errorType, random);
      if (error.retryAfterHint instanceof Date) {
        delay = Math.max(delay, Math.min(error.retryAfterHint.getTime() - now(), delay + MAX_HINT_EXTRA_MS));
      }
      const remaining = options.budget?.remainingMs();
      if (remaining !== undefined && delay + reserveMs > remaining) {
        throw new Error(`not retried: ${remaining} ms left in the invocation`);
      }
      return token(retry, delay);
    },
    recordSuccess: () => undefined,
  };
}
