import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { InvokeResult } from "./invokeResult";
import { lambdaEnvironment } from "./lambdaEnvironment";
import { isLambdaNodeRuntime, lambdaNodeFlags } from "./lambdaNodeFlags";
import { nodeMemoryFlags } from "./nodeMemoryFlags";
import { defaultSpawn, startContainer, type Container, type SpawnProcess } from "./startContainer";

export type { InvokeResult } from "./invokeResult";

export interface StartFunctionOptions {
  /** The function's name (AWS_LAMBDA_FUNCTION_NAME, the context's functionName, the ARN). */
  readonly name: string;
  /** The unpacked archive: `__index.js` and its `node_modules`. Lambda's /var/task. */
  readonly codeDir: string;
  /** `<module>.<export>`, relative to codeDir. Default "__index.handler" (what the stack's functions declare). */
  readonly handler?: string;
  /** The function's Lambda runtime, which decides the Node.js flags Lambda applies. Default "nodejs22.x". */
  readonly runtime?: string;
  /** The function's variables. Credentials for its role go here too; nothing is inherited from this process. */
  readonly environment: Readonly<Record<string, string>>;
  /** 128–10240, as Lambda allows; sets the V8 heap limits. */
  readonly memorySizeMb: number;
  /** 1–900, as Lambda allows. */
  readonly timeoutSeconds: number;
  /** NODE_PATH: what the Lambda runtime provides besides the archive (see lambdaRuntimeModules). Default none. */
  readonly runtimeModulesDir?: string;
  /** Containers running at once; further invocations queue. Default 4. */
  readonly maxConcurrency?: number;
  /** Every stdout/stderr line of every container. Default: to this process's stderr, prefixed with the name. */
  readonly onLog?: (functionName: string, line: string) => void;
  /** AWS_REGION and the ARN's region. Default "us-east-1". */
  readonly region?: string;
  /** The ARN's account. Default "000000000000". */
  readonly accountId?: string;
  /** The containers' PATH. Default this process's PATH. */
  readonly path?: string;
  readonly spawn?: SpawnProcess;
  /** Milliseconds, for durations and cold starts. Default `performance.now`. */
  readonly clock?: () => number;
  /** Invocation ids. Default random UUIDs (what Lambda's request ids are). */
  readonly newRequestId?: () => string;
}

export interface LocalFunction {
  readonly name: string;
  /** One synchronous invocation (RequestResponse): the event goes in as JSON, the result comes back parsed. */
  invoke(event: unknown): Promise<InvokeResult>;
  /** Milliseconds from spawn to handler loaded, one entry per container that loaded, in order. */
  coldStarts(): number[];
  /** Pids of the containers alive now (for tests and the launcher's process accounting). */
  pids(): number[];
  /** Kills every container and waits until each process has exited. Queued invocations are rejected. */
  stop(): Promise<void>;
}

/** Lambda's limits, checked up front so a mistyped option fails at start rather than as an odd runtime error. */
const LIMITS = {
  memorySizeMb: { min: 128, max: 10_240 },
  timeoutSeconds: { min: 1, max: 900 },
  maxConcurrency: { min: 1, max: 1_000 },
} as const;

/** Lambda's init phase may take 10 s. */
const INIT_TIMEOUT_MS = 10_000;

