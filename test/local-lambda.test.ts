import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import anyTest from "ava";
import * as pulumi from "@pulumi/pulumi";
import { lambdaNodeFlags } from "../local/platform/lambda/lambdaNodeFlags";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { nodeMemoryFlags } from "../local/platform/lambda/nodeMemoryFlags";
import {

  startFunction,
  type InvokeResult,
  type LocalFunction,
  type StartFunctionOptions,
} from "../local/platform/lambda/startFunction";

/**
 * One test at a time: each starts Node.js containers under Lambda's 10-second init limit, and a dozen of them
 * spawning at once on a loaded two-core machine miss it — a limit this file tests, so it is not raised here.
 */
const test = anyTest.serial;

/*
 * Local Lambda containers: real `node` children running tiny handlers written to a temp folder, driven through
 * startFunction exactly as the local platform drives the functions Pulumi built.
 */

const root = mkdtempSync(join(tmpdir(), "slipway-local-lambda-"));
const started: LocalFunction[] = [];
let dirs = 0;

test.after.always("every function stopped leaves no container behind", (t) => {
  const leftovers = started.flatMap((fn) => fn.pids());
  rmSync(root, { recursive: true, force: true });
  t.deepEqual(leftovers, []);
  t.deepEqual(bootstrapChildren(), [], "no bootstrap process is left as a child of this test process");
});

