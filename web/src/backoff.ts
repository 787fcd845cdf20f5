export interface BackoffSettings {
  /** Milliseconds after a poll that saw a change (and the first delay). */
  readonly minMs: number;
  /** The longest wait between polls. */
  readonly maxMs: number;
  /** Growth per quiet or failed poll. */
  readonly factor: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { minMs: 1000, maxMs: 30_000, factor: 1.6 };

/** The next wait: back to the minimum when something changed, longer (up to the maximum) when nothing did or it failed. */
export function nextDelay(previousMs: number, outcome: "changed" | "unchanged" | "failed", settings = DEFAULT_BACKOFF): number {
  if (outcome === "changed") return settings.minMs;
  return Math.min(settings.maxMs, Math.max(settings.minMs, Math.round(previousMs * settings.factor)));
}

export interface Poller {
  /** Stops polling and aborts the request in flight. */
  stop(): void;
  /** Polls now and resets the wait (after the user did something). */
  poke(): void;
}

/**
 * Runs `poll` until it answers "stop" or `stop()` is called, waiting `nextDelay` between runs. Each run gets an
 * AbortSignal that `stop()` aborts, so a page left behind cancels its request.
 */
export function startPolling(
  poll: (signal: AbortSignal) => Promise<"changed" | "unchanged" | "stop">,
  settings: BackoffSettings = DEFAULT_BACKOFF,
  // Arrow functions: a browser's setTimeout called as a method of another object throws "Illegal invocation".
  timers: { set: (run: () => void, ms: number) => unknown; clear: (timer: unknown) => void } = {
    set: (run, ms) => setTimeout(run, ms),
    clear: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  },
): Poller {
  let delay = settings.minMs;
  let timer: unknown;
  let controller: AbortController | undefined;
  let stopped = false;

  const run = async (): Promise<void> => {
    timer = undefined;
    controller = new AbortController();
    let outcome: "changed" | "unchanged" | "failed" | "stop";
    try {
      outcome = await poll(controller.signal);
    } catch {
      outcome = "failed";
    }
    if (stopped || outcome === "stop") return;
    delay = nextDelay(delay, outcome, settings);
    timer = timers.set(() => void run(), delay);
  };

  timer = timers.set(() => void run(), 0);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) timers.clear(timer);
      controller?.abort();
    },
    poke() {
      if (stopped || timer === undefined) return;
      timers.clear(timer);
      delay = settings.minMs;
      timer = timers.set(() => void run(), 0);
    },
  };
}
