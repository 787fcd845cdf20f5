import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import anyTest, { type TestFn } from "ava";
import type { SQSEvent } from "aws-lambda";
import { awsJsonError, s3Error } from "../../local/emulators/aws";
import { LOCAL_AWS, startDynamoDbLocal } from "../../local/platform/dynamodbLocal";
import { startFunction } from "../../local/platform/lambda/startFunction";
import { RETRY_ADVICE } from "../../runtime/api/createDeployment";
import { createDeployHandler } from "../../runtime/api/handlers";
import { ENV } from "../../runtime/environment";
import { failAbandonedDeployments, type StreamFailureRecord } from "../../runtime/inspect/abandonedDeployments";
import { createInspectorHandler } from "../../runtime/inspect/handlers";
import { silentLogger } from "../../runtime/log";
import { createRetryStrategy, retryDelayMs } from "../../runtime/retryStrategy";
import { postDeploymentEvent, responseJson } from "../helpers/apiEvents";
import { pomXml } from "../helpers/fakeRepo";
import {
  insertRecord,
  inspectorEnvironment,
  pendingDeployment,
  startInspectorWorld,
  streamEvent,
  stores,
  type InspectorWorld,
} from "../helpers/inspectorWorld";
import { startOutageGate, type OutageGate } from "../helpers/outage";
import { createTables, localDocumentClient, scanAll } from "../helpers/tables";

/*
 * Issue 8, finding 2: transient faults are absorbed where they happen. A DynamoDB outage of two seconds, AWS calls
 * answering 503 or throttling, an answer lost after the work was done: each is retried inside the function, within
 * the invocation's time, so the stream's own retries (and the failure queue) are left for what lasts. The failure
 * message tells the real attempt count; DynamoDB Local and function containers come back after dying.
 */

const test = anyTest as TestFn<{ world: InspectorWorld; gate: OutageGate }>;

const PETCLINIC = {
  "pom.xml": pomXml({
    parent: "org.springframework.boot:spring-boot-starter-parent",
    dependencies: ["org.springframework.boot:spring-boot-starter-web"],
    plugins: ["org.springframework.boot:spring-boot-maven-plugin"],
  }),
  "src/main/java/com/example/App.java": "class App {}",
};

test.before(async (t) => {
  const world = await startInspectorWorld({ "acme/petclinic": { files: PETCLINIC } });
  // The functions reach DynamoDB Local through the gate; the test's own checks go to it directly.
  const gate = await startOutageGate(world.dynamodb.endpoint);
  t.context = { world, gate };
});
test.after.always(async (t) => {
  await t.context.gate?.close();
  await t.context.world?.stop();
});
test.afterEach.always((t) => {
  t.context.world.aws.reset();
  t.context.world.github.reset();
});

/** Lambda's context for an invocation with `ms` left. */
const lambdaContext = (ms: number) => {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};

async function inspectorSetUp(world: InspectorWorld, gate: OutageGate) {
  const { env, tables } = await inspectorEnvironment(world);
  const { deployments, installations } = stores(world, tables);
  await installations.put({ userId: "alice", installationId: world.github.installationIdFor("acme") });
  const handler = createInspectorHandler({ ...env, [ENV.dynamodbEndpoint]: gate.url });
  const deployment = pendingDeployment({ userId: "alice", repository: "acme/petclinic" });
  await deployments.create(deployment);
  const buildsOf = (id: string) =>
    world.aws
      .builds()
      .filter((b) => b.environmentVariablesOverride?.some((v) => v.name === "DEPLOYMENT_ID" && v.value === id));
  return { handler, deployments, deployment, buildsOf, tables, env };
}

test.serial("finding 2: a two-second DynamoDB outage during an inspection is absorbed in the invocation", async (t) => {
  const { world, gate } = t.context;
  const { handler, deployments, deployment, buildsOf } = await inspectorSetUp(world, gate);
  // The outage starts as the inspector starts: its first read is refused, and so is everything for 2 s.
  await gate.down();
  const invocation = handler(streamEvent(insertRecord(deployment)), lambdaContext(300_000));
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await gate.up();
  const response = await invocation;
  t.deepEqual(response.batchItemFailures, [], "no record left for the stream to retry");
  const after = await deployments.get(deployment.id, { consistent: true });
  t.is(after?.status, "BUILDING", JSON.stringify(after?.statusReason ?? after?.lastError));
  t.is(buildsOf(deployment.id).length, 1);
});

