/** The time one invocation has: every wait and retry of an inspection stays inside it. */
export interface InspectionBudget {
  /** Epoch ms after which no wait starts and no retry is tried: the rest is left for the stream's retry. */
  readonly deadline: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Multiplies the waits GitHub asks for: 1 in AWS (see RetryOptions.waitScale). */
  readonly waitScale?: number;
}

/** The part of Lambda's context object the inspector reads. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/**
 * Kept back from the deadline: after the last GitHub wait the inspection still records its outcome, and a failing
 * one records `lastError`/`notBefore` before Lambda's timeout would kill it (a killed invocation records nothing).
 * A fifth of the function's time, between 5 and 30 s.
 */
export function reserveMs(remainingMs: number): number {
  return Math.min(30_000, Math.max(5_000, Math.floor(remainingMs / 5)));
}

export function budgetFromContext(
  context: LambdaContextLike | undefined,
  options: { now?: () => number; sleep?: (ms: number) => Promise<void>; waitScale?: number } = {},
): InspectionBudget {
  const now = options.now ?? Date.now;
  const remaining = context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
  return {
    deadline: now() + remaining - (Number.isFinite(remaining) ? reserveMs(remaining) : 0),
    now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    ...(options.waitScale !== undefined ? { waitScale: options.waitScale } : {}),
  };
}
