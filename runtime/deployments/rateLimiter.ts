import { UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { RateLimitedError } from "../errors";
import { RATE_LIMITS } from "../schema";
import { userKey } from "./userKey";

export interface RateLimiterOptions {
  readonly client: DynamoDBDocumentClient;
  /** The `rateLimits` table. */
  readonly table: string;
  /** What is counted, in the item key and the 429's code: e.g. "deployments". */
  readonly scope: string;
  /** How many per user per window. */
  readonly limit: number;
  /** The window's length. Default 60 (per minute). */
  readonly windowSeconds?: number;
  /** Default: the system clock. */
  readonly clock?: () => Date;
}

/** A user's place in the current window: the counter's key, and how long until the next window starts. */
export interface RateWindow {
  readonly key: string;
  /** Epoch seconds when the window ends (and a refused caller may try again). */
  readonly endsAt: number;
  /** Whole seconds from `nowMs` to `endsAt`, at least 1: the Retry-After value. */
  readonly retryAfterSeconds: number;
}

/** Fixed windows aligned to the epoch (every minute on the minute): the key names the window, so no reset is needed. */
export function rateWindow(scope: string, userId: string, nowMs: number, windowSeconds: number): RateWindow {
  const windowMs = windowSeconds * 1000;
  const startMs = Math.floor(nowMs / windowMs) * windowMs;
  const endsAt = (startMs + windowMs) / 1000;
  return {
    key: `${scope}#${userKey(userId)}#${startMs / 1000}`,
    endsAt,
    retryAfterSeconds: Math.max(1, Math.ceil(endsAt - nowMs / 1000)),
  };
}

/** Counters are kept an hour past their window: long enough to look at, then TTL removes them. */
const KEEP_AFTER_WINDOW_SECONDS = 3600;

export interface RateLimiter {
  /**
   * Counts one for the user in the current window, or throws a RateLimitedError (and counts nothing) at the limit.
   * Returns the counter it counted on, for `refund`.
   */
  take(userId: string): Promise<{ readonly key: string }>;
  /** Gives back what `take` counted, for something that did not happen after all (best effort). */
  refund(taken: { readonly key: string }): Promise<void>;
}

/**
 * A per-user limit as one DynamoDB counter per window: `take` is a single conditional UpdateItem (ADD 1 if the count
 * is below the limit), which DynamoDB applies atomically, so concurrent requests can never get past the limit
 * together. A write the SDK retried after a lost answer may count one extra: the limit errs on the safe side.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const windowSeconds = options.windowSeconds ?? 60;
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new Error(`rate limit for ${options.scope} must be a whole number ≥ 1, got ${options.limit}`);
  }
  const now = () => (options.clock ?? (() => new Date()))().getTime();
  const names = { "#count": RATE_LIMITS.countAttribute, "#expiresAt": RATE_LIMITS.ttlAttribute };
  return {
    async take(userId) {
      const window = rateWindow(options.scope, userId, now(), windowSeconds);
      try {
        await options.client.send(
          new UpdateCommand({
            TableName: options.table,
            Key: { [RATE_LIMITS.hashKey]: window.key },
            UpdateExpression: "ADD #count :one SET #expiresAt = :expiresAt",
            ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ":one": 1,
              ":limit": options.limit,
              ":expiresAt": window.endsAt + KEEP_AFTER_WINDOW_SECONDS,
            },
          }),
        );
      } catch (error) {
        if ((error as { name?: unknown } | null)?.name !== "ConditionalCheckFailedException") throw error;
        throw new RateLimitedError(
          `${options.scope.toUpperCase()}_RATE_LIMITED`,
          `You may start at most ${options.limit} ${options.scope} per ${windowSeconds === 60 ? "minute" : `${windowSeconds} seconds`}. ` +
            `Try again in ${window.retryAfterSeconds} s (the Retry-After header); nothing was recorded.`,
          window.retryAfterSeconds,
        );
      }
      return { key: window.key };
    },
    async refund(taken) {
      try {
        await options.client.send(
          new UpdateCommand({
            TableName: options.table,
            Key: { [RATE_LIMITS.hashKey]: taken.key },
            UpdateExpression: "ADD #count :minusOne",
            ConditionExpression: "#count > :zero",
            ExpressionAttributeNames: { "#count": RATE_LIMITS.countAttribute },
            ExpressionAttributeValues: { ":minusOne": -1, ":zero": 0 },
          }),
        );
      } catch {
        // The write failed: the count stays one high, which only errs on the safe side.
      }
    },
  };
}