interface Pending {
  readonly payload: string;
  readonly resolve: (result: InvokeResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A Lambda function on this machine. Containers are started on demand, one per concurrent invocation up to
 * `maxConcurrency` (then invocations queue), kept warm and reused; a container whose invocation timed out or whose
 * process died is replaced by a fresh one (a new cold start) when next needed.
 */
export async function startFunction(options: StartFunctionOptions): Promise<LocalFunction> {
  const maxConcurrency = options.maxConcurrency ?? 4;
  checkLimits(options.name, { ...options, maxConcurrency });
  const codeDir = path.resolve(options.codeDir);
  if (!fs.statSync(codeDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`codeDir of ${options.name} is not a folder: ${codeDir} (unpack the function's archive there)`);
  }
  const runtime = options.runtime ?? "nodejs22.x";
  if (!isLambdaNodeRuntime(runtime))
    throw new Error(`runtime of ${options.name} is not a Lambda Node.js runtime: ${runtime}`);
  const region = options.region ?? "us-east-1";
  const env = lambdaEnvironment({
    functionName: options.name,
    memorySizeMb: options.memorySizeMb,
    region,
    codeDir,
    ...(options.runtimeModulesDir ? { runtimeModulesDir: path.resolve(options.runtimeModulesDir) } : {}),
    environment: options.environment,
    path: options.path ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  });
  const onLog = options.onLog ?? ((name, line) => process.stderr.write(`[${name}] ${line}\n`));
  const clock = options.clock ?? (() => performance.now());
  const newRequestId = options.newRequestId ?? randomUUID;
  const timeoutMs = options.timeoutSeconds * 1000;

  const containers: Container[] = [];
  /** Every container ever started, until its process has exited: what stop() waits for. */
  const living = new Set<Container>();
  const queue: Pending[] = [];
  const coldStarts: number[] = [];
  let stopped = false;

  const launch = (): Container => {
    const container: Container = startContainer({
      functionName: options.name,
      codeDir,
      handler: options.handler ?? "__index.handler",
      accountId: options.accountId ?? "000000000000",
      env,
      nodeArgs: [...lambdaNodeFlags(runtime, env.NODE_OPTIONS), ...nodeMemoryFlags(options.memorySizeMb)],
      initTimeoutMs: INIT_TIMEOUT_MS,
      spawn: options.spawn ?? defaultSpawn,
      clock,
      onLog: (line) => onLog(options.name, line),
      onGone: () => {
        const index = containers.indexOf(container);
        if (index >= 0) containers.splice(index, 1);
        // Its slot is free: a queued invocation may start a fresh container.
        queueMicrotask(pump);
      },
    });
    containers.push(container);
    living.add(container);
    void container.exited.then(() => living.delete(container));
    return container;
  };

  const run = (container: Container, pending: Pending) => {
    const hadLoaded = container.coldStartMs !== undefined;
    container.invoke({ requestId: newRequestId(), payload: pending.payload, timeoutMs }).then(
      (result) => {
        if (!hadLoaded && container.coldStartMs !== undefined) coldStarts.push(container.coldStartMs);
        pending.resolve(result);
        pump();
      },
      (error: Error) => {
        pending.reject(error);
        pump();
      },
    );
  };

  function pump(): void {
    while (!stopped && queue.length > 0) {
      const idle = containers.find((container) => container.state === "idle");
      if (idle) run(idle, queue.shift()!);
      else if (containers.length < maxConcurrency) run(launch(), queue.shift()!);
      else return;
    }
  }

  return {
    name: options.name,
    invoke(event) {
      if (stopped) return Promise.reject(new Error(`function ${options.name} is stopped`));
      return new Promise<InvokeResult>((resolve, reject) => {
        queue.push({ payload: JSON.stringify(event) ?? "null", resolve, reject });
        pump();
      });
    },
    coldStarts: () => [...coldStarts],
    pids: () => containers.flatMap((container) => (container.pid === undefined ? [] : [container.pid])),
    async stop() {
      stopped = true;
      for (const pending of queue.splice(0)) pending.reject(new Error(`function ${options.name} was stopped`));
      await Promise.all([...living].map((container) => container.kill()));
    },
  };
}

function checkLimits(name: string, values: Record<keyof typeof LIMITS, number>): void {
  for (const [option, { min, max }] of Object.entries(LIMITS)) {
    const value = values[option as keyof typeof LIMITS];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${option} of ${name} must be an integer from ${min} to ${max}, got ${value}`);
    }
  }
}
