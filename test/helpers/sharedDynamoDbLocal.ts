import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DynamoDbLocal } from "../../local/platform/dynamodbLocal";

/**
 * One in-memory DynamoDB Local for a whole `ava` run, instead of one per test file: a JVM start costs 2–3 s of CPU
 * and every fresh JVM answers slowly until its JIT warms up, and 15 files need one. Files cannot meet in it: every
 * test creates its tables under random names (`createTables`), and `-sharedDb` is how each file's scripts, with
 * other credentials, already saw them.
 *
 * The first test file to ask starts a keeper (`dynamodbLocalKeeper.ts`), detached, which starts the jar and writes
 * its endpoint into a folder named after the `ava` process (the test workers' parent); the other files read it. The
 * keeper stops the jar and removes the folder once that process has ended, however it ended. A test that kills or
 * restarts DynamoDB Local must start its own (`startDynamoDbLocal`).
 */
export async function sharedDynamoDbLocal(): Promise<DynamoDbLocal> {
  const owner = process.ppid;
  const dir = path.join(os.tmpdir(), `slipway-dynamodb-local-${owner}`);
  const deadline = Date.now() + KEEPER_STARTUP_MS;
  for (;;) {
    let mine = false;
    try {
      fs.mkdirSync(dir); // atomic: exactly one file wins and starts the keeper
      mine = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (mine) startKeeper(owner, dir);
    const found = await readKeeper(dir, deadline);
    if (found !== "stale") return shared(found);
    fs.rmSync(dir, { recursive: true, force: true }); // a keeper that died (killed) left its folder: start anew
  }
}

/** Written by the keeper once the jar answers (or it could not start). */
export interface KeeperReport {
  readonly keeperPid: number;
  readonly endpoint?: string;
  readonly startupMs?: number;
  readonly error?: string;
}

export const KEEPER_REPORT = "keeper.json";
// The keeper's own start (Node with tsx) plus a JVM start on a loaded two-core machine.
const KEEPER_STARTUP_MS = 180_000;

function startKeeper(owner: number, dir: string): void {
  const keeper = spawn(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "dynamodbLocalKeeper.ts"), String(owner), dir],
    { detached: true, stdio: "ignore", env: { ...process.env, NODE_OPTIONS: "" } },
  );
  keeper.unref(); // the test file may end before the run does; the keeper outlives it on purpose
}

async function readKeeper(dir: string, deadline: number): Promise<{ endpoint: string; startupMs: number } | "stale"> {
  const reportPath = path.join(dir, KEEPER_REPORT);
  while (Date.now() < deadline) {
    if (fs.existsSync(reportPath)) {
      const report = JSON.parse(fs.readFileSync(reportPath, "utf8")) as KeeperReport;
      if (!alive(report.keeperPid)) return "stale";
      if (report.error) throw new Error(`the shared DynamoDB Local did not start: ${report.error}`);
      return { endpoint: report.endpoint!, startupMs: report.startupMs! };
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`the shared DynamoDB Local did not answer within ${KEEPER_STARTUP_MS / 1000} s (see ${dir})`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The shared instance as one file sees it: stopping it is the keeper's business, so stop() does nothing. */
function shared({ endpoint, startupMs }: { endpoint: string; startupMs: number }): DynamoDbLocal {
  return { endpoint, startupMs, pid: () => undefined, restarts: () => 0, stop: async () => undefined };
}
