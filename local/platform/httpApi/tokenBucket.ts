export interface ThrottlingSettings {
  /** Steady requests per second. */
  readonly rateLimit: number;
  /** Requests that may arrive at once (the bucket's size). */
  readonly burstLimit: number;
}

/**
 * API Gateway's throttle: a bucket of `burstLimit` tokens, refilled at `rateLimit` per second; each request takes
 * one, and finds none → 429. Starts full, as a stage that has been idle does.
 */
export function createTokenBucket(settings: ThrottlingSettings, clock: () => number): { take(): boolean } {
  if (!(settings.rateLimit >= 0) || !(settings.burstLimit >= 0)) {
    throw new Error(
      `throttling rateLimit and burstLimit must be ≥ 0, got ${settings.rateLimit} and ${settings.burstLimit}`,
    );
  }
  let tokens = settings.burstLimit;
  let last = clock();
  return {
    take() {
      const now = clock();
      tokens = Math.min(settings.burstLimit, tokens + (Math.max(0, now - last) / 1000) * settings.rateLimit);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
