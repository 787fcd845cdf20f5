import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { createServer, type Server } from "node:net";
import * as path from "node:path";
import test from "ava";
import type { Deployment } from "../runtime/deployment";
import { clearState, KEPT_ACROSS_FRESH } from "../local/platform/clearState";
import { describeChange } from "../local/platform/deploymentWatcher";
import { readRunningPlatform, writeRunningPlatform } from "../local/platform/runningPlatform";
import { useTestFolder } from "./helpers/testFolder";

// npm start's papercuts, as a newcomer meets them.
const folder = useTestFolder("start");
const projectRoot = path.resolve(__dirname, "..");

function start(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "local/start.ts", ...args],
      { cwd: projectRoot, env: { ...process.env, SLIPWAY_STATE_DIR: folder.subfolder("state"), ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

test("a port already in use gets one line naming the fix, not a stack trace", async (t) => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;

  for (const [args, env] of [
    [["--port", String(port)], {}],
    [[], { PORT: String(port) }],
  ] as const) {
    const result = await start([...args], env);
    t.is(result.code, 1);
    t.is(
      result.stderr.trim(),
      `Port ${port} is already in use (another npm start?): stop what uses it, or pick another port: PORT=${port + 1} npm start, or npm start -- --port ${port + 1}`,
    );
    t.false(result.stderr.includes("    at "), "no stack trace");
  }
});

test("--help shows the port, --fresh keeping the signing key, and sealed builds", async (t) => {
  const result = await start(["--help"]);
  t.is(result.code, 0);
  t.regex(result.stdout, /--port <n>/);
  t.regex(result.stdout, /--fresh .*keeps the token signing key/);
  t.regex(result.stdout, /--run-builds .*sealed/);
});

test("--fresh empties the state folder but keeps the token signing key", (t) => {
  const stateDir = folder.subfolder("fresh");
  for (const file of [
    "issuer-key.pem",
    "github-app-key.pem",
    "checkpoints.json",
    "dynamodb/shared-local-instance.db",
  ]) {
    fs.mkdirSync(path.dirname(path.join(stateDir, file)), { recursive: true });
    fs.writeFileSync(path.join(stateDir, file), file);
  }
  t.deepEqual(clearState(stateDir), ["issuer-key.pem"]);
  t.deepEqual(fs.readdirSync(stateDir), [...KEPT_ACROSS_FRESH]);
  t.is(fs.readFileSync(path.join(stateDir, "issuer-key.pem"), "utf8"), "issuer-key.pem");
  t.deepEqual(clearState(path.join(stateDir, "missing")), []);
});

test("each terminal line names the user who deployed", (t) => {
  const deployment = {
    id: "5b0b7e2e-3d4c-4b8a-9f51-0d6c1c2e9a11",
    userId: "alice",
    repository: "demo/petclinic",
    ref: "main",
    status: "PROCESSING",
  } as Deployment;
  t.is(
    describeChange({ deployment, previousStatus: "PENDING" }, new Date("2024-05-01T10:11:12Z")),
    "[10:11:12] 5b0b7e2e alice: demo/petclinic@main  PENDING → PROCESSING",
  );
});

test("a running platform tells the operator commands where it is; a stopped one says so", (t) => {
  const stateDir = folder.subfolder("running");
  t.regex(String(readRunningPlatform(stateDir)), /the local platform is not running/);
  const info = {
    apiUrl: "http://127.0.0.1:3000",
    dynamodbEndpoint: "http://127.0.0.1:8000",
    region: "us-east-1",
    tables: { deployments: "d", installations: "i", idempotency: "k" },
    pid: process.pid,
  };
  const forget = writeRunningPlatform(stateDir, info);
  t.deepEqual(readRunningPlatform(stateDir), info);
  writeRunningPlatform(stateDir, { ...info, pid: 2 ** 22 + 12345 });
  t.regex(String(readRunningPlatform(stateDir)), /has stopped: start it with npm start/);
  forget();
  t.false(fs.existsSync(path.join(stateDir, "platform.json")));
});
