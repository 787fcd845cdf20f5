import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import type { Readable } from "node:stream";
import type { InvokeResult } from "./invokeResult";
import { runtimeExitError } from "./runtimeExitError";

/** Starts a process; injectable so tests can watch or fail spawns. Same shape as `child_process.spawn`. */
export type SpawnProcess = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const defaultSpawn: SpawnProcess = (command, args, options) => spawn(command, args, options);

/** The runtime inside each container; plain CommonJS, so the child needs nothing but Node. */
export const BOOTSTRAP_PATH = path.join(__dirname, "bootstrap.cjs");

export interface ContainerOptions {
  readonly functionName: string;
  readonly codeDir: string;
  readonly handler: string;
  readonly accountId: string;
  /** The container's whole environment (see lambdaEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  /** Node flags before the bootstrap (the heap limits). */
  readonly nodeArgs: readonly string[];
  /** How long loading the handler may take (Lambda's init phase: 10 s). */
  readonly initTimeoutMs: number;
  readonly spawn: SpawnProcess;
  readonly clock: () => number;
  readonly onLog: (line: string) => void;
  /** Called once, as soon as the container can take no more work (it exited, crashed, or was killed). */
  readonly onGone: () => void;
}

export interface InvokeRequest {
  readonly requestId: string;
  /** The event as JSON, as Lambda receives it. */
  readonly payload: string;
  readonly timeoutMs: number;
}

export interface Container {
  readonly pid: number | undefined;
  /** Busy from creation (a container is started for an invocation) until that invocation and each later one ends. */
  readonly state: "busy" | "idle" | "gone";
  /** Spawn to handler loaded, once loaded. */
  readonly coldStartMs: number | undefined;
  /**
   * Runs one invocation; the first waits for the handler to load. One at a time. `notStarted`: the process was gone
   * before the invocation reached it (it died while idle), so the invocation never ran and may go to a fresh one.
   */
  invoke(request: InvokeRequest): Promise<InvokeResult & { readonly notStarted?: true }>;
  /** SIGKILL (Lambda does not ask a sandbox to leave) and wait for the process to be gone. */
  kill(): Promise<void>;
  /** Settles when the process has exited, whatever the reason. */
  readonly exited: Promise<void>;
}

/** What the child can tell us, plus our own observations, in arrival order. */
type Outcome =
  | { type: "ready" }
  | { type: "initError"; errorType: string; errorMessage: string }
  | { type: "started"; requestId: string }
  | { type: "result"; requestId: string; ok: true; payload: string }
  | { type: "result"; requestId: string; ok: false; errorType: string; errorMessage: string }
  | { type: "gone"; errorType: string; errorMessage: string }
  | { type: "timeout" };

/** 'close' waits for the pipes; a grandchild that inherited them could hold them open, so do not wait forever. */
const CLOSE_GRACE_MS = 1_000;

/**
 * One Lambda execution environment: a `node` child running the bootstrap, talking over IPC. It is spawned for the
 * invocation that needed it; the handler loads once (the cold start) and later invocations reuse it (warm). The
 * parent keeps time: past the timeout the process is killed and the container is gone, as is one whose process
 * exits mid-invocation.
 */
