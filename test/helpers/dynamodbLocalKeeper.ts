/**
 * Keeps the shared DynamoDB Local of one `ava` run (see sharedDynamoDbLocal.ts):
 *
 *   node --import tsx test/helpers/dynamodbLocalKeeper.ts <ava pid> <folder>
 *
 * Starts the jar, reports its endpoint in `<folder>/keeper.json`, and once the `ava` process is gone stops the jar
 * and removes the folder.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { startDynamoDbLocal } from "../../local/platform/dynamodbLocal";
import { alive, KEEPER_REPORT, type KeeperReport } from "./sharedDynamoDbLocal";

const OWNER_CHECK_MS = 500;

async function main(owner: number, dir: string): Promise<void> {
  const report = (content: Omit<KeeperReport, "keeperPid">) => {
    const temporary = path.join(dir, `.${KEEPER_REPORT}`);
    fs.writeFileSync(temporary, JSON.stringify({ keeperPid: process.pid, ...content }));
    fs.renameSync(temporary, path.join(dir, KEEPER_REPORT)); // readers never see half a report
  };
  try {
    const local = await startDynamoDbLocal();
    report({ endpoint: local.endpoint, startupMs: local.startupMs });
    while (alive(owner)) await new Promise((done) => setTimeout(done, OWNER_CHECK_MS));
    await local.stop();
  } catch (error) {
    report({ error: error instanceof Error ? error.message : String(error) });
    // Readers see the error while the run lasts; then the folder goes.
    while (alive(owner)) await new Promise((done) => setTimeout(done, OWNER_CHECK_MS));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const [owner, dir] = process.argv.slice(2);
if (!owner || !dir) {
  process.stderr.write("usage: dynamodbLocalKeeper.ts <owner pid> <folder>\n");
  process.exit(2);
}
void main(Number(owner), dir);