test.serial(
  "finding 2: the deploy function rides out the same outage and answers 202 with one deployment",
  async (t) => {
    const { world, gate } = t.context;
    const { env, tables } = await inspectorEnvironment(world);
    const deploy = createDeployHandler({
      ...env,
      [ENV.idempotencyTable]: tables.idempotency,
      [ENV.rateLimitsTable]: tables.rateLimits,
      [ENV.deploymentsPerUserPerMinute]: "10",
      [ENV.dynamodbEndpoint]: gate.url,
    });
    await gate.down();
    const answer = deploy(
      postDeploymentEvent({ repository: "acme/petclinic" }, { userId: "alice", idempotencyKey: "k" }),
      lambdaContext(10_000),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await gate.up();
    const result = await answer;
    t.is(result.statusCode, 202, result.body);
    const stored = await scanAll(localDocumentClient(world.dynamodb.endpoint), tables.deployments);
    t.deepEqual(
      stored.map((d) => d.id),
      [responseJson<{ id: string }>(result).id],
    );
  },
);

test.serial(
  "retries stop before the invocation's deadline, leaving time to answer: a 500 that says how to retry",
  async (t) => {
    const { world, gate } = t.context;
    const { env, tables } = await inspectorEnvironment(world);
    const deploy = createDeployHandler({
      ...env,
      [ENV.idempotencyTable]: tables.idempotency,
      [ENV.rateLimitsTable]: tables.rateLimits,
      [ENV.deploymentsPerUserPerMinute]: "10",
      [ENV.dynamodbEndpoint]: gate.url,
    });
    await gate.down();
    t.teardown(() => gate.up());
    const started = Date.now();
    const result = await deploy(postDeploymentEvent({ repository: "acme/petclinic" }), lambdaContext(3_000));
    const elapsed = Date.now() - started;
    t.is(result.statusCode, 500);
    t.deepEqual(responseJson(result), { error: { code: "INTERNAL_ERROR", message: RETRY_ADVICE } });
    // Unbounded, ten attempts with backoff would take about 20 s; bounded, the function answers within its 3 s.
    t.true(elapsed < 6_000, `answered after ${elapsed} ms`);
  },
);

test.serial(
  "finding 2: S3 and CodeBuild faults (503s, throttling, a lost answer) are retried in the invocation; one build",
  async (t) => {
    const { world, gate } = t.context;
    const { handler, deployments, deployment, buildsOf } = await inspectorSetUp(world, gate);
    world.aws.inject({
      operation: "secretsmanager:GetSecretValue",
      times: 2,
      ...awsJsonError("InternalServiceError", "try later", 500),
    });
    world.aws.inject({
      operation: "s3:PutObject",
      times: 4,
      ...s3Error("SlowDown", "Please reduce your request rate.", 503),
    });
    world.aws.inject({
      operation: "codebuild:StartBuild",
      times: 3,
      ...awsJsonError("ThrottlingException", "Rate exceeded"),
    });
    // Then CodeBuild starts the build but the answer is lost: the retry carries the same idempotency token.
    world.aws.inject({ operation: "codebuild:StartBuild", dropResponse: true });
    const response = await handler(streamEvent(insertRecord(deployment)), lambdaContext(300_000));
    t.deepEqual(response.batchItemFailures, []);
    const after = await deployments.get(deployment.id, { consistent: true });
    t.is(after?.status, "BUILDING", JSON.stringify(after?.lastError));
    t.is(buildsOf(deployment.id).length, 1, "the lost answer did not start a second build");
    t.is(after?.buildId, buildsOf(deployment.id)[0]?.id);
  },
);

test.serial(
  "finding 2: a deployment given up on says how many times it was tried, and why no error was recorded",
  async (t) => {
    const { world } = t.context;
    const { tables } = await inspectorEnvironment(world);
    const { deployments } = stores(world, tables);
    // Never claimed: every invocation failed at its first read (DynamoDB unreachable), so `attempts` stayed unset.
    const neverClaimed = pendingDeployment({ userId: "alice", repository: "acme/petclinic" });
    await deployments.create(neverClaimed);
    const endpoint = world.dynamodb.endpoint;
    const { Table } = await new DynamoDBClient({ endpoint, ...LOCAL_AWS }).send(
      new DescribeTableCommand({ TableName: tables.deployments }),
    );
    const streams = new DynamoDBStreamsClient({ endpoint, ...LOCAL_AWS });
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Table!.LatestStreamArn! }));
    const shardId = StreamDescription!.Shards![0]!.ShardId!;
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: Table!.LatestStreamArn!,
        ShardId: shardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
    const failure: StreamFailureRecord = {
      requestContext: { requestId: "req-6", condition: "RetryAttemptsExhausted", approximateInvokeCount: 6 },
      responseContext: {},
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: Records[0]!.dynamodb!.SequenceNumber!,
        endSequenceNumber: Records[0]!.dynamodb!.SequenceNumber!,
        streamArn: Table!.LatestStreamArn!,
      },
    };
    const event: SQSEvent = {
      Records: [{ messageId: "m", receiptHandle: "r", body: JSON.stringify(failure) } as SQSEvent["Records"][number]],
    };
    t.deepEqual(
      (await failAbandonedDeployments(event, { streams, deployments, logger: silentLogger })).batchItemFailures,
      [],
    );
    const failed = await deployments.get(neverClaimed.id, { consistent: true });
    t.is(failed?.status, "FAILED");
    t.is(failed?.statusReason?.code, "INSPECTION_ABANDONED");
    t.regex(failed?.statusReason?.message ?? "", /after 6 attempt\(s\)\./, "Lambda's count, not the claims (0)");
    t.regex(failed?.statusReason?.message ?? "", /No error could be recorded/);
  },
);

