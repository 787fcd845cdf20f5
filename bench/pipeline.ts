import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { watchDeployments } from "../local/platform/deploymentWatcher";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform } from "../local/platform/platform";

const REPOSITORIES = ["blog", "inventory-api", "landing", "notes-api", "petclinic", "storefront"];
const SEQUENTIAL = 30;
const BURST = 50;
/** How long the platform is watched doing nothing before the burst. */
const IDLE_MS = 3_000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const median = (values: number[]) => percentile(values, 50);

async function deploy(platform: Platform, token: string, repository: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${platform.apiUrl}/deployments`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ repository }),
    });
    const body = (await response.json()) as { id?: string };
    if (response.status === 202 && body.id) return body.id;
    if (attempt >= 3) throw new Error(`POST /deployments answered ${response.status}: ${JSON.stringify(body)}`);
  }
}

/**
 * Follows the deployments table's stream (as `npm start` does, local/platform/deploymentWatcher.ts) and tells when
 * each deployment is first seen BUILDING or FAILED: a GetRecords every 250 ms (Lambda's rate) whatever the number of
 * deployments, not a read per deployment (which made thousands of consistent reads per burst and halved the throughput
 * measured). When a deployment reached BUILDING is taken from the inspector's writes, not from when the watcher saw
 * it, so reading the stream more often would only cost CPU (at 50 ms the watcher was a third of the idle platform's).
 * A deployment may settle before the bench asks about it (a burst's first ones build before its last POST answers).
 */
async function createWatcher(platform: Platform) {
  const settledAt = new Map<string, { status: string; at: number }>();
  const waiting = new Map<string, (settled: { status: string; at: number }) => void>();
  const streams = await watchDeployments({
    dynamodbEndpoint: platform.dynamodbEndpoint,
    table: platform.tables.deployments,
    pollIntervalMs: 250,
    logger: { info() {}, warn() {}, error() {} },
    onChange: ({ deployment }) => {
      if (deployment.status !== "BUILDING" && deployment.status !== "FAILED") return;
      if (settledAt.has(deployment.id)) return;
      const settled = { status: deployment.status, at: Date.now() };
      settledAt.set(deployment.id, settled);
      waiting.get(deployment.id)?.(settled);
      waiting.delete(deployment.id);
    },
  });
  return {
    /** The status it settled in and when the watcher saw it (ms since the epoch); MISSING after `timeoutMs`. */
    settled(id: string, timeoutMs = 120_000): Promise<{ status: string; at: number }> {
      const known = settledAt.get(id);
      if (known) return Promise.resolve(known);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ status: "MISSING", at: Date.now() });
        }, timeoutMs);
        waiting.set(id, (settled) => {
          clearTimeout(timer);
          resolve(settled);
        });
      });
    },
    stop: () => streams.stop(),
  };
}

interface Exchange {
  readonly service: "GitHub" | "DynamoDB" | "other AWS";
  readonly operation: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * The sequential round trips between POST and BUILDING: the longest chain of requests each starting after the one
 * before it ended (requests that overlap ran side by side and count once). DynamoDB Streams reads are Lambda's own
 * poller, not the pipeline's work, and are left out.
 */
export function criticalPath(exchanges: readonly Exchange[]): Exchange[] {
  const sorted = [...exchanges].sort((a, b) => a.endedAt - b.endedAt);
  const best: { length: number; previous: number }[] = [];
  sorted.forEach((exchange, index) => {
    let choice = { length: 1, previous: -1 };
    for (let before = 0; before < index; before++) {
      if (sorted[before]!.endedAt <= exchange.startedAt && best[before]!.length + 1 > choice.length) {
        choice = { length: best[before]!.length + 1, previous: before };
      }
    }
    best.push(choice);
  });
  let at = best.reduce((top, entry, index) => (entry.length > (best[top]?.length ?? 0) ? index : top), 0);
  const chain: Exchange[] = [];
  while (at >= 0 && sorted[at]) {
    chain.unshift(sorted[at]!);
    at = best[at]!.previous;
  }
  return chain;
}

const STREAM_READS = ["GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"];
/** The functions between POST and BUILDING; the others' requests (build events of earlier builds) are not this path. */
const PATH_FUNCTIONS = ["slipway-deploy", "slipway-inspector"];

/**
 * `SLIPWAY_BENCH_PROFILE=<file>.cpuprofile npm run bench -- pipeline`: a V8 CPU profile of this process during the
 * burst only (open it in Chrome's DevTools). Profiling itself costs CPU: read the figures of a run without it.
 */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** The 1-minute load average: the machine is shared, and every figure is worth only as much as the load beside it. */
const load = () => `load ${os.loadavg()[0]!.toFixed(1)}`;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere or once gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds by part of the platform: this process (the bench's client and watcher, the HTTP API, the emulators, the
 * IAM proxy and the pollers), DynamoDB Local, each function's containers (those alive when asked).
 */
function cpuByPart(platform: Platform): Map<string, number> {
  const parts = new Map<string, number>();
  const add = (part: string, pid: number | undefined) => {
    const seconds = pid === undefined ? undefined : cpuSeconds(pid);
    if (seconds !== undefined) parts.set(part, (parts.get(part) ?? 0) + seconds);
  };
  add("this process: bench client, HTTP API, emulators, IAM proxy, pollers", process.pid);
  add("DynamoDB Local (Java)", platform.dynamodbLocal.pid());
  for (const [name, fn] of platform.functions) {
    if (!name.startsWith("arn:")) for (const pid of fn.pids()) add(`λ ${name}`, pid);
  }
  return parts;
}

/**
 * The local platform end to end: POST /deployments → BUILDING (p50, p95, one at a time) with 0 and 50 ms of GitHub
 * latency, the sequential round trips on that path by service, warm throughput (50 at once) with where its CPU went,
 * and the inspector's cold start. Figures only, each with the load average it was measured under.
 */
export async function runPipelineBench(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bench-"));
  const dynamodb: (Exchange & { role?: string })[] = [];
  /** DynamoDB requests through the IAM proxy by role and operation (stream reads included): counted in the burst. */
  const requestCounts = new Map<string, number>();
  const platform = await startPlatform({
    port: 0,
    stateDir,
    fresh: true,
    reposDir: DEFAULT_REPOS_DIR,
    // What this measures ends at BUILDING: builds keep running (simulated for an hour) and the per-user limit is out
    // of the way, so no deployment waits QUEUED. bench/lifecycle.ts measures what comes after.
    simulatedBuildSeconds: 3600,
    // In memory, as the tests run DynamoDB Local: the figures are the platform's, not SQLite's disk writes.
    dynamodbInMemory: true,
    // One user starts 100 deployments here: the per-user limit (default 10 a minute) would measure the limit.
    stackConfig: { "slipway:maxConcurrentBuildsPerUser": "1000", "slipway:deploymentsPerUserPerMinute": "1000" },
    schedules: false,
    logger: { info() {}, warn() {}, error() {} },
    onDynamoDbExchange: ({ operation, role, startedAt, endedAt }) => {
      const key = `${role ?? "administrator"} ${operation}`;
      requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
      if (!STREAM_READS.includes(operation)) {
        dynamodb.push({ service: "DynamoDB", operation, startedAt, endedAt, ...(role ? { role } : {}) });
      }
    },
  });
  const watcher = await createWatcher(platform);
  const github = platform.github!;
  const roleOf = (name: string) => [...platform.resources.functions.values()].find((f) => f.name === name)?.roleName;
  const pathRoles = PATH_FUNCTIONS.map(roleOf);
  const inspectorRole = roleOf("slipway-inspector");
  const exchangesBetween = (from: number, to: number): Exchange[] => {
    const answered = (records: { at: string; answeredAt?: number; operation?: string; path: string }[]) =>
      records.filter((r) => r.answeredAt !== undefined && Date.parse(r.at) >= from && r.answeredAt <= to);
    return [
      ...answered(github.requests()).map((r) => ({
        service: "GitHub" as const,
        operation: r.operation ?? r.path,
        startedAt: Date.parse(r.at),
        endedAt: r.answeredAt!,
      })),
      ...answered(platform.aws.requests()).map((r) => ({
        service: "other AWS" as const,
        operation: r.operation ?? r.path,
        startedAt: Date.parse(r.at),
        endedAt: r.answeredAt!,
      })),
      ...dynamodb.filter((e) => pathRoles.includes(e.role) && e.startedAt >= from && e.endedAt <= to),
    ];
  };
  try {
    const token = await platform.token("demo");
    // Warm-up: a container per function, tokens minted, archives generated once.
    await Promise.all(REPOSITORIES.map(async (name) => watcher.settled(await deploy(platform, token, `demo/${name}`))));

    for (const latencyMs of [0, 50]) {
      github.reset();
      platform.aws.reset();
      if (latencyMs > 0) github.inject({ path: /.*/, delayMs: latencyMs, times: 1_000_000 });
      const latencies: number[] = [];
      const paths: Record<Exchange["service"], number[]> = { GitHub: [], DynamoDB: [], "other AWS": [] };
      let chainShown = "";
      let failed = 0;
      for (let i = 0; i < SEQUENTIAL; i++) {
        dynamodb.length = 0;
        const startedAt = Date.now();
        const id = await deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`);
        const settled = await watcher.settled(id);
        if (settled.status !== "BUILDING") failed++;
        // BUILDING is reached when the inspector's last write (the move to BUILDING) is answered, not when the
        // watcher's next stream read sees it (up to 250 ms later).
        const lastWrite = Math.max(
          startedAt,
          ...dynamodb.filter((e) => e.role === inspectorRole && e.endedAt <= settled.at).map((e) => e.endedAt),
        );
        latencies.push((lastWrite > startedAt ? lastWrite : settled.at) - startedAt);
        const chain = criticalPath(exchangesBetween(startedAt, settled.at));
        for (const service of Object.keys(paths) as Exchange["service"][]) {
          paths[service].push(chain.filter((exchange) => exchange.service === service).length);
        }
        if (i === SEQUENTIAL - 1) chainShown = chain.map((e) => `${e.service}:${e.operation}`).join(" → ");
      }
      console.log(
        `POST → BUILDING, ${SEQUENTIAL} one at a time, ${latencyMs} ms GitHub latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
          `p95 ${percentile(latencies, 95).toFixed(0)} ms (${failed} not BUILDING; ${load()})`,
      );
      console.log(
        `  sequential round trips on the critical path (median): GitHub ${median(paths.GitHub)}, ` +
          `DynamoDB ${median(paths.DynamoDB)}, other AWS ${median(paths["other AWS"])}`,
      );
      console.log(`  e.g. ${chainShown}`);
    }
    github.reset();

    // What the platform spends doing nothing (the stream pollers, the watcher, DynamoDB Local's own threads): a burst
    // pays it for as long as it lasts, so a slower burst costs more CPU per deployment.
    const idleBefore = cpuByPart(platform);
    const idleStartedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleSeconds = (Date.now() - idleStartedAt) / 1000;
    const idle = [...cpuByPart(platform)].map(([part, total]) => [part, total - (idleBefore.get(part) ?? 0)] as const);
    const idlePerSecond = idle.reduce((sum, [, used]) => sum + used, 0) / idleSeconds;

    const profiler = process.env.SLIPWAY_BENCH_PROFILE ? await startProfile() : undefined;
    const cpuBefore = cpuByPart(platform);
    requestCounts.clear();
    dynamodb.length = 0;
    const startedAt = Date.now();
    const ids = await Promise.all(
      Array.from({ length: BURST }, (_, i) => deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`)),
    );
    const settled = await Promise.all(ids.map((id) => watcher.settled(id)));
    // The burst ends with the inspector's last write (the last move to BUILDING), not when the watcher next looked.
    const lastSeen = Math.max(...settled.map((s) => s.at));
    const lastWrite = Math.max(
      startedAt,
      ...dynamodb.filter((e) => e.role === inspectorRole && e.endedAt <= lastSeen).map((e) => e.endedAt),
    );
    const seconds = ((lastWrite > startedAt ? lastWrite : lastSeen) - startedAt) / 1000;
    const loadAfter = load();
    if (profiler) await profiler(process.env.SLIPWAY_BENCH_PROFILE!);
    const cpu = [...cpuByPart(platform)]
      .map(([part, total]) => [part, total - (cpuBefore.get(part) ?? 0)] as const)
      .sort((a, b) => b[1] - a[1]);
    const cpuTotal = cpu.reduce((sum, [, used]) => sum + used, 0);
    console.log(
      `warm throughput: ${BURST} deployments at once in ${seconds.toFixed(2)} s = ${(BURST / seconds).toFixed(1)} deployments/s ` +
        `(${settled.filter((s) => s.status !== "BUILDING").length} not BUILDING; ${loadAfter}; ${os.cpus().length} cores)`,
    );
    console.log(
      `  CPU used meanwhile: ${cpuTotal.toFixed(1)} s = ${((cpuTotal * 1000) / BURST).toFixed(0)} ms per deployment ` +
        `(${((100 * cpuTotal) / seconds).toFixed(0)}% of one core)`,
    );
    for (const [part, used] of cpu) {
      if (used >= 0.05) console.log(`    ${used.toFixed(1).padStart(5)} s  ${part}`);
    }
    console.log(
      `  idle, the platform uses ${(idlePerSecond * 1000).toFixed(0)} ms of CPU per second (${idle
        .filter(([, used]) => used / idleSeconds >= 0.005)
        .map(([part, used]) => `${part.split(":")[0]} ${((used * 1000) / idleSeconds).toFixed(0)}`)
        .join(", ")}): ${((idlePerSecond * seconds * 1000) / BURST).toFixed(0)} ms per deployment of this burst`,
    );
    const requests = [...requestCounts].sort((a, b) => b[1] - a[1]);
    const requestTotal = requests.reduce((sum, [, count]) => sum + count, 0);
    console.log(`  DynamoDB requests meanwhile: ${requestTotal} = ${(requestTotal / BURST).toFixed(1)} per deployment`);
    for (const [key, count] of requests) {
      if (count >= BURST / 10)
        console.log(`    ${(count / BURST).toFixed(1).padStart(5)}  ${key.replace(/^slipway-/, "")}`);
    }

    const inspector = platform.functions.get("slipway-inspector")!;
    const coldStarts = inspector.coldStarts();
    console.log(
      `inspector cold start (spawn → handler ready): ${coldStarts.map((ms) => `${ms.toFixed(0)} ms`).join(", ")} ` +
        `over ${coldStarts.length} container(s)`,
    );
  } finally {
    await watcher.stop();
    await platform.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
