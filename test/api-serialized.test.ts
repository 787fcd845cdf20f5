import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import anyTest, { type TestFn } from "ava";
import { LAMBDA_RUNTIME } from "../components/functionBundle";
import { ensureFunctionArchives } from "../local/platform/archives/functionArchives";
import { lambdaNodeFlags } from "../local/platform/lambda/lambdaNodeFlags";
import { ENV } from "../runtime/environment";
import type { ApiEvent, ApiResult } from "../runtime/http";
import { getDeploymentEvent, listDeploymentsEvent, postDeploymentEvent, responseJson } from "./helpers/apiEvents";
import { LOCAL_AWS, sharedDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { createTables, type TableNames } from "./helpers/tables";

/*
 * The API functions as Lambda runs them: the archives `pulumi up` builds (the program compiled by Pulumi's ts-node,
 * each callback serialized and bundled), loaded in a fresh Node process under Lambda's Node.js flags, beside only
 * the runtime's own AWS SDK, configured only
 * through environment variables, and invoked several times in one "container". Catches what unit tests cannot: a
 * captured value that does not survive serialization (a Set, a client, an `instanceof` check) or a stray import.
 */

const test = anyTest as TestFn<{ local: DynamoDbLocal; tables: TableNames; dir: string; runtimeModules: string }>;
const run = promisify(execFile);

test.before(async (t) => {
  const local = await sharedDynamoDbLocal();
  const dir = mkdtempSync(join(tmpdir(), "slipway-serialized-"));
  t.context = {
    local,
    tables: await createTables(local.endpoint),
    dir,
    runtimeModules: lambdaRuntimeModules(resolve(__dirname, ".."), join(dir, "runtime")),
  };
});

test.after.always(async (t) => {
  await t.context.local?.stop();
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
});

/** A function's archive as `pulumi up` builds it, copied into its own folder with a driver beside it. */
async function archive(resourceName: string, dir: string): Promise<string> {
  const archives = await ensureFunctionArchives();
  const folder = join(dir, resourceName);
  rmSync(folder, { recursive: true, force: true });
  cpSync(archives.codeDir(resourceName), folder, { recursive: true });
  writeFileSync(
    join(folder, "invoke.js"),
    `const events = JSON.parse(require("fs").readFileSync(0, "utf8"));
     const handler = require("./__index.js").handler;
     (async () => {
       const results = [];
       for (const event of events) results.push(await handler(event));
       process.stdout.write("RESULTS " + JSON.stringify(results) + "\\n");
     })().catch((error) => { console.error(error); process.exit(1); });`,
  );
  return folder;
}

/** Runs the serialized handler on `events`, in order, in one process (one warm container). */
async function invoke(
  folder: string,
  events: ApiEvent[],
  t: { context: { local: DynamoDbLocal; tables: TableNames; runtimeModules: string } },
) {
  const child = run(process.execPath, [...lambdaNodeFlags(LAMBDA_RUNTIME), join(folder, "invoke.js")], {
    cwd: folder,
    env: {
      PATH: process.env.PATH,
      NODE_PATH: t.context.runtimeModules,
      AWS_REGION: LOCAL_AWS.region,
      AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: "true",
      [ENV.deploymentsTable]: t.context.tables.deployments,
      [ENV.idempotencyTable]: t.context.tables.idempotency,
      [ENV.rateLimitsTable]: t.context.tables.rateLimits,
      [ENV.deploymentsPerUserPerMinute]: "10",
      [ENV.dynamodbEndpoint]: t.context.local.endpoint,
    },
  });
  child.child.stdin?.end(JSON.stringify(events));
  const { stdout } = await child;
  // The function's own log lines share stdout, as in Lambda: every one must be a JSON object.
  const lines = stdout.split("\n").filter((line) => line !== "");
  const results = lines.find((line) => line.startsWith("RESULTS "));
  const logs = lines
    .filter((line) => !line.startsWith("RESULTS "))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { results: JSON.parse(results?.slice("RESULTS ".length) ?? "[]") as ApiResult[], logs };
}

test("the serialized API handlers create, replay, read and list deployments", async (t) => {
  const [deploy, get, list] = await Promise.all([
    archive("slipway-deploy", t.context.dir),
    archive("slipway-get", t.context.dir),
    archive("slipway-list", t.context.dir),
  ]);

  const {
    results: [created, replayed, invalid, reused],
    logs,
  } = await invoke(
    deploy,
    [
      postDeploymentEvent(
        { repository: "acme/shop", rootDirectory: "./web/" },
        { userId: "alice", idempotencyKey: "k" },
      ),
      postDeploymentEvent({ rootDirectory: "web", repository: "acme/shop" }, { userId: "alice", idempotencyKey: "k" }),
      postDeploymentEvent({ repository: "acme/shop", extra: true }, { userId: "alice" }),
      postDeploymentEvent({ repository: "acme/other" }, { userId: "alice", idempotencyKey: "k" }),
    ],
    t,
  );
  t.is(created?.statusCode, 202, created?.body);
  const id = responseJson<{ id: string }>(created!).id;
  t.like(responseJson(created!), { repository: "acme/shop", rootDirectory: "web", status: "PENDING" });
  t.is(replayed?.statusCode, 202);
  t.is(replayed?.headers["idempotent-replayed"], "true");
  t.is(responseJson(replayed!).id, id);
  t.is(invalid?.statusCode, 400, "validation errors are told apart by kind after serialization");
  t.like(responseJson(invalid!), { error: { field: "extra" } });
  t.is(reused?.statusCode, 422);
  t.like(logs[0], { level: "info", message: "deployment created", deploymentId: id });

  const {
    results: [mine, theirs, malformed],
  } = await invoke(
    get,
    [
      getDeploymentEvent(id, { userId: "alice" }),
      getDeploymentEvent(id, { userId: "bob" }),
      getDeploymentEvent("nope", { userId: "alice" }),
    ],
    t,
  );
  t.is(mine?.statusCode, 200);
  t.is(responseJson(mine!).id, id);
  t.is(theirs?.statusCode, 404);
  t.is(malformed?.body, theirs?.body);

  const {
    results: [page, badCursor, badLimit],
  } = await invoke(
    list,
    [
      listDeploymentsEvent({ limit: "1" }, { userId: "alice" }),
      listDeploymentsEvent({ cursor: "e30" }, { userId: "alice" }),
      listDeploymentsEvent({ limit: "0" }, { userId: "alice" }),
    ],
    t,
  );
  t.is(page?.statusCode, 200);
  t.deepEqual(
    responseJson<{ items: { id: string }[] }>(page!).items.map((d) => d.id),
    [id],
  );
  t.like(responseJson(badCursor!), { error: { field: "cursor" } });
  t.like(responseJson(badLimit!), { error: { field: "limit" } });
});