/** A function folder holding `__index.js` with `code`. */
function handlerDir(code: string, parent = root): string {
  const dir = join(parent, `fn-${++dirs}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "__index.js"), code);
  return dir;
}

interface Logged {
  fn: LocalFunction;
  lines: string[];
}

/** Starts a function over `code` with test defaults, collecting its log lines; stopped at the end of the test. */
async function start(
  t: { teardown(fn: () => Promise<void>): void },
  code: string,
  options: Partial<StartFunctionOptions> = {},
): Promise<Logged> {
  const lines: string[] = [];
  const fn = await startFunction({
    name: "test-fn",
    codeDir: handlerDir(code),
    environment: {},
    memorySizeMb: 256,
    timeoutSeconds: 3,
    onLog: (_name, line) => lines.push(line),
    ...options,
  });
  started.push(fn);
  t.teardown(() => fn.stop());
  return { fn, lines };
}

function ok(t: { fail(message: string): void }, result: InvokeResult): any {
  if (!result.ok) {
    t.fail(`expected success, got ${result.errorType}: ${result.errorMessage}`);
    return undefined;
  }
  return result.result;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function bootstrapChildren(): string[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "-f", "bootstrap.cjs"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Log lines travel on their own pipe and may arrive just after the result, as in Lambda. */
async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
  return check();
}

const ECHO = `
exports.handler = async (event, context) => ({
  event,
  pid: process.pid,
  context: {
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    memoryLimitInMB: context.memoryLimitInMB,
    invokedFunctionArn: context.invokedFunctionArn,
    remaining: context.getRemainingTimeInMillis(),
  },
});`;

test("a handler's result comes back, with a Lambda-like context", async (t) => {
  const { fn } = await start(t, ECHO, { name: "echo", memorySizeMb: 512, timeoutSeconds: 5, region: "eu-west-1" });
  const result = await fn.invoke({ hello: "world", n: [1, 2] });
  const value = ok(t, result);
  t.deepEqual(value.event, { hello: "world", n: [1, 2] });
  t.regex(value.context.awsRequestId, /^[0-9a-f-]{36}$/);
  t.like(value.context, {
    functionName: "echo",
    memoryLimitInMB: "512",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:000000000000:function:echo",
  });
  t.true(value.context.remaining > 4_000 && value.context.remaining <= 5_000, String(value.context.remaining));
  t.true(result.durationMs >= 0);
});

test("callback handlers and undefined results behave as in Lambda", async (t) => {
  const { fn } = await start(
    t,
    `exports.handler = (event, context, callback) => {
       if (event.fail) callback(new TypeError("bad input"));
       else if (event.nothing) callback(null);
       else setTimeout(() => callback(null, { via: "callback" }), 10);
     };`,
  );
  t.deepEqual(ok(t, await fn.invoke({})), { via: "callback" });
  t.is(ok(t, await fn.invoke({ nothing: true })), null);
  t.like(await fn.invoke({ fail: true }), { ok: false, errorType: "TypeError", errorMessage: "bad input" });
});

test("a thrown error is the result's errorType and errorMessage, and the container is kept", async (t) => {
  const { fn, lines } = await start(
    t,
    `class DeploymentNotFound extends Error { constructor(m) { super(m); this.name = "DeploymentNotFound"; } }
     exports.handler = async (event) => {
       if (event.throwString) throw "just a string";
       if (event.fail) throw new DeploymentNotFound("no deployment " + event.id);
       return process.pid;
     };`,
  );
  const pid = ok(t, await fn.invoke({}));
  const failed = await fn.invoke({ fail: true, id: "d-1" });
  t.like(failed, { ok: false, errorType: "DeploymentNotFound", errorMessage: "no deployment d-1" });
  t.false("crashed" in failed || "timedOut" in failed);
  t.like(await fn.invoke({ throwString: true }), { ok: false, errorType: "string", errorMessage: "just a string" });
  t.is(ok(t, await fn.invoke({})), pid, "the same container serves the next call");
  t.is(fn.coldStarts().length, 1);
  t.true(
    await eventually(() => lines.some((line) => line.includes("Invoke Error") && line.includes("DeploymentNotFound"))),
  );
});

test("a timeout kills the container and the next invocation gets a fresh one", async (t) => {
  const { fn } = await start(
    t,
    `exports.handler = async (event) => {
       if (event.hang) await new Promise(() => setInterval(() => {}, 1000));
       return process.pid;
     };`,
    { timeoutSeconds: 1 },
  );
  const first = ok(t, await fn.invoke({}));
  const timedOut = await fn.invoke({ hang: true });
  t.like(timedOut, {
    ok: false,
    errorType: "Sandbox.Timedout",
    errorMessage: "Task timed out after 1.00 seconds",
    timedOut: true,
  });
  t.true(timedOut.durationMs >= 990, String(timedOut.durationMs));
  t.true(await eventually(() => !alive(first)), "the timed-out container's process was killed");
  const second = ok(t, await fn.invoke({}));
  t.not(second, first);
  t.is(fn.coldStarts().length, 2);
});

test("a process that exits or crashes mid-invocation is reported as crashed and replaced", async (t) => {
  const { fn, lines } = await start(
    t,
    `exports.handler = async (event) => {
       if (event.exit !== undefined) process.exit(event.exit);
       if (event.uncaught) { setTimeout(() => { throw new Error("kaboom in a timer"); }, 5); return new Promise(() => {}); }
       if (event.rejection) { Promise.reject(new Error("nobody awaited me")); return new Promise(() => {}); }
       if (event.kill) process.kill(process.pid, "SIGKILL");
       return process.pid;
     };`,
  );
  const pids = [ok(t, await fn.invoke({}))];
  t.like(await fn.invoke({ exit: 3 }), {
    ok: false,
    errorType: "Runtime.ExitError",
    errorMessage: "Runtime exited with error: exit status 3",
    crashed: true,
  });
  pids.push(ok(t, await fn.invoke({})));
  t.like(await fn.invoke({ uncaught: true }), {
    errorMessage: "Runtime exited with error: exit status 1",
    crashed: true,
  });
  t.true(await eventually(() => lines.some((line) => line.includes("kaboom in a timer"))), "the stack went to the log");
  pids.push(ok(t, await fn.invoke({})));
  t.like(await fn.invoke({ rejection: true }), {
    errorMessage: "Runtime exited with error: exit status 1",
    crashed: true,
  });
  pids.push(ok(t, await fn.invoke({})));
  t.like(await fn.invoke({ kill: true }), { errorMessage: "Runtime exited with error: signal: killed", crashed: true });
  t.like(await fn.invoke({ exit: 0 }), { errorMessage: "Runtime exited without providing a reason", crashed: true });
  pids.push(ok(t, await fn.invoke({})));
  t.is(new Set(pids).size, 5, "each crash was followed by a new container");
  t.is(fn.coldStarts().length, 6, "six containers: five crashed, the last one is warm");
});

test("a failing init is reported to the invocation and retried on the next", async (t) => {
  const dir = join(root, "flaky-init");
  mkdirSync(dir);
  const { fn } = await start(
    t,
    `const fs = require("fs");
     const marker = ${JSON.stringify(join(dir, "tried"))};
     if (!fs.existsSync(marker)) { fs.writeFileSync(marker, ""); throw new RangeError("first init fails"); }
     exports.handler = async () => "initialised";`,
  );
  t.like(await fn.invoke({}), { ok: false, errorType: "RangeError", errorMessage: "first init fails" });
  t.is(ok(t, await fn.invoke({})), "initialised");
  t.is(fn.coldStarts().length, 1, "only the container that loaded counts as a cold start");

  const { fn: missing } = await start(t, `exports.other = async () => 1;`);
  t.like(await missing.invoke({}), { ok: false, errorType: "Runtime.HandlerNotFound" });
  const { fn: noModule } = await start(t, `exports.handler = async () => 1;`, { handler: "nope.handler" });
  t.like(await noModule.invoke({}), {
    ok: false,
    errorType: "Runtime.ImportModuleError",
    errorMessage: "Error: Cannot find module 'nope'",
  });
});

test("the handler module loads once per container: cold start, then warm", async (t) => {
  const { fn } = await start(
    t,
    `globalThis.loads = (globalThis.loads || 0) + 1;
     let calls = 0;
     exports.handler = async () => ({ loads: globalThis.loads, calls: ++calls, pid: process.pid });`,
  );
  const results = [];
  for (let i = 0; i < 3; i++) results.push(ok(t, await fn.invoke({})));
  t.deepEqual(
    results.map((r) => [r.loads, r.calls]),
    [
      [1, 1],
      [1, 2],
      [1, 3],
    ],
  );
  t.is(new Set(results.map((r) => r.pid)).size, 1);
  t.is(fn.coldStarts().length, 1);
  t.true(fn.coldStarts()[0]! > 0);
});

test("a Pulumi-serialized callback factory runs once per container, as CallbackFunction deploys it", async (t) => {
  const factory = () => {
    const g = globalThis as { factoryRuns?: number };
    g.factoryRuns = (g.factoryRuns ?? 0) + 1;
    let calls = 0;
    return async (event: { name: string }) => ({ hello: event.name, factoryRuns: g.factoryRuns, calls: ++calls });
  };
  const serialized = await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true });
  const { fn } = await start(t, serialized.text, { handler: `__index.${serialized.exportName}` });
  t.deepEqual(ok(t, await fn.invoke({ name: "a" })), { hello: "a", factoryRuns: 1, calls: 1 });
  t.deepEqual(ok(t, await fn.invoke({ name: "b" })), { hello: "b", factoryRuns: 1, calls: 2 });
});

test("concurrent invocations use separate containers up to maxConcurrency, then queue", async (t) => {
  const { fn } = await start(
    t,
    `exports.handler = async (event) => {
       const started = Date.now();
       await new Promise((done) => setTimeout(done, event.ms));
       return { pid: process.pid, started, ended: Date.now() };
     };`,
    { maxConcurrency: 2 },
  );
  const pair = await Promise.all([fn.invoke({ ms: 400 }), fn.invoke({ ms: 400 })]).then((r) => r.map((x) => ok(t, x)));
  t.not(pair[0].pid, pair[1].pid, "two slow calls in parallel ran in two containers");
  t.true(pair[0].started < pair[1].ended && pair[1].started < pair[0].ended, "and overlapped in time");
  t.is(fn.coldStarts().length, 2);

  const three = await Promise.all([1, 2, 3].map(() => fn.invoke({ ms: 300 }))).then((r) => r.map((x) => ok(t, x)));
  t.deepEqual(new Set(three.map((r) => r.pid)), new Set(pair.map((r) => r.pid)), "warm containers reused, no third");
  const [queued] = [...three].sort((a, b) => b.started - a.started);
  const firstEnd = Math.min(...three.filter((r) => r !== queued).map((r) => r.ended));
  t.true(queued.started >= firstEnd - 5, "the third call waited for a container to free up");
  t.is(fn.coldStarts().length, 2);
});

test("the container sees exactly its environment and Lambda's variables, nothing of the parent's", async (t) => {
  process.env.SLIPWAY_PARENT_ONLY = "must-not-leak";
  t.teardown(() => delete process.env.SLIPWAY_PARENT_ONLY);
  const runtimeModules = lambdaRuntimeModules(resolve(__dirname, ".."), join(root, "runtime"));
  const { fn } = await start(t, `exports.handler = async () => ({ ...process.env });`, {
    name: "env-fn",
    environment: { DEPLOYMENTS_TABLE: "deployments-local", AWS_ACCESS_KEY_ID: "role-key" },
    memorySizeMb: 128,
    runtimeModulesDir: runtimeModules,
  });
  const env = ok(t, await fn.invoke({}));
  const codeDir = env.LAMBDA_TASK_ROOT;
  t.deepEqual(env, {
    DEPLOYMENTS_TABLE: "deployments-local",
    AWS_ACCESS_KEY_ID: "role-key",
    AWS_LAMBDA_FUNCTION_NAME: "env-fn",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    LAMBDA_TASK_ROOT: codeDir,
    NODE_PATH: `${runtimeModules}:${codeDir}`,
    TZ: ":UTC",
    PATH: process.env.PATH,
  });
  await t.throwsAsync(
    startFunction({ name: "bad", codeDir, environment: { AWS_REGION: "x" }, memorySizeMb: 128, timeoutSeconds: 1 }),
    { message: /sets AWS_REGION, which Lambda sets itself/ },
  );
});

test("modules resolve from the archive and the runtime's SDK only, never from folders above the archive", async (t) => {
  // A node_modules above the function folder, as the project's would be if the archive were unpacked inside it.
  const parent = join(root, "project");
  mkdirSync(join(parent, "node_modules", "leaky"), { recursive: true });
  writeFileSync(join(parent, "node_modules", "leaky", "index.js"), "module.exports = 'leaked';");
  const codeDir = handlerDir(
    `exports.handler = async (event) => {
       try { return { loaded: require(event.name) && true }; } catch (e) { return { code: e.code }; }
     };`,
    parent,
  );
  mkdirSync(join(codeDir, "node_modules", "packed"), { recursive: true });
  writeFileSync(join(codeDir, "node_modules", "packed", "index.js"), "module.exports = 'packed';");
  const fn = await startFunction({
    name: "resolve",
    codeDir,
    environment: {},
    memorySizeMb: 256,
    timeoutSeconds: 10,
    runtimeModulesDir: lambdaRuntimeModules(resolve(__dirname, ".."), join(root, "runtime")),
    onLog: () => undefined,
  });
  started.push(fn);
  t.teardown(() => fn.stop());
  t.deepEqual(ok(t, await fn.invoke({ name: "packed" })), { loaded: true });
  t.deepEqual(ok(t, await fn.invoke({ name: "@aws-sdk/client-dynamodb" })), { loaded: true }, "the SDK, as in Lambda");
  t.deepEqual(ok(t, await fn.invoke({ name: "leaky" })), { code: "MODULE_NOT_FOUND" });
  t.deepEqual(ok(t, await fn.invoke({ name: "ava" })), { code: "MODULE_NOT_FOUND" });
});

test("memory size sets the V8 heap limits as Lambda's bootstrap does; running out is Runtime.OutOfMemory", async (t) => {
  t.deepEqual(nodeMemoryFlags(256), ["--max-semi-space-size=12", "--max-old-space-size=231"]);
  const code = `const v8 = require("v8");
    exports.handler = async (event) => {
      if (event.exhaust) { const keep = []; for (;;) keep.push(new Array(1e6).fill(keep.length)); }
      return { execArgv: process.execArgv, heapLimitMb: v8.getHeapStatistics().heap_size_limit / 1048576 };
    };`;
  const { fn: small } = await start(t, code, { memorySizeMb: 256 });
  const { fn: large } = await start(t, code, { memorySizeMb: 1024 });
  const smallHeap = ok(t, await small.invoke({}));
  const largeHeap = ok(t, await large.invoke({}));
  t.deepEqual(smallHeap.execArgv, [...lambdaNodeFlags("nodejs22.x"), ...nodeMemoryFlags(256)]);
  t.deepEqual(largeHeap.execArgv, [...lambdaNodeFlags("nodejs22.x"), ...nodeMemoryFlags(1024)]);
  // The limit is the old space plus the young generation: at least the old-space flag, below the function's memory
  // plus a little (V8's own rounding), and not this process's default heap.
  t.true(smallHeap.heapLimitMb >= 231 && smallHeap.heapLimitMb < 256 * 1.15, String(smallHeap.heapLimitMb));
  t.true(largeHeap.heapLimitMb >= 922 && largeHeap.heapLimitMb < 1024 * 1.15, String(largeHeap.heapLimitMb));

  const { fn: tiny } = await start(t, code, { memorySizeMb: 128, timeoutSeconds: 30 });
  const exhausted = await tiny.invoke({ exhaust: true });
  t.like(exhausted, { ok: false, errorType: "Runtime.OutOfMemory", crashed: true });
});

test("options outside Lambda's limits are refused up front, naming the option", async (t) => {
  const base = { name: "f", codeDir: handlerDir("exports.handler = async () => 1;"), environment: {} };
  await t.throwsAsync(startFunction({ ...base, memorySizeMb: 64, timeoutSeconds: 3 }), {
    message: "memorySizeMb of f must be an integer from 128 to 10240, got 64",
  });
  await t.throwsAsync(startFunction({ ...base, memorySizeMb: 128, timeoutSeconds: 901 }), {
    message: /timeoutSeconds/,
  });
  await t.throwsAsync(startFunction({ ...base, memorySizeMb: 128, timeoutSeconds: 3, maxConcurrency: 0 }), {
    message: /maxConcurrency/,
  });
  await t.throwsAsync(
    startFunction({ ...base, codeDir: join(root, "missing"), memorySizeMb: 128, timeoutSeconds: 3 }),
    { message: /codeDir of f is not a folder/ },
  );
});

test("stop() kills every container, waits for them, and refuses further invocations", async (t) => {
  const { fn } = await start(
    t,
    `exports.handler = async (event) => { await new Promise((d) => setTimeout(d, event.ms)); return process.pid; };`,
    { maxConcurrency: 3 },
  );
  const pids = await Promise.all([fn.invoke({ ms: 100 }), fn.invoke({ ms: 100 })]).then((r) => r.map((x) => ok(t, x)));
  const inFlight = fn.invoke({ ms: 5_000 });
  await eventually(() => fn.pids().length === 2 && bootstrapChildren().length >= 2);
  t.true(pids.every(alive));
  await fn.stop();
  t.false(pids.some(alive), "every container process has exited when stop() resolves");
  t.deepEqual(fn.pids(), []);
  t.like(await inFlight, { ok: false, crashed: true });
  await t.throwsAsync(fn.invoke({ ms: 1 }), { message: "function test-fn is stopped" });
});

test("onLog receives each stdout and stderr line of the function", async (t) => {
  const { fn, lines } = await start(
    t,
    `exports.handler = async () => {
       console.log(JSON.stringify({ level: "info", message: "hello" }));
       process.stdout.write("part one, ");
       process.stdout.write("part two\\nsecond line\\n");
       console.error("on stderr");
       return 1;
     };`,
  );
  await fn.invoke({});
  t.true(await eventually(() => lines.length >= 4));
  t.deepEqual(
    [...lines].sort(),
    ['{"level":"info","message":"hello"}', "on stderr", "part one, part two", "second line"].sort(),
  );
});
