import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What a running `npm start` tells the operator commands (`npm run installations -- --local …`): where its API and
 * DynamoDB Local listen and its tables' names, in `<stateDir>/platform.json` while it runs.
 */
export interface RunningPlatform {
  readonly apiUrl: string;
  /** DynamoDB Local itself, the administrator's endpoint (no IAM proxy). */
  readonly dynamodbEndpoint: string;
  readonly region: string;
  readonly tables: { readonly deployments: string; readonly installations: string; readonly idempotency: string };
  readonly pid: number;
}

const FILE = "platform.json";

export function writeRunningPlatform(stateDir: string, platform: RunningPlatform): () => void {
  const file = path.join(stateDir, FILE);
  fs.writeFileSync(file, JSON.stringify(platform, null, 2) + "\n");
  return () => fs.rmSync(file, { force: true });
}

/** The running platform of `stateDir`, or a sentence saying why there is none. */
export function readRunningPlatform(stateDir: string): RunningPlatform | string {
  const file = path.join(stateDir, FILE);
  let platform: RunningPlatform;
  try {
    platform = JSON.parse(fs.readFileSync(file, "utf8")) as RunningPlatform;
  } catch {
    return `the local platform is not running (no ${file}): start it with npm start, or set SLIPWAY_STATE_DIR to its state folder`;
  }
  try {
    process.kill(platform.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") {
      return `the local platform that wrote ${file} (pid ${platform.pid}) has stopped: start it with npm start`;
    }
  }
  return platform;
}
