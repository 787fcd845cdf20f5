import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform } from "../local/platform/platform";

const REPOSITORIES = ["blog", "inventory-api", "landing", "notes-api", "petclinic", "storefront"];
const SEQUENTIAL = 30;
const BURST = 50;

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
 * Watches deployments until each is BUILDING or FAILED, as the platform's administrator (so the API's throttling
 * budget is not spent), with ONE BatchGetItem per 20 ms for all the deployments still outstanding — not a read per
 * deployment every 10 ms, which made thousands of consistent reads per burst and halved the throughput measured.
 */
function createWatcher(platform: Platform) {
  const waiting = new Map<string, { resolve: (status: string) => void; deadline: number }>();
  let timer: NodeJS.Timeout | undefined;
  let reads = 0;
  // `timer` stays set while a tick runs, so ticks never overlap.
  const tick = async () => {
    const ids = [...waiting.keys()].slice(0, 100);
    if (ids.length > 0) {
      reads++;
      const { Responses } = await platform.documents.send(
        new BatchGetCommand({
          RequestItems: {
            [platform.tables.deployments]: {
              Keys: ids.map((id) => ({ id })),
              ConsistentRead: true,
              ProjectionExpression: "id, #status",
              ExpressionAttributeNames: { "#status": "status" },
            },
          },
        }),
      );
      const statuses = new Map(
        (Responses?.[platform.tables.deployments] ?? []).map((item) => [String(item.id), String(item.status)]),
      );
      for (const id of ids) {
        const status = statuses.get(id);
        const entry = waiting.get(id);
        if (!entry) continue;
        if (status === "BUILDING" || status === "FAILED" || performance.now() > entry.deadline) {
          waiting.delete(id);
          entry.resolve(status ?? "MISSING");
        }
      }
    }
    timer = waiting.size > 0 ? setTimeout(() => void tick(), 20) : undefined;
  };
  return {
    settled(id: string, timeoutMs = 120_000): Promise<string> {
      return new Promise((resolve) => {
        waiting.set(id, { resolve, deadline: performance.now() + timeoutMs });
        timer ??= setTimeout(() => void tick(), 20);
      });
    },
    reads: () => reads,
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

/**
 * The local platform end to end: POST /deployments → BUILDING (p50, p95, one at a time) with 0 and 50 ms of GitHub
 * latency, the sequential round trips on that path by service, warm throughput (50 at once), and the inspector's
 * cold start. Figures only.
 */
export async function runPipelineBench(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bench-"));
  const dynamodb: Exchange[] = [];
  const platform = await startPlatform({
    port: 0,
    stateDir,
    fresh: true,
    reposDir: DEFAULT_REPOS_DIR,
    // What this measures ends at BUILDING: builds keep running (simulated for an hour) and the per-user limit is out
    // of the way, so no deployment waits QUEUED. bench/lifecycle.ts measures what comes after.
    simulatedBuildSeconds: 3600,
    // One user starts 100 deployments here: the per-user limit (default 10 a minute) would measure the limit.
    stackConfig: { "slipway:maxConcurrentBuildsPerUser": "1000", "slipway:deploymentsPerUserPerMinute": "1000" },
    schedules: false,
    logger: { info() {}, warn() {}, error() {} },
    onDynamoDbExchange: ({ operation, startedAt, endedAt }) => {
      if (!STREAM_READS.includes(operation)) dynamodb.push({ service: "DynamoDB", operation, startedAt, endedAt });
    },
  });
  const watcher = createWatcher(platform);
  const github = platform.github!;
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
      ...dynamodb.filter((e) => e.startedAt >= from && e.endedAt <= to),
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
        const started = performance.now();
        const id = await deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`);
        if ((await watcher.settled(id)) !== "BUILDING") failed++;
        latencies.push(performance.now() - started);
        const chain = criticalPath(exchangesBetween(startedAt, Date.now()));
        for (const service of Object.keys(paths) as Exchange["service"][]) {
          paths[service].push(chain.filter((exchange) => exchange.service === service).length);
        }
        if (i === SEQUENTIAL - 1) chainShown = chain.map((e) => `${e.service}:${e.operation}`).join(" → ");
      }
      console.log(
        `POST → BUILDING, ${SEQUENTIAL} one at a time, ${latencyMs} ms GitHub latency: p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
          `p95 ${percentile(latencies, 95).toFixed(0)} ms (${failed} not BUILDING)`,
      );
      console.log(
        `  sequential round trips on the critical path (median): GitHub ${median(paths.GitHub)}, ` +
          `DynamoDB ${median(paths.DynamoDB)}, other AWS ${median(paths["other AWS"])}`,
      );
      console.log(`  e.g. ${chainShown}`);
    }
    github.reset();

    const readsBefore = watcher.reads();
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: BURST }, (_, i) => deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`)),
    );
    const statuses = await Promise.all(ids.map((id) => watcher.settled(id)));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `warm throughput: ${BURST} deployments at once in ${seconds.toFixed(2)} s = ${(BURST / seconds).toFixed(1)} deployments/s ` +
        `(${statuses.filter((s) => s !== "BUILDING").length} not BUILDING; the watcher made ${watcher.reads() - readsBefore} reads)`,
    );

    const inspector = platform.functions.get("slipway-inspector")!;
    const coldStarts = inspector.coldStarts();
    console.log(
      `inspector cold start (spawn → handler ready): ${coldStarts.map((ms) => `${ms.toFixed(0)} ms`).join(", ")} ` +
        `over ${coldStarts.length} container(s)`,
    );
  } finally {
    await platform.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