test("the retry strategy: what it retries, with what backoff, and never past the invocation's deadline", async (t) => {
  const strategy = (remaining?: number) =>
    createRetryStrategy({
      maxAttempts: 4,
      random: () => 0.5,
      ...(remaining !== undefined ? { budget: { remainingMs: () => remaining } } : {}),
    });
  const transient = { errorType: "TRANSIENT" as const };
  const s = strategy();
  let token = await s.acquireInitialRetryToken("");
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    token = await s.refreshRetryTokenForRetry(token, transient);
    delays.push(token.getRetryDelay());
  }
  t.deepEqual(delays, [75, 150, 300], "100 ms doubling, with jitter between half and all of it");
  await t.throwsAsync(s.refreshRetryTokenForRetry(token, transient), { message: /4 attempts made/ });
  await t.throwsAsync(s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(""), { errorType: "CLIENT_ERROR" }));
  const throttled = await s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(""), {
    errorType: "THROTTLING",
  });
  t.is(throttled.getRetryDelay(), 375, "throttling backs off from 500 ms");
  await t.throwsAsync(
    strategy(1_050).refreshRetryTokenForRetry(await s.acquireInitialRetryToken(""), transient),
    { message: /1050 ms left/ },
    "a retry that would eat into the last second is not made",
  );
  t.truthy(await strategy(1_200).refreshRetryTokenForRetry(await s.acquireInitialRetryToken(""), transient));
  t.is(
    retryDelayMs(20, "TRANSIENT", () => 1),
    5_000,
    "at most 5 s between attempts",
  );
});

test("finding 2: a supervised DynamoDB Local that dies comes back on the same endpoint with its tables", async (t) => {
  const dbPath = mkdtempSync(join(tmpdir(), "slipway-supervised-"));
  t.teardown(() => rmSync(dbPath, { recursive: true, force: true }));
  const events: string[] = [];
  let back!: () => void;
  const restarted = new Promise<void>((resolve) => (back = resolve));
  const local = await startDynamoDbLocal({
    dbPath,
    supervise: {
      onExit: ({ signal }) => events.push(`exit ${signal}`),
      onRestart: ({ restarts }) => {
        events.push(`restart ${restarts}`);
        back();
      },
    },
  });
  t.teardown(() => local.stop());
  const client = new DynamoDBClient({ endpoint: local.endpoint, ...LOCAL_AWS });
  const tables = await createTables(local.endpoint);
  const documents = localDocumentClient(local.endpoint);
  await documents.send(
    new PutCommand({ TableName: tables.installations, Item: { userId: "alice", installationId: 1 } }),
  );

  const firstPid = local.pid()!;
  process.kill(firstPid, "SIGKILL");
  await restarted;
  t.deepEqual(events, ["exit SIGKILL", "restart 1"]);
  t.is(local.restarts(), 1);
  t.not(local.pid(), firstPid);
  const { Item } = await documents.send(
    new GetCommand({
      TableName: tables.installations,
      Key: { userId: "alice", installationId: 1 },
      ConsistentRead: true,
    }),
  );
  t.deepEqual(Item, { userId: "alice", installationId: 1 }, "same endpoint, same tables, same items");
  client.destroy();
  documents.destroy();
  await local.stop();
  t.is(local.pid(), undefined);
});

test("a function container killed from outside is replaced by a fresh one, as Lambda would", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "slipway-fresh-container-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "__index.js"), "exports.handler = async () => process.pid;");
  const fn = await startFunction({
    name: "fresh",
    codeDir: dir,
    environment: {},
    memorySizeMb: 128,
    timeoutSeconds: 5,
  });
  t.teardown(() => fn.stop());
  const first = await fn.invoke({});
  t.true(first.ok);
  const pid = first.ok ? (first.result as number) : 0;
  process.kill(pid, "SIGKILL");
  const second = await fn.invoke({});
  t.true(second.ok, JSON.stringify(second));
  t.not(second.ok ? second.result : pid, pid, "a new process");
  t.deepEqual(fn.pids().length, 1);
});
