/**
 * Fault injection shared by the emulators: a fault matches requests by method, path and operation and, for the next
 * `times` matching requests, replaces or delays the emulator's answer. Faults are tried in the order injected.
 */
export interface Fault {
  /** HTTP method, case-insensitive. Any method when absent. */
  readonly method?: string;
  /** Tested against the request path (pathname and query); a string is a regular-expression source. */
  readonly path?: RegExp | string;
  /**
   * Tested against the emulator's name for the request: GitHub's route (`GET /repos/{owner}/{repo}/commits/{ref}`,
   * `POST /graphql`), or AWS's `service:Operation` (`codebuild:StartBuild`, `s3:PutObject`). A string matches exactly.
   */
  readonly operation?: RegExp | string;
  /** Answer with this status instead of the emulator's own answer. */
  readonly status?: number;
  /** Headers for the injected answer, or added to the emulator's own answer when `status` is absent. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body of the injected answer; an object is sent as JSON. */
  readonly body?: string | object;
  /** Wait this long first; then answer with the fault (when `status` is set) or as usual. */
  readonly delayMs?: number;
  /**
   * Hold the request until this settles, then answer as usual: a test decides when the answer comes (after another
   * request of its own has landed, say) instead of guessing a delay a loaded machine may overrun.
   */
  readonly holdUntil?: Promise<unknown>;
  /** Never answer (the connection stays open until the client gives up or the emulator closes). */
  readonly hang?: boolean;
  /**
   * Do the work, then drop the connection without answering: the request took effect but its answer was lost (a
   * crash or network cut after the server acted), so a retry must not do it twice.
   */
  readonly dropResponse?: boolean;
  /**
   * Answer as usual but break the body after `afterBytes` bytes: `announce: "full"` sends the whole body's
   * content-length then drops the connection (a network break mid-transfer); `"none"` sends it chunked, without a
   * length, then drops the connection; `"cut"` sends a complete HTTP answer whose body is only the first bytes (a
   * truncating proxy: the HTTP layer sees nothing wrong).
   */
  readonly cutBody?: { readonly afterBytes: number; readonly announce: "full" | "none" | "cut" };
  /** How many matching requests the fault applies to. Default 1; `Infinity` until `reset()`. */
  readonly times?: number;
}

export interface FaultTarget {
  readonly method: string;
  readonly path: string;
  readonly operation: string | undefined;
}

export interface FaultQueue {
  inject(fault: Fault): void;
  /** The fault for this request, if one matches; counts it against the fault's `times`. */
  take(target: FaultTarget): Fault | undefined;
  /** Faults still pending, for diagnostics. */
  pending(): Fault[];
  clear(): void;
}

export function createFaultQueue(): FaultQueue {
  let queue: { fault: Fault; remaining: number }[] = [];
  return {
    inject(fault) {
      const times = fault.times ?? 1;
      if (!(times > 0)) throw new Error(`Fault.times must be a positive number (or Infinity); got ${String(times)}`);
      queue.push({ fault, remaining: times });
    },
    take(target) {
      const entry = queue.find(({ fault }) => faultMatches(fault, target));
      if (!entry) return undefined;
      entry.remaining -= 1;
      if (entry.remaining <= 0) queue = queue.filter((other) => other !== entry);
      return entry.fault;
    },
    pending: () => queue.map(({ fault }) => fault),
    clear() {
      queue = [];
    },
  };
}

export function faultMatches(fault: Fault, target: FaultTarget): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== target.method.toUpperCase()) return false;
  if (fault.path !== undefined && !asRegExp(fault.path).test(target.path)) return false;
  if (fault.operation !== undefined) {
    if (target.operation === undefined) return false;
    const matches =
      typeof fault.operation === "string"
        ? fault.operation === target.operation
        : fault.operation.test(target.operation);
    if (!matches) return false;
  }
  return true;
}

function asRegExp(pattern: RegExp | string): RegExp {
  // A global or sticky RegExp keeps `lastIndex` between calls; a fresh copy keeps matching stateless.
  return typeof pattern === "string"
    ? new RegExp(pattern)
    : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
}