export function startContainer(options: ContainerOptions): Container {
  const spawnedAt = options.clock();
  const child = options.spawn(
    process.execPath,
    [...options.nodeArgs, BOOTSTRAP_PATH, options.handler, options.accountId],
    { cwd: options.codeDir, env: { ...options.env }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  let state: Container["state"] = "busy";
  let coldStartMs: number | undefined;
  let outOfMemory = false;
  const inbox: Outcome[] = [];
  let waiting: ((outcome: Outcome) => void) | undefined;
  const deliver = (outcome: Outcome) => {
    const waiter = waiting;
    waiting = undefined;
    if (waiter) waiter(outcome);
    else inbox.push(outcome);
  };
  /** The next outcome, or a timeout after `ms`. */
  const next = (ms: number) =>
    new Promise<Outcome>((resolve) => {
      const queued = inbox.shift();
      if (queued) return resolve(queued);
      const timer = setTimeout(() => deliver({ type: "timeout" }), ms);
      waiting = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
    });

  // A function, not an inline comparison: `state` changes behind TypeScript's back (in retire, from events).
  const isGone = () => state === "gone";
  const retire = () => {
    if (state === "gone") return;
    state = "gone";
    options.onGone();
  };

  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream as Readable, crlfDelay: Infinity }).on("line", (line) => {
      // V8's last words before it aborts; Lambda reports such a death as Runtime.OutOfMemory.
      if (line.includes("JavaScript heap out of memory")) outOfMemory = true;
      options.onLog(line);
    });
  }
  child.on("message", (message: Outcome) => {
    const known = ["ready", "initError", "started", "result"];
    if (message && known.includes(message.type)) {
      deliver(message);
    }
  });

  let exit: { code: number | null; signal: string | null; detail?: string } | undefined;
  let finished = false;
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  const finish = () => {
    if (finished) return;
    finished = true;
    retire();
    deliver({ type: "gone", ...runtimeExitError(exit ?? { code: null, signal: null }, outOfMemory) });
    markExited();
  };
  child.on("exit", (code, signal) => {
    exit = { code, signal };
    // No new work for a dead process; the invocation it was running hears of it once its output is all read.
    retire();
    setTimeout(finish, CLOSE_GRACE_MS).unref();
  });
  child.on("close", finish);
  child.on("error", (error) => {
    // A process that never started (ENOENT, EMFILE) sends no 'exit'; one that did will still send it.
    if (child.pid === undefined) {
      exit = { code: null, signal: null, detail: error.message };
      finish();
    }
  });

  const kill = async () => {
    retire();
    if (!finished && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };

  const failure = (errorType: string, errorMessage: string, durationMs: number, extra: object = {}): InvokeResult => ({
    ok: false,
    errorType,
    errorMessage,
    ...extra,
    durationMs,
  });

  async function invoke(request: InvokeRequest): Promise<InvokeResult & { readonly notStarted?: true }> {
    if (state === "gone") throw new Error(`container of ${options.functionName} is gone`);
    state = "busy";
    if (coldStartMs === undefined) {
      const init = await next(options.initTimeoutMs);
      if (init.type === "ready") {
        coldStartMs = options.clock() - spawnedAt;
      } else if (init.type === "timeout") {
        void kill();
        const seconds = (options.initTimeoutMs / 1000).toFixed(2);
        return failure("Sandbox.Timedout", `Init timed out after ${seconds} seconds`, 0, { timedOut: true });
      } else if (init.type === "initError") {
        void kill();
        return failure(init.errorType, init.errorMessage, 0);
      } else {
        return failure(
          init.type === "gone" ? init.errorType : "Runtime.ExitError",
          init.type === "gone" ? init.errorMessage : "Runtime exited with error: unexpected message",
          0,
          { crashed: true },
        );
      }
    }
    const started = options.clock();
    child.send({ type: "invoke", ...request }, () => undefined /* a closed channel shows up as 'exit' */);
    let outcome = await next(request.timeoutMs);
    let received = false;
    // A result for another request cannot happen one-at-a-time; skip anything stale rather than mismatch answers.
    while (
      (outcome.type === "result" || outcome.type === "started") &&
      !(outcome.type === "result" && outcome.requestId === request.requestId)
    ) {
      if (outcome.type === "started" && outcome.requestId === request.requestId) received = true;
      outcome = await next(request.timeoutMs);
    }
    const durationMs = options.clock() - started;
    switch (outcome.type) {
      case "result":
        if (!isGone()) state = "idle";
        return outcome.ok
          ? { ok: true, result: JSON.parse(outcome.payload) as unknown, durationMs }
          : failure(outcome.errorType, outcome.errorMessage, durationMs);
      case "timeout": {
        void kill();
        const seconds = (request.timeoutMs / 1000).toFixed(2);
        return failure("Sandbox.Timedout", `Task timed out after ${seconds} seconds`, durationMs, { timedOut: true });
      }
      case "gone":
        return failure(outcome.errorType, outcome.errorMessage, durationMs, {
          crashed: true,
          ...(received ? {} : { notStarted: true }),
        });
      default:
        void kill();
        return failure("Runtime.ExitError", `Runtime exited with error: unexpected ${outcome.type}`, durationMs, {
          crashed: true,
        });
    }
  }

  return {
    get pid() {
      return child.pid;
    },
    get state() {
      return state;
    },
    get coldStartMs() {
      return coldStartMs;
    },
    invoke,
    kill,
    exited,
  };
}
