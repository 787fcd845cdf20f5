/** GitHub's rate-limit resources the emulator meters. */
export type RateLimitResource = "core" | "graphql";

export interface RateLimitBudget {
  /** REST requests per window for each token (GitHub: 5,000 an hour). */
  readonly core?: number;
  /** GraphQL points per window for each token (GitHub: 5,000 an hour; every emulated query costs 1). */
  readonly graphql?: number;
  /** REST requests per window without a token (GitHub: 60 an hour per address). */
  readonly anonymous?: number;
  /** Default one hour. */
  readonly windowMs?: number;
}

export interface RateLimitState {
  readonly resource: RateLimitResource;
  readonly limit: number;
  readonly remaining: number;
  readonly used: number;
  /** Epoch seconds when the window ends. */
  readonly reset: number;
}

export interface RateLimits {
  /** Counts `cost` against the key's budget; refused (and not counted) when the budget cannot cover it. */
  charge(key: string, resource: RateLimitResource, cost?: number): { allowed: boolean; state: RateLimitState };
  /** The budget as it stands, without charging. */
  peek(key: string, resource: RateLimitResource): RateLimitState;
  /** Uses up a key's budget (tests of exhaustion without a thousand requests). */
  exhaust(key: string, resource: RateLimitResource): void;
  clear(): void;
}

/** Keys whose budget is the anonymous one start with this. */
export const ANONYMOUS_KEY_PREFIX = "anonymous:";

export function createRateLimits(budget: RateLimitBudget, now: () => number): RateLimits {
  const windowMs = budget.windowMs ?? 3_600_000;
  const windows = new Map<string, { startedAt: number; used: number }>();
  const limitFor = (key: string, resource: RateLimitResource) =>
    key.startsWith(ANONYMOUS_KEY_PREFIX)
      ? (budget.anonymous ?? 60)
      : resource === "graphql"
        ? (budget.graphql ?? 5000)
        : (budget.core ?? 5000);

  const windowOf = (key: string, resource: RateLimitResource) => {
    const id = `${resource}\0${key}`;
    const current = windows.get(id);
    if (current && now() < current.startedAt + windowMs) return current;
    const fresh = { startedAt: now(), used: 0 };
    windows.set(id, fresh);
    return fresh;
  };
  const stateOf = (key: string, resource: RateLimitResource): RateLimitState => {
    const window = windowOf(key, resource);
    const limit = limitFor(key, resource);
    return {
      resource,
      limit,
      used: window.used,
      remaining: Math.max(0, limit - window.used),
      reset: Math.ceil((window.startedAt + windowMs) / 1000),
    };
  };

  return {
    charge(key, resource, cost = 1) {
      const window = windowOf(key, resource);
      if (window.used + cost > limitFor(key, resource))
        return { allowed: false, state: { ...stateOf(key, resource), remaining: 0 } };
      window.used += cost;
      return { allowed: true, state: stateOf(key, resource) };
    },
    peek: stateOf,
    exhaust(key, resource) {
      windowOf(key, resource).used = limitFor(key, resource);
    },
    clear() {
      windows.clear();
    },
  };
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    "x-ratelimit-limit": String(state.limit),
    "x-ratelimit-remaining": String(state.remaining),
    "x-ratelimit-reset": String(state.reset),
    "x-ratelimit-used": String(state.used),
    "x-ratelimit-resource": state.resource,
  };
}
