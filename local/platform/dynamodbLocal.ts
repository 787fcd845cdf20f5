import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./freePort";

const projectRoot = resolve(__dirname, "..", "..");
const installDirectory = join(projectRoot, ".cache", "dynamodb-local");
const jarPath = join(installDirectory, "DynamoDBLocal.jar");
const setupScript = join(projectRoot, "scripts", "setup-dynamodb-local.mjs");

// A JVM start: 2–5 s on an idle machine, past 30 s on a loaded two-core one (measured: 14 s at load 20).
const STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

/**
 * Region and credentials for clients that talk to DynamoDB Local. It accepts any, but the SDK insists on having some;
 * passing them explicitly also keeps the SDK from looking for credentials elsewhere (e.g. the EC2 metadata address).
 */
export const LOCAL_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
} as const;

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`: the same across restarts. */
  readonly endpoint: string;
  /** How long the jar took from spawn to its first answer, for the curious and for the report. */
  readonly startupMs: number;
  /** The Java process running now (undefined while a supervised one is being restarted). */
  pid(): number | undefined;
  /** How many times a supervised DynamoDB Local was restarted after it died. */
  restarts(): number;
  stop(): Promise<void>;
}

/** What a supervised DynamoDB Local reports as it dies and comes back. */
export interface DynamoDbLocalSupervision {
  /** The jar exited without stop() (killed, crashed, out of memory); a restart follows. */
  onExit?(event: { readonly code: number | null; readonly signal: string | null }): void;
  /** It answers again on the same port (with the same tables, when they live in `dbPath`). */
  onRestart?(event: { readonly restarts: number; readonly downMs: number }): void;
  /** A restart attempt failed; another follows after `retryInMs`. */
  onRestartFailed?(event: { readonly error: string; readonly retryInMs: number }): void;
}

/**
 * Starts a private, in-memory DynamoDB Local on a free port (one per test file), installing the jar first if needed.
 *
 * `-sharedDb` makes every region/credential pair see the same tables, so a script run with other credentials sees
 * what the test created. Telemetry is off (flag and env var): tests never talk to anything but loopback.
 * DynamoDB Local has no bind-address option; it listens on all interfaces, and everything here talks to 127.0.0.1.
 *
 * With `supervise`, a jar that dies is started again on the same port, as a managed service comes back after a
 * failure: the local platform keeps one endpoint for its whole life, and its clients' retries ride the gap out.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  ensureJar();
  let lastError: unknown;
  // A port found free can be taken before Java binds it; another port fixes that.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const port = options.port || (await freePort());
      const first = await launch(port, options.dbPath);
      return options.supervise ? supervise(first, port, options.dbPath, options.supervise) : unsupervised(first);
    } catch (error) {
      if ((error as { javaMissing?: boolean }).javaMissing) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

function ensureJar(): void {
  if (existsSync(jarPath)) return;
  execFileSync(process.execPath, [setupScript], { stdio: "inherit", cwd: projectRoot });
  if (!existsSync(jarPath)) throw new Error(`${setupScript} ran but ${jarPath} is still missing`);
}

export interface DynamoDbLocalOptions {
  /** Keep tables in this folder across runs (the local platform's `.slipway/`); default in memory. */
  readonly dbPath?: string;
  /** Default: a free port. */
  readonly port?: number;
  /** Restart the jar on the same port whenever it dies (the local platform). Default: not supervised. */
  readonly supervise?: DynamoDbLocalSupervision;
}

/** One running jar. */
interface Running {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly startupMs: number;
  /** Settles when the process has exited, with how. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Kills the process (if still alive) and removes its working folder. */
  stop(): Promise<void>;
}

function unsupervised(running: Running): DynamoDbLocal {
  return {
    endpoint: running.endpoint,
    startupMs: running.startupMs,
    pid: () => (alive(running.child) ? running.child.pid : undefined),
    restarts: () => 0,
    stop: () => running.stop(),
  };
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Waits between failed restart attempts: 1 s, doubling, at most 30 s. */
const restartDelayMs = (failures: number) => Math.min(1_000 * 2 ** failures, 30_000);

function supervise(
  first: Running,
  port: number,
  dbPath: string | undefined,
  events: DynamoDbLocalSupervision,
): DynamoDbLocal {
  let current: Running | undefined = first;
  let restarts = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, ms);
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  const watch = async (running: Running): Promise<void> => {
    const exit = await running.exited;
    if (stopping) return;
    const downSince = Date.now();
    current = undefined;
    await running.stop(); // its working folder
    events.onExit?.(exit);
    for (let failures = 0; !stopping; failures++) {
      try {
        const next = await launch(port, dbPath);
        if (stopping) {
          await next.stop();
          return;
        }
        current = next;
        restarts++;
        events.onRestart?.({ restarts, downMs: Date.now() - downSince });
        watching = watch(next);
        return;
      } catch (error) {
        const retryInMs = restartDelayMs(failures);
        events.onRestartFailed?.({ error: error instanceof Error ? error.message : String(error), retryInMs });
        await pause(retryInMs);
      }
    }
  };
  let watching = watch(first);

  return {
    endpoint: first.endpoint,
    startupMs: first.startupMs,
    pid: () => (current && alive(current.child) ? current.child.pid : undefined),
    restarts: () => restarts,
    async stop() {
      stopping = true;
      wake?.();
      await current?.stop();
      // A restart under way when stop() came must end (and kill what it started) before stop() returns.
      for (let seen = watching; ; seen = watching) {
        await seen;
        if (seen === watching) break;
      }
    },
  };
}

async function launch(port: number, dbPath: string | undefined): Promise<Running> {
  // The jar writes a metadata file into its working directory; keep that out of the shared install.
  const workDirectory = mkdtempSync(join(tmpdir(), "slipway-ddb-local-"));
  const started = Date.now();
  const child = spawn(
    "java",
    [
      // The client compiler only, one GC thread and the class-data archive: on this two-core machine the jar answers
      // in about half the time (6.8–8.5 s against 11.6–16.1 s at load 9) and runs a 600-request burst 1.3–3× faster,
      // because C2's compiler threads no longer compete with the tests for the cores.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-Xshare:auto",
      `-Djava.library.path=${join(installDirectory, "DynamoDBLocal_lib")}`,
      "-jar",
      jarPath,
      ...(dbPath ? ["-dbPath", dbPath] : ["-inMemory"]),
      "-sharedDb",
      "-disableTelemetry",
      "-port",
      String(port),
    ],
    { cwd: workDirectory, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DDB_LOCAL_TELEMETRY: "0" } },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const failedStart = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(
          Object.assign(
            new Error(
              "DynamoDB Local needs Java 17+ and `java` is not on PATH. Install it with " +
                "`apt-get install openjdk-17-jre-headless` (Debian/Ubuntu) or any JRE ≥ 17, then rerun the tests.",
            ),
            { javaMissing: true },
          ),
        );
      } else reject(error);
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`DynamoDB Local exited during startup (code ${code}, signal ${signal}):\n${output}`)),
    );
  });
  failedStart.catch(() => undefined);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntilAnswering(port, started + STARTUP_TIMEOUT_MS), failedStart]);
  } catch (error) {
    await terminate(child);
    rmSync(workDirectory, { recursive: true, force: true });
    throw error;
  }
  const startupMs = Date.now() - started;
  // If this process ends without stop() (a crash, an unhandled signal), Java must not outlive it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.removeListener("exit", killOnExit));
  return {
    child,
    endpoint,
    startupMs,
    exited,
    async stop() {
      process.removeListener("exit", killOnExit);
      await terminate(child);
      rmSync(workDirectory, { recursive: true, force: true });
    },
  };
}

/** Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is listening. */
async function waitUntilAnswering(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (await answers(port)) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`DynamoDB Local did not answer on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms`);
}

function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = request({ host: "127.0.0.1", port, path: "/", method: "GET", timeout: 1_000 }, (response) => {
      response.resume();
      done(true);
    });
    probe.on("error", () => done(false));
    probe.on("timeout", () => probe.destroy());
    probe.end();
  });
}

/** Stops exactly the process we spawned: SIGTERM, then SIGKILL if it lingers. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}
