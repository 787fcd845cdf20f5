import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { BENCHMARKS } from "./run";

/**
 * `npm run bench [-- <name>…]`: figures on stdout, nothing asserted (tests never time anything). Each benchmark runs
 * in its own process: each runs the Pulumi program, which a process can do once.
 */
function main(): number {
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(BENCHMARKS);
  let failures = 0;
  for (const name of names) {
    console.log(`\n== ${BENCHMARKS[name]?.title ?? name}`);
    const result = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "run.ts"), name], {
      stdio: "inherit",
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1", NODE_NO_WARNINGS: "1" },
    });
    if (result.status !== 0) failures++;
  }
  return failures === 0 ? 0 : 1;
}

process.exit(main());
