import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform } from "../local/platform/platform";

const REPOSITORIES = ["blog", "inventory-api", "landing", "notes-api", "petclinic", "storefront"];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function deploy(platform: Platform, token: string, repository: string): Promise<string> {
  const response = await fetch(`${platform.apiUrl}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ repository }),
  });
  return ((await response.json()) as { id: string }).id;
}

/**
 * Watches the deployment's item until BUILDING or FAILED, every 10 ms, reading DynamoDB Local directly as the
 * platform's administrator: the measured time is the pipeline's, and the pollers do not eat the API's throttling budget.
 */
async function untilSettled(platform: Platform, id: string, timeoutMs = 120_000): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { Item } = await platform.documents.send(
      new GetCommand({ TableName: platform.tables.deployments, Key: { id }, ConsistentRead: true }),
    );
    const status = String(Item?.status);
    if (status === "BUILDING" || status === "FAILED" || performance.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The local platform end to end: time from POST /deployments to BUILDING (p50, p95 over 50 deployments, one at a
 * time), deployments per second through the pipeline with 50 ms injected GitHub latency (50 at once), and the
 * inspector's cold start (container spawn to handler loaded). Figures only.
 */
export async function runPipelineBench(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bench-"));
  const platform = await startPlatform({
    port: 0,
    stateDir,
    fresh: true,
    reposDir: DEFAULT_REPOS_DIR,
    // What this measures ends at BUILDING: builds keep running (simulated for an hour) and the per-user limit is out
    // of the way, so no deployment waits QUEUED. bench/lifecycle.ts measures what comes after.
    simulatedBuildSeconds: 3600,
    stackConfig: { "slipway:maxConcurrentBuildsPerUser": "1000" },
    schedules: false,
    logger: { info() {}, warn() {}, error() {} },
  });
  try {
    const token = await platform.token("demo");
    const latencies: number[] = [];
    let failed = 0;
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      const id = await deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`);
      if ((await untilSettled(platform, id)) !== "BUILDING") failed++;
      latencies.push(performance.now() - started);
    }
    console.log(
      `POST → BUILDING, 50 sequential deployments: p50 ${percentile(latencies, 50).toFixed(0)} ms, ` +
        `p95 ${percentile(latencies, 95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (${failed} not BUILDING)`,
    );

    platform.github!.inject({ path: /.*/, delayMs: 50, times: 1_000_000 });
    const started = performance.now();
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`)),
    );
    const statuses = await Promise.all(ids.map((id) => untilSettled(platform, id)));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `throughput with 50 ms GitHub latency: 50 deployments in ${seconds.toFixed(2)} s = ${(50 / seconds).toFixed(1)} deployments/s ` +
        `(${statuses.filter((s) => s !== "BUILDING").length} not BUILDING)`,
    );
    platform.github!.reset();

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
