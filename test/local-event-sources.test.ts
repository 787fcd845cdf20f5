import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import anyTest, { type ExecutionContext, type TestFn } from "ava";
import type { DynamoDBRecord, DynamoDBStreamEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { PENDING_INSERTS_FILTER } from "../components/repoInspector";
import { readBatchItemFailures } from "../local/platform/eventSources/batchItemFailures";
import {
  createFileCheckpoints,
  createMemoryCheckpoints,
  SHARD_END,
  type Checkpoints,
} from "../local/platform/eventSources/checkpoints";
import { FilterPatternError } from "../local/platform/eventSources/eventFilter";
import type { InvokeResult } from "../local/platform/eventSources/invokeResult";
import { md5OfBody, md5OfMessageAttributes } from "../local/platform/eventSources/sqsDigests";
import { startSqsMapping, type SqsMappingOptions } from "../local/platform/eventSources/sqsMapping";
import { createQueue, type QueueMessage } from "../local/platform/eventSources/sqsQueue";
import { expiredPrefixLength, stepAfterInvoke } from "../local/platform/eventSources/streamBatchStep";
import type { StreamFailureRecord } from "../local/platform/eventSources/streamFailureRecord";
import { startStreamMapping, type StreamMappingOptions } from "../local/platform/eventSources/streamMapping";
import { deploymentIdsInFailedBatch } from "../runtime/inspect/abandonedDeployments";
import { LOCAL_AWS, sharedDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { manualClock } from "./helpers/emulators";

const test = anyTest as TestFn<{ local: DynamoDbLocal }>;

test.before(async (t) => {
  const local = await sharedDynamoDbLocal();
  t.log(`DynamoDB Local answered after ${local.startupMs} ms`);
  t.context = { local };
});

test.after.always(async (t) => {
  await t.context.local?.stop();
});

// ---- helpers --------------------------------------------------------------------------------------------------

type Context = ExecutionContext<{ local: DynamoDbLocal }>;

function streamsClient(t: Context): DynamoDBStreamsClient {
  const client = new DynamoDBStreamsClient({ endpoint: t.context.local.endpoint, ...LOCAL_AWS });
  t.teardown(() => client.destroy());
  return client;
}

/** A fresh table (key `id`) with a NEW_AND_OLD_IMAGES stream, and writers that wait for each write. */
async function streamTable(t: Context) {
  const client = new DynamoDBClient({ endpoint: t.context.local.endpoint, ...LOCAL_AWS });
  t.teardown(() => client.destroy());
  const tableName = `events-${randomUUID().slice(0, 8)}`;
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
    }),
  );
  const streamArn = created.TableDescription!.LatestStreamArn!;
  return {
    tableName,
    streamArn,
    async put(id: string, status = "PENDING", extra: Record<string, AttributeValue> = {}) {
      await client.send(
        new PutItemCommand({ TableName: tableName, Item: { id: { S: id }, status: { S: status }, ...extra } }),
      );
    },
    async putMany(ids: readonly string[]) {
      for (const id of ids) await this.put(id);
    },
    async setStatus(id: string, status: string) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { id: { S: id } },
          UpdateExpression: "SET #s = :s",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":s": { S: status } },
        }),
      );
    },
    async remove(id: string) {
      await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: id } } }));
    },
  };
}

/** Every record in the stream's (single) shard, read directly: the ground truth tests compare against. */
async function streamRecords(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  shardId: string,
): Promise<SdkStreamRecord[]> {
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const records: SdkStreamRecord[] = [];
  while (iterator) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
    records.push(...(page.Records ?? []));
    if (!page.Records?.length) break;
    iterator = page.NextShardIterator;
  }
  return records;
}

const ok = (result?: unknown): InvokeResult => ({ ok: true, result, durationMs: 1 });
const functionError = (message = "boom"): InvokeResult => ({
  ok: false,
  errorType: "Error",
  errorMessage: message,
  durationMs: 1,
});
const failedItems = (...identifiers: string[]): InvokeResult =>
  ok({ batchItemFailures: identifiers.map((itemIdentifier) => ({ itemIdentifier })) });

interface StreamCall {
  readonly ids: string[];
  readonly sequenceNumbers: string[];
  readonly records: DynamoDBRecord[];
}

/** A function that records every batch it gets and answers as `behaviour` says; it counts concurrent invocations. */
function recordingFunction(
  behaviour: (call: StreamCall, index: number) => InvokeResult | Promise<InvokeResult> = () => ok(),
) {
  const calls: StreamCall[] = [];
  let running = 0;
  let mostAtOnce = 0;
  return {
    calls,
    mostAtOnce: () => mostAtOnce,
    invoke: async (event: unknown): Promise<InvokeResult> => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        const records = (event as DynamoDBStreamEvent).Records;
        const call: StreamCall = {
          ids: records.map((record) => record.dynamodb!.Keys!.id!.S!),
          sequenceNumbers: records.map((record) => record.dynamodb!.SequenceNumber!),
          records,
        };
        calls.push(call);
        await new Promise((resolve) => setImmediate(resolve));
        return await behaviour(call, calls.length - 1);
      } finally {
        running--;
      }
    },
  };
}

/** Starts a mapping with fast polling and stops it when the test ends. */
async function mapping(
  t: Context,
  options: Omit<StreamMappingOptions, "pollIntervalMs"> & { pollIntervalMs?: number },
) {
  const started = await startStreamMapping({
    pollIntervalMs: 20,
    shardDiscoveryIntervalMs: 200,
    retryDelayMs: () => 5,
    ...options,
  });
  t.teardown(() => started.stop());
  return started;
}

/** A mapping over a test table's stream, read with a client of the test's DynamoDB Local. */
function mapTable(
  t: Context,
  table: { streamArn: string; tableName: string },
  options: Omit<StreamMappingOptions, "pollIntervalMs" | "streams" | "streamArn" | "tableName"> & {
    pollIntervalMs?: number;
  },
) {
  return mapping(t, { streams: streamsClient(t), streamArn: table.streamArn, tableName: table.tableName, ...options });
}

function failureCollector() {
  const messages: { destination: string; message: StreamFailureRecord }[] = [];
  return {
    messages,
    sendOnFailure: async (destination: string, message: StreamFailureRecord) => {
      messages.push({ destination, message: JSON.parse(JSON.stringify(message)) as StreamFailureRecord });
    },
  };
}

/** Checkpoints that also keep every save, in order. */
function recordingCheckpoints(): Checkpoints & { saves: [string, string][] } {
  const inner = createMemoryCheckpoints();
  const saves: [string, string][] = [];
  return {
    saves,
    load: (shardId) => inner.load(shardId),
    save: async (shardId, sequenceNumber) => {
      saves.push([shardId, sequenceNumber]);
      await inner.save(shardId, sequenceNumber);
    },
  };
}

const DESTINATION = "arn:aws:sqs:us-east-1:000000000000:failures";

// ---- pure decisions -------------------------------------------------------------------------------------------

test("partial batch responses are read as Lambda reads them", (t) => {
  const ids = ["1", "2", "3"];
  t.deepEqual(readBatchItemFailures(undefined, ids), { kind: "all-succeeded" });
  t.deepEqual(readBatchItemFailures(null, ids), { kind: "all-succeeded" });
  t.deepEqual(readBatchItemFailures("done", ids), { kind: "all-succeeded" });
  t.deepEqual(readBatchItemFailures({}, ids), { kind: "all-succeeded" });
  t.deepEqual(readBatchItemFailures({ batchItemFailures: null }, ids), { kind: "all-succeeded" });
  t.deepEqual(readBatchItemFailures({ batchItemFailures: [] }, ids), { kind: "all-succeeded" });
  t.deepEqual(
    readBatchItemFailures(
      { batchItemFailures: [{ itemIdentifier: "3" }, { itemIdentifier: "2" }, { itemIdentifier: "3" }] },
      ids,
    ),
    {
      kind: "items-failed",
      failed: [1, 2],
    },
  );
  for (const bad of [{ itemIdentifier: "" }, { itemIdentifier: null }, {}, { itemIdentifier: "9" }, "2"]) {
    t.is(readBatchItemFailures({ batchItemFailures: [bad] }, ids).kind, "batch-failed", JSON.stringify(bad));
  }
  t.is(readBatchItemFailures({ batchItemFailures: { itemIdentifier: "1" } }, ids).kind, "batch-failed");
});

test("the step after an invocation follows Lambda's stream rules", (t) => {
  const ids = ["10", "20", "30", "40"];
  const policy = { reportsItemFailures: true, bisectBatchOnFunctionError: false, maximumRetryAttempts: 2 };
  t.deepEqual(stepAfterInvoke(ok(), ids, 1, policy), { step: "done" });
  t.like(stepAfterInvoke(failedItems("30", "20"), ids, 1, policy), { step: "retry", from: 1 });
  t.like(stepAfterInvoke(failedItems("10"), ids, 1, policy), { step: "retry", from: 0 });
  t.like(stepAfterInvoke(failedItems("30"), ids, 3, policy), { step: "give-up", from: 2 });
  t.like(stepAfterInvoke(functionError(), ids, 2, policy), { step: "retry", from: 0 });
  t.like(stepAfterInvoke(functionError(), ids, 3, policy), { step: "give-up", from: 0 });
  t.like(stepAfterInvoke(failedItems(""), ids, 1, policy), { step: "retry", from: 0 });
  // Without ReportBatchItemFailures the response is not looked at.
  t.deepEqual(stepAfterInvoke(failedItems("30"), ids, 1, { ...policy, reportsItemFailures: false }), { step: "done" });
  // Bisect splits a whole-batch failure, whatever the retry count; a single record cannot be split.
  const bisecting = { ...policy, bisectBatchOnFunctionError: true };
  t.like(stepAfterInvoke(functionError(), ids, 3, bisecting), { step: "bisect" });
  t.like(stepAfterInvoke(failedItems("nope"), ids, 1, bisecting), { step: "bisect" });
  t.like(stepAfterInvoke(functionError(), ["10"], 1, bisecting), { step: "retry", from: 0 });
  t.like(stepAfterInvoke(functionError(), ["10"], 3, bisecting), { step: "give-up", from: 0 });
  // "Bisected at the returned sequence number": a partial failure retries from it, not a split.
  t.like(stepAfterInvoke(failedItems("20"), ids, 1, bisecting), { step: "retry", from: 1 });
  // -1 retries forever; 0 gives up after the first failure.
  t.like(stepAfterInvoke(functionError(), ids, 10_000, { ...policy, maximumRetryAttempts: -1 }), { step: "retry" });
  t.like(stepAfterInvoke(functionError(), ids, 1, { ...policy, maximumRetryAttempts: 0 }), { step: "give-up" });
});

test("the expired records of a batch are its prefix up to the last expired one", (t) => {
  const now = 1_000_000_000;
  t.is(expiredPrefixLength([100, 200, 300], now, -1), 0);
  t.is(expiredPrefixLength([now / 1000 - 120, now / 1000 - 30, now / 1000], now, 60), 1);
  t.is(expiredPrefixLength([now / 1000 - 120, now / 1000 - 90, now / 1000 - 61], now, 60), 3);
  t.is(expiredPrefixLength([now / 1000 - 60, now / 1000], now, 60), 0);
});

// ---- DynamoDB stream → function, against DynamoDB Local ------------------------------------------------------

test("TRIM_HORIZON delivers records written before the mapping started, in Lambda's record shape", async (t) => {
  const table = await streamTable(t);
  const streams = streamsClient(t);
  await table.put("a", "PENDING", { blob: { B: new Uint8Array([1, 2, 3]) }, tags: { L: [{ S: "x" }, { N: "2" }] } });
  await table.put("b");
  await table.setStatus("a", "PROCESSING");
  await table.remove("b");
  const fn = recordingFunction();
  const started = Date.now() / 1000;
  const stream = await mapping(t, {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: { startingPosition: "TRIM_HORIZON" },
    invoke: fn.invoke,
    region: "eu-west-1",
  });
  await stream.idle();

  const records = fn.calls.flatMap((call) => call.records);
  t.deepEqual(
    records.map((record) => [record.eventName, record.dynamodb?.Keys?.id?.S]),
    [
      ["INSERT", "a"],
      ["INSERT", "b"],
      ["MODIFY", "a"],
      ["REMOVE", "b"],
    ],
  );
  const sequence = records.map((record) => BigInt(record.dynamodb!.SequenceNumber!));
  t.deepEqual(
    [...sequence].sort((x, y) => (x < y ? -1 : 1)),
    sequence,
    "in stream order",
  );
  const [insert, , modify, remove] = records;
  t.deepEqual(Object.keys(insert!), [
    "eventID",
    "eventName",
    "eventVersion",
    "eventSource",
    "awsRegion",
    "dynamodb",
    "eventSourceARN",
  ]);
  t.like(insert, {
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "eu-west-1",
    eventSourceARN: table.streamArn,
  });
  t.is(typeof insert!.eventID, "string");
  const created = insert!.dynamodb!.ApproximateCreationDateTime!;
  t.is(typeof created, "number");
  t.true(created <= started + 1 && created > started - 120, "epoch seconds (DynamoDB Local rounds down to the minute)");
  t.deepEqual(insert!.dynamodb!.Keys, { id: { S: "a" } });
  t.deepEqual(insert!.dynamodb!.NewImage, {
    id: { S: "a" },
    status: { S: "PENDING" },
    blob: { B: Buffer.from([1, 2, 3]).toString("base64") },
    tags: { L: [{ S: "x" }, { N: "2" }] },
  });
  t.is(insert!.dynamodb!.OldImage, undefined);
  t.is(insert!.dynamodb!.StreamViewType, "NEW_AND_OLD_IMAGES");
  t.is(typeof insert!.dynamodb!.SizeBytes, "number");
  t.like(modify!.dynamodb, { OldImage: { status: { S: "PENDING" } }, NewImage: { status: { S: "PROCESSING" } } });
  t.like(remove!.dynamodb, { OldImage: { id: { S: "b" } } });
  t.is(remove!.dynamodb!.NewImage, undefined);
  t.deepEqual(JSON.parse(JSON.stringify(records)), records, "the event is plain JSON");
  t.like(stream.stats(), { invocations: fn.calls.length, recordsRead: 4, recordsSucceeded: 4, functionErrors: 0 });
});

test("LATEST delivers only what is written after the mapping started", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["before-1", "before-2"]);
  const fn = recordingFunction();
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "LATEST" },
    invoke: fn.invoke,
  });
  await table.putMany(["after-1", "after-2"]);
  await stream.idle();
  t.deepEqual(
    fn.calls.flatMap((call) => call.ids),
    ["after-1", "after-2"],
  );
});

test("batches hold at most batchSize records, keep the stream's order and are delivered one at a time", async (t) => {
  const table = await streamTable(t);
  const ids = Array.from({ length: 25 }, (_, index) => `r${String(index).padStart(2, "0")}`);
  await table.putMany(ids);
  const fn = recordingFunction(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return ok();
  });
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", batchSize: 10 },
    invoke: fn.invoke,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids.length),
    [10, 10, 5],
  );
  t.deepEqual(
    fn.calls.flatMap((call) => call.ids),
    ids,
  );
  t.is(fn.mostAtOnce(), 1);
});

test("a batching window gathers records that arrive within it into one invocation", async (t) => {
  const table = await streamTable(t);
  const fn = recordingFunction();
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", maximumBatchingWindowInSeconds: 2 },
    invoke: fn.invoke,
  });
  for (const id of ["w1", "w2", "w3"]) {
    await table.put(id);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [["w1", "w2", "w3"]],
  );
});

test("records the filter rejects are never delivered, and the checkpoint moves past them", async (t) => {
  const table = await streamTable(t);
  const streams = streamsClient(t);
  await table.put("p1", "PENDING");
  await table.put("d1", "DONE");
  await table.setStatus("p1", "PROCESSING");
  await table.put("p2", "PENDING");
  await table.remove("d1");
  const checkpoints = createMemoryCheckpoints();
  const fn = recordingFunction();
  const stream = await mapping(t, {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: {
      startingPosition: "TRIM_HORIZON",
      filterCriteria: { filters: [{ pattern: JSON.stringify(PENDING_INSERTS_FILTER) }] },
    },
    invoke: fn.invoke,
    checkpoints,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [["p1", "p2"]],
  );
  t.like(stream.stats(), { recordsRead: 5, recordsFiltered: 3 });
  const [shard] = stream.stats().shards;
  const all = await streamRecords(streams, table.streamArn, shard!.shardId);
  t.is(
    await checkpoints.load(shard!.shardId),
    all.at(-1)!.dynamodb!.SequenceNumber,
    "checkpointed at the last (filtered) record",
  );

  // A batch that is all filtered out invokes nothing and still moves the checkpoint.
  await table.put("d2", "DONE");
  await stream.idle();
  t.is(fn.calls.length, 1);
  const after = await streamRecords(streams, table.streamArn, shard!.shardId);
  t.is(await checkpoints.load(shard!.shardId), after.at(-1)!.dynamodb!.SequenceNumber);
});

test("a partial failure is retried from the lowest failed record; earlier records are not delivered again", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["r1", "r2", "r3", "r4", "r5"]);
  const checkpoints = recordingCheckpoints();
  const fn = recordingFunction((call, index) =>
    index === 0 ? failedItems(call.sequenceNumbers[3]!, call.sequenceNumbers[2]!) : ok(),
  );
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", functionResponseTypes: ["ReportBatchItemFailures"] },
    invoke: fn.invoke,
    checkpoints,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [
      ["r1", "r2", "r3", "r4", "r5"],
      ["r3", "r4", "r5"],
    ],
  );
  const [first] = fn.calls;
  t.deepEqual(
    checkpoints.saves.map(([, sequenceNumber]) => sequenceNumber),
    [first!.sequenceNumbers[1], first!.sequenceNumbers[4]],
    "checkpointed just before r3, then after r5",
  );
  t.like(stream.stats(), { partialFailures: 1, retries: 1, recordsSucceeded: 5 });
});

test("a partial response naming no record of the batch fails the whole batch; an empty list is a success", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["r1", "r2", "r3"]);
  const answers = [failedItems(""), failedItems("not-a-sequence-number"), ok({ batchItemFailures: [] })];
  const fn = recordingFunction((_, index) => answers[index] ?? ok());
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", functionResponseTypes: ["ReportBatchItemFailures"] },
    invoke: fn.invoke,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [
      ["r1", "r2", "r3"],
      ["r1", "r2", "r3"],
      ["r1", "r2", "r3"],
    ],
  );
});

test("a function error fails the whole batch, which is retried until it succeeds", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["r1", "r2", "r3"]);
  const fn = recordingFunction((_, index) => (index < 2 ? functionError() : ok()));
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", functionResponseTypes: ["ReportBatchItemFailures"] },
    invoke: fn.invoke,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids.join()),
    ["r1,r2,r3", "r1,r2,r3", "r1,r2,r3"],
  );
  t.like(stream.stats(), { functionErrors: 2, retries: 2, recordsSucceeded: 3, batchesGivenUp: 0 });
});

test("bisecting a failing batch isolates the poison record; only it goes to the on-failure destination", async (t) => {
  const table = await streamTable(t);
  const ids = ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"];
  await table.putMany(ids);
  const failures = failureCollector();
  const fn = recordingFunction((call) => (call.ids.includes("r5") ? functionError("poison") : ok()));
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 },
    invoke: fn.invoke,
    destinationArn: DESTINATION,
    sendOnFailure: failures.sendOnFailure,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids.join()),
    [
      "r1,r2,r3,r4,r5,r6,r7,r8",
      "r1,r2,r3,r4",
      "r5,r6,r7,r8",
      "r5,r6",
      "r5", // splitting does not count towards the retry quota…
      "r5", // …the single record gets its one retry
      "r6",
      "r7,r8",
    ],
  );
  const succeeded = fn.calls.filter((call) => !call.ids.includes("r5")).flatMap((call) => call.ids);
  t.deepEqual(succeeded, ["r1", "r2", "r3", "r4", "r6", "r7", "r8"], "every other record succeeded exactly once");
  t.is(failures.messages.length, 1);
  const poison = fn.calls[4]!.sequenceNumbers[0];
  t.like(failures.messages[0], {
    destination: DESTINATION,
    message: {
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 2 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      DDBStreamBatchInfo: { startSequenceNumber: poison, endSequenceNumber: poison, batchSize: 1 },
    },
  });
  t.like(stream.stats(), { bisections: 3, batchesGivenUp: 1, recordsGivenUp: 1, recordsSucceeded: 7 });
  t.is(stream.stats().shards[0]?.checkpoint, fn.calls.at(-1)!.sequenceNumbers[1]);
});

test("retries exhausted: the on-failure record locates exactly the failed records, and the mapping moves on", async (t) => {
  const table = await streamTable(t);
  const streams = streamsClient(t);
  await table.putMany(["r1", "r2", "r3"]);
  const failures = failureCollector();
  let requestIds = 0;
  const fn = recordingFunction((call) =>
    call.ids.includes("r2") ? failedItems(call.sequenceNumbers[call.ids.indexOf("r2")]!) : ok(),
  );
  const stream = await mapping(t, {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: {
      startingPosition: "TRIM_HORIZON",
      functionResponseTypes: ["ReportBatchItemFailures"],
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 3600,
    },
    invoke: fn.invoke,
    destinationArn: DESTINATION,
    sendOnFailure: failures.sendOnFailure,
    functionArn: "arn:aws:lambda:us-east-1:000000000000:function:inspector",
    newRequestId: () => `request-${++requestIds}`,
  });
  await stream.idle();
  // The first invoke saw all three; every retry only r2 and r3 (r1 succeeded and was checkpointed).
  t.deepEqual(
    fn.calls.map((call) => call.ids.join()),
    ["r1,r2,r3", "r2,r3", "r2,r3"],
  );
  t.is(failures.messages.length, 1);
  const { message } = failures.messages[0]!;
  const [, s2, s3] = fn.calls[0]!.sequenceNumbers;
  const shardId = stream.stats().shards[0]!.shardId;
  t.deepEqual(Object.keys(message), [
    "requestContext",
    "responseContext",
    "version",
    "timestamp",
    "DDBStreamBatchInfo",
  ]);
  t.deepEqual(message.requestContext, {
    requestId: "request-3",
    functionArn: "arn:aws:lambda:us-east-1:000000000000:function:inspector",
    condition: "RetryAttemptsExhausted",
    approximateInvokeCount: 3,
  });
  t.deepEqual(
    message.responseContext,
    { statusCode: 200, executedVersion: "$LATEST" },
    "the function answered: no functionError",
  );
  t.is(message.version, "1.0");
  t.regex(message.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.like(message.DDBStreamBatchInfo, {
    shardId,
    startSequenceNumber: s2,
    endSequenceNumber: s3,
    batchSize: 2,
    streamArn: table.streamArn,
  });
  t.regex(message.DDBStreamBatchInfo.approximateArrivalOfFirstRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.regex(message.DDBStreamBatchInfo.approximateArrivalOfLastRecord, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // The platform's consumer reads exactly those records back (GetShardIterator AT_SEQUENCE_NUMBER).
  t.deepEqual(await deploymentIdsInFailedBatch(streams, message.DDBStreamBatchInfo), ["r2", "r3"]);
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: message.DDBStreamBatchInfo.streamArn,
      ShardId: message.DDBStreamBatchInfo.shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: message.DDBStreamBatchInfo.startSequenceNumber,
    }),
  );
  const { Records = [] } = await streams.send(
    new GetRecordsCommand({ ShardIterator, Limit: message.DDBStreamBatchInfo.batchSize }),
  );
  t.deepEqual(
    Records.map((record) => record.dynamodb?.SequenceNumber),
    [s2, s3],
  );

  // Past the failed batch, the shard goes on.
  await table.put("r4");
  await stream.idle();
  t.deepEqual(fn.calls.at(-1)!.ids, ["r4"]);
  t.is(stream.stats().shards[0]?.checkpoint, fn.calls.at(-1)!.sequenceNumbers[0]);
});

test("records older than maximumRecordAgeInSeconds go to the on-failure destination without an invocation", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["old-1", "old-2"]);
  let offsetMs = 2 * 3600_000;
  const failures = failureCollector();
  const fn = recordingFunction();
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", maximumRecordAgeInSeconds: 3600 },
    invoke: fn.invoke,
    destinationArn: DESTINATION,
    sendOnFailure: failures.sendOnFailure,
    clock: () => Date.now() + offsetMs,
  });
  await stream.idle();
  t.is(fn.calls.length, 0);
  t.is(failures.messages.length, 1);
  t.like(failures.messages[0]!.message, {
    requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: 0 },
    responseContext: { statusCode: 200 },
    DDBStreamBatchInfo: { batchSize: 2 },
  });
  t.is(failures.messages[0]!.message.responseContext.functionError, undefined);

  offsetMs = 0;
  await table.put("fresh");
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [["fresh"]],
  );
});

test("a batch that ages out while being retried is given up with its invocation count and last error", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["r1", "r2"]);
  let offsetMs = 0;
  const failures = failureCollector();
  const fn = recordingFunction(() => {
    offsetMs = 2 * 3600_000; // time passes while the function fails
    return functionError();
  });
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", maximumRecordAgeInSeconds: 3600 }, // retries: -1 (until expiry)
    invoke: fn.invoke,
    destinationArn: DESTINATION,
    sendOnFailure: failures.sendOnFailure,
    clock: () => Date.now() + offsetMs,
  });
  await stream.idle();
  t.is(fn.calls.length, 1);
  t.like(failures.messages[0]?.message, {
    requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: 1 },
    responseContext: { functionError: "Unhandled" },
    DDBStreamBatchInfo: { batchSize: 2, startSequenceNumber: fn.calls[0]!.sequenceNumbers[0] },
  });
});

test("checkpoints survive a clean stop: nothing is delivered twice and nothing is lost", async (t) => {
  const table = await streamTable(t);
  const streams = streamsClient(t);
  const folder = mkdtempSync(path.join(tmpdir(), "slipway-checkpoints-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const file = path.join(folder, "inspector.json");
  const options = {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: { startingPosition: "TRIM_HORIZON" as const, batchSize: 2 },
  };

  const first = recordingFunction();
  const one = await mapping(t, { ...options, invoke: first.invoke, checkpoints: createFileCheckpoints(file) });
  await table.putMany(["r1", "r2", "r3", "r4", "r5"]);
  await one.idle();
  await one.stop();
  await table.putMany(["r6", "r7"]);

  // Stopping while a batch is in flight: the batch finishes and is checkpointed before stop resolves.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const second = recordingFunction(async (_, index) => {
    if (index === 0) await released;
    return ok();
  });
  const two = await mapping(t, { ...options, invoke: second.invoke, checkpoints: createFileCheckpoints(file) });
  while (second.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  let stopped = false;
  const stopping = two.stop().then(() => (stopped = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.false(stopped, "stop waits for the batch in flight");
  release();
  await stopping;
  await table.put("r8");

  const third = recordingFunction();
  const three = await mapping(t, { ...options, invoke: third.invoke, checkpoints: createFileCheckpoints(file) });
  await three.idle();

  const delivered = [first, second, third].flatMap((fn) => fn.calls.flatMap((call) => call.ids));
  t.deepEqual(delivered, ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"]);
  t.deepEqual(
    second.calls.map((call) => call.ids),
    [["r6", "r7"]],
  );
  const [shard] = three.stats().shards;
  const all = await streamRecords(streams, table.streamArn, shard!.shardId);
  t.deepEqual(JSON.parse(readFileSync(file, "utf8")), { [shard!.shardId]: all.at(-1)!.dynamodb!.SequenceNumber });
});

test("an expired shard iterator (DynamoDB Local's 15 minutes) is replaced without losing or repeating records", async (t) => {
  const table = await streamTable(t);
  const real = streamsClient(t);
  await table.putMany(["r1", "r2", "r3", "r4"]);
  let reads = 0;
  const expired: string[] = [];
  // Every third GetRecords goes out with its iterator aged past 15 minutes; DynamoDB Local itself refuses it.
  const streams = {
    send: async (command: unknown) => {
      if (command instanceof GetRecordsCommand && ++reads % 3 === 0) {
        const iterator = command.input.ShardIterator!;
        const [prefix, version, payload] = iterator.split("|");
        const [shard, sequence] = Buffer.from(payload!, "base64").toString().split("|");
        const aged = `${shard}|${sequence}|${String(Date.now() - 16 * 60_000).padStart(30, "0")}`;
        const old = new GetRecordsCommand({
          ...command.input,
          ShardIterator: `${prefix}|${version}|${Buffer.from(aged).toString("base64")}`,
        });
        try {
          return await real.send(old);
        } catch (error) {
          expired.push((error as Error).name);
          throw error;
        }
      }
      return real.send(command as GetRecordsCommand);
    },
  } as unknown as DynamoDBStreamsClient;
  const fn = recordingFunction();
  const stream = await mapping(t, {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: { startingPosition: "TRIM_HORIZON", batchSize: 1 },
    invoke: fn.invoke,
  });
  await stream.idle();
  await table.put("r5");
  await stream.idle();
  t.true(expired.length > 0);
  t.true(
    expired.every((name) => name === "ExpiredIteratorException"),
    expired.join(),
  );
  t.deepEqual(
    fn.calls.flatMap((call) => call.ids),
    ["r1", "r2", "r3", "r4", "r5"],
  );
});

test("an invocation Lambda could not make is retried without counting against the batch", async (t) => {
  const table = await streamTable(t);
  await table.put("r1");
  let attempts = 0;
  const delivered: string[][] = [];
  const failures = failureCollector();
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", maximumRetryAttempts: 0 },
    invoke: async (event) => {
      if (++attempts === 1) throw new Error("the function's container could not start");
      delivered.push((event as DynamoDBStreamEvent).Records.map((record) => record.dynamodb!.Keys!.id!.S!));
      return ok();
    },
    destinationArn: DESTINATION,
    sendOnFailure: failures.sendOnFailure,
  });
  await stream.idle();
  t.deepEqual(delivered, [["r1"]]);
  t.is(failures.messages.length, 0);
  t.like(stream.stats(), { invokeFailures: 1, invocations: 1, recordsSucceeded: 1 });
});

test("without an on-failure destination, records given up on are dropped and the shard goes on", async (t) => {
  const table = await streamTable(t);
  await table.putMany(["bad", "good"]);
  const fn = recordingFunction((call) => (call.ids.includes("bad") ? functionError() : ok()));
  const stream = await mapTable(t, table, {
    mapping: { startingPosition: "TRIM_HORIZON", batchSize: 1, maximumRetryAttempts: 0 },
    invoke: fn.invoke,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids.join()),
    ["bad", "good"],
  );
  t.like(stream.stats(), { batchesGivenUp: 1, recordsSucceeded: 1 });
});

test("an on-failure destination that fails is tried again, without invoking the function again", async (t) => {
  const table = await streamTable(t);
  await table.put("bad");
  let sends = 0;
  const failures = failureCollector();
  const fn = recordingFunction(() => functionError());
  const eventSourceArn = "arn:aws:dynamodb:us-east-1:123456789012:table/deployments/stream/2030-01-01T00:00:00.000";
  const stream = await mapping(t, {
    streams: streamsClient(t),
    streamArn: table.streamArn,
    eventSourceArn,
    tableName: table.tableName,
    mapping: { startingPosition: "TRIM_HORIZON", maximumRetryAttempts: 0 },
    invoke: fn.invoke,
    destinationArn: DESTINATION,
    sendOnFailure: async (destination, message) => {
      if (++sends === 1) throw new Error("the queue is unavailable");
      await failures.sendOnFailure(destination, message);
    },
  });
  await stream.idle();
  t.is(fn.calls.length, 1);
  t.is(sends, 2);
  t.is(failures.messages.length, 1);
  t.is(fn.calls[0]!.records[0]!.eventSourceARN, eventSourceArn, "records carry the ARN given for them");
  t.is(
    failures.messages[0]!.message.DDBStreamBatchInfo.streamArn,
    table.streamArn,
    "the failure record, the readable one",
  );
  t.regex(stream.stats().lastError ?? "", /the queue is unavailable/);
});

test("settings Lambda would refuse, bad filters and unknown streams are refused at start", async (t) => {
  const table = await streamTable(t);
  const base = {
    streams: streamsClient(t),
    streamArn: table.streamArn,
    tableName: table.tableName,
    invoke: async () => ok(),
  };
  await t.throwsAsync(startStreamMapping({ ...base, mapping: { startingPosition: "TRIM_HORIZON", batchSize: 0 } }), {
    message: /mapping.batchSize must be an integer from 1 to 10000/,
  });
  await t.throwsAsync(
    startStreamMapping({ ...base, mapping: { startingPosition: "TRIM_HORIZON", maximumRecordAgeInSeconds: 30 } }),
    {
      message: /maximumRecordAgeInSeconds must be -1 or from 60/,
    },
  );
  await t.throwsAsync(
    startStreamMapping({ ...base, mapping: { startingPosition: "TRIM_HORIZON", functionResponseTypes: ["Partial"] } }),
    {
      message: /may only hold ReportBatchItemFailures/,
    },
  );
  await t.throwsAsync(startStreamMapping({ ...base, mapping: { startingPosition: "AT_TIMESTAMP" as "LATEST" } }), {
    message: /startingPosition must be TRIM_HORIZON or LATEST/,
  });
  await t.throwsAsync(
    startStreamMapping({
      ...base,
      mapping: { startingPosition: "TRIM_HORIZON", filterCriteria: { filters: [{ pattern: '{"a": "x"}' }] } },
    }),
    { instanceOf: FilterPatternError },
  );
  await t.throwsAsync(
    startStreamMapping({
      ...base,
      streamArn: `${table.streamArn.split("/stream/")[0]}-missing/stream/2020-01-01T00:00:00.000`,
      mapping: { startingPosition: "TRIM_HORIZON" },
    }),
    { name: "ResourceNotFoundException" },
  );
});

// ---- shard lineage (DynamoDB Local only rolls shards over every 4 hours, so a scripted stream stands in) -------

interface ScriptedShard {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly closed: boolean;
  readonly records: SdkStreamRecord[];
}

/** DescribeStream, GetShardIterator and GetRecords over fixed shards, as DynamoDB Streams answers them. */
function scriptedStream(streamArn: string, shards: readonly ScriptedShard[]) {
  const find = (shardId: string) => {
    const shard = shards.find((candidate) => candidate.shardId === shardId);
    if (!shard) throw Object.assign(new Error("Shard does not exist"), { name: "ResourceNotFoundException" });
    return shard;
  };
  const send = async (command: { input: Record<string, unknown> }) => {
    const input = command.input;
    if (command instanceof DescribeStreamCommand) {
      return {
        StreamDescription: {
          StreamArn: streamArn,
          TableName: "scripted",
          // Children listed before their parents: discovery must not depend on the order.
          Shards: [...shards].reverse().map((shard): Shard => ({
            ShardId: shard.shardId,
            ...(shard.parentShardId ? { ParentShardId: shard.parentShardId } : {}),
            SequenceNumberRange: {
              StartingSequenceNumber: shard.records[0]?.dynamodb?.SequenceNumber,
              ...(shard.closed ? { EndingSequenceNumber: shard.records.at(-1)?.dynamodb?.SequenceNumber } : {}),
            },
          })),
        },
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const shard = find(input.ShardId as string);
      const at = shard.records.findIndex((record) => record.dynamodb?.SequenceNumber === input.SequenceNumber);
      const start = {
        TRIM_HORIZON: 0,
        LATEST: shard.records.length,
        AT_SEQUENCE_NUMBER: at,
        AFTER_SEQUENCE_NUMBER: at + 1,
      }[input.ShardIteratorType as string]!;
      return { ShardIterator: `${shard.shardId}|${start}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [shardId, start] = (input.ShardIterator as string).split("|");
      const shard = find(shardId!);
      const end = Math.min(shard.records.length, Number(start) + ((input.Limit as number | undefined) ?? 1000));
      const atEnd = end >= shard.records.length;
      return {
        Records: shard.records.slice(Number(start), end),
        ...(shard.closed && atEnd ? {} : { NextShardIterator: `${shardId}|${end}` }),
      };
    }
    throw new Error(`unexpected command ${JSON.stringify(input)}`);
  };
  return { send } as unknown as DynamoDBStreamsClient;
}

function scriptedRecord(sequenceNumber: number): SdkStreamRecord {
  return {
    eventID: `event-${sequenceNumber}`,
    eventName: "INSERT",
    dynamodb: {
      ApproximateCreationDateTime: new Date(),
      Keys: { id: { S: `r${sequenceNumber}` } },
      NewImage: { id: { S: `r${sequenceNumber}` } },
      SequenceNumber: String(sequenceNumber).padStart(21, "0"),
      SizeBytes: 10,
      StreamViewType: "NEW_IMAGE",
    },
  };
}

test("a parent shard is read to its end before its children, and is then checkpointed as finished", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-01T00:00:00.000";
  const streams = scriptedStream(streamArn, [
    { shardId: "shardId-parent", closed: true, records: [1, 2, 3].map(scriptedRecord) },
    { shardId: "shardId-child", parentShardId: "shardId-parent", closed: false, records: [4, 5].map(scriptedRecord) },
  ]);
  const checkpoints = createMemoryCheckpoints();
  const fn = recordingFunction(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return ok();
  });
  const options = {
    streams,
    streamArn,
    tableName: "scripted",
    mapping: { startingPosition: "TRIM_HORIZON" as const, batchSize: 2 },
    checkpoints,
  };
  const stream = await mapping(t, { ...options, invoke: fn.invoke });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids),
    [["r1", "r2"], ["r3"], ["r4", "r5"]],
  );
  t.is(fn.mostAtOnce(), 1);
  t.deepEqual(checkpoints.entries(), { "shardId-parent": SHARD_END, "shardId-child": "000000000000000000005" });
  t.like(
    stream.stats().shards.find((shard) => shard.shardId === "shardId-child"),
    { parentShardId: "shardId-parent", finished: false },
  );
  await stream.stop();

  // A restart from the same checkpoints delivers nothing again.
  const again = recordingFunction();
  const restarted = await mapping(t, { ...options, invoke: again.invoke });
  await restarted.idle();
  t.is(again.calls.length, 0);
  t.true(restarted.stats().shards.find((shard) => shard.shardId === "shardId-parent")!.finished);
});

test("LATEST on a fresh mapping skips closed shards and starts open ones at their tip", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-02T00:00:00.000";
  const child: ScriptedShard = {
    shardId: "shardId-child",
    parentShardId: "shardId-parent",
    closed: false,
    records: [3].map(scriptedRecord),
  };
  const streams = scriptedStream(streamArn, [
    { shardId: "shardId-parent", closed: true, records: [1, 2].map(scriptedRecord) },
    child,
  ]);
  const fn = recordingFunction();
  const stream = await mapping(t, {
    streams,
    streamArn,
    tableName: "scripted",
    mapping: { startingPosition: "LATEST" },
    invoke: fn.invoke,
  });
  child.records.push(scriptedRecord(4));
  await stream.idle();
  t.deepEqual(
    fn.calls.flatMap((call) => call.ids),
    ["r4"],
  );
});

test("a checkpoint the stream has trimmed (older than 24 h) resumes from the oldest record kept", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-03T00:00:00.000";
  const streams = scriptedStream(streamArn, [
    { shardId: "shardId-only", closed: false, records: [5, 6].map(scriptedRecord) },
  ]);
  const fn = recordingFunction();
  const stream = await mapping(t, {
    streams,
    streamArn,
    tableName: "scripted",
    mapping: { startingPosition: "TRIM_HORIZON" },
    invoke: fn.invoke,
    checkpoints: createMemoryCheckpoints({ "shardId-only": "000000000000000000002" }),
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.flatMap((call) => call.ids),
    ["r5", "r6"],
  );
});

// ---- SQS queue -------------------------------------------------------------------------------------------------

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:000000000000:work";
const queueAt = (name: string) => ({
  arn: `arn:aws:sqs:eu-west-1:000000000000:${name}`,
  url: `http://127.0.0.1/000000000000/${name}`,
});

test("SQS digests match the values SQS returns (vectors pinned by moto's SQS tests)", (t) => {
  t.is(md5OfBody("derp"), "58fd9edd83341c29f1aebba81c31e257");
  t.is(
    md5OfMessageAttributes({ timestamp: { dataType: "Number", stringValue: "1493147359900" } }),
    "235c5c510d26fb653d073faed50ae77c",
  );
  t.is(
    md5OfMessageAttributes({ timestamp: { dataType: "Number", stringValue: "1493147359901" } }),
    "994258b45346a2cc3f9cbb611aa7af30",
  );
  t.is(
    md5OfMessageAttributes({ "SOME_Valid.attribute-Name": { dataType: "Number", stringValue: "1493147359900" } }),
    "36655e7e9d7c0e8479fa3f3f42247ae7",
  );
  t.is(md5OfMessageAttributes({}), undefined);
  const two = { b: { dataType: "String", stringValue: "2" }, a: { dataType: "Binary", binaryValue: "aGk=" } };
  t.is(md5OfMessageAttributes(two), md5OfMessageAttributes({ a: two.a, b: two.b }), "sorted by name");
});

test("a received message is hidden for the visibility timeout, then comes back with a new receipt handle", async (t) => {
  const clock = manualClock();
  const queue = createQueue({ ...queueAt("work"), visibilityTimeoutSeconds: 30, clock: clock.now });
  const sent = queue.send("hello", { kind: { dataType: "String", stringValue: "greeting" } });
  t.is(sent.md5OfBody, md5OfBody("hello"));
  const [first] = await queue.receive(10);
  t.like(first, {
    messageId: sent.messageId,
    body: "hello",
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(clock.now()),
      ApproximateFirstReceiveTimestamp: String(clock.now()),
    },
    messageAttributes: { kind: { dataType: "String", stringValue: "greeting" } },
    md5OfMessageAttributes: sent.md5OfMessageAttributes,
  });
  t.deepEqual(await queue.receive(10), [], "in flight: invisible");
  t.deepEqual(queue.counts(), { visible: 0, inFlight: 1 });
  clock.advance(29_999);
  t.deepEqual(await queue.receive(10), []);
  clock.advance(1);
  const [second] = await queue.receive(10);
  t.like(second, { messageId: sent.messageId, attributes: { ApproximateReceiveCount: "2" } });
  t.not(second!.receiptHandle, first!.receiptHandle);
  t.false(queue.delete(first!.receiptHandle), "a stale receipt handle deletes nothing");
  t.true(queue.changeVisibility(second!.receiptHandle, 0), "visible again at once");
  const [third] = await queue.receive(1);
  t.false(queue.changeVisibility(second!.receiptHandle, 10), "the old handle no longer controls it");
  t.true(queue.delete(third!.receiptHandle));
  t.deepEqual(queue.messages(), []);
  t.throws(() => queue.send(""), { message: /non-empty/ });
  t.throws(() => queue.send("x".repeat(262_145)), { message: /at most 262144/ });
});

test("past maxReceiveCount a message moves to the dead-letter queue instead of being delivered", async (t) => {
  const clock = manualClock();
  const dlq = createQueue({ ...queueAt("work-dlq"), clock: clock.now });
  const queue = createQueue({
    ...queueAt("work"),
    visibilityTimeoutSeconds: 10,
    clock: clock.now,
    redrive: { deadLetterQueue: dlq, maxReceiveCount: 3 },
  });
  const { messageId } = queue.send("poison");
  const sentAt = clock.now();
  for (let receive = 1; receive <= 3; receive++) {
    const [message] = await queue.receive();
    t.is(message?.attributes.ApproximateReceiveCount, String(receive));
    clock.advance(10_000);
  }
  t.deepEqual(await queue.receive(), [], "the fourth receive moves it instead");
  t.deepEqual(queue.messages(), []);
  const [dead] = await dlq.receive();
  t.like(dead, {
    messageId,
    body: "poison",
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(sentAt), DeadLetterQueueSourceArn: queue.arn },
  });
});

test("messages outlive a restart through persist, and expire after the retention period", async (t) => {
  const clock = manualClock();
  let stored: QueueMessage[] = [];
  const persist = {
    load: () => stored,
    save: (messages: QueueMessage[]) => (stored = JSON.parse(JSON.stringify(messages))),
  };
  const before = createQueue({ ...queueAt("work"), clock: clock.now, persist, messageRetentionSeconds: 60 });
  before.send("one");
  await before.receive();
  clock.advance(30_000);
  before.send("two");
  const after = createQueue({ ...queueAt("work"), clock: clock.now, persist, messageRetentionSeconds: 60 });
  t.deepEqual(
    after.messages().map((message) => [message.body, message.receiveCount]),
    [
      ["one", 1],
      ["two", 0],
    ],
  );
  clock.advance(30_000);
  t.deepEqual(
    after.messages().map((message) => message.body),
    ["two"],
    "one is 60 s old: gone",
  );
  t.deepEqual(
    stored.map((message) => message.body),
    ["two"],
  );
});

test("a long poll returns as soon as a message arrives, and a signal ends it early", async (t) => {
  const queue = createQueue(queueAt("work"));
  setTimeout(() => queue.send("late"), 50);
  const started = Date.now();
  const messages = await queue.receive(10, 5_000);
  t.deepEqual(
    messages.map((message) => message.body),
    ["late"],
  );
  t.true(Date.now() - started < 2_000);
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  t.deepEqual(await queue.receive(10, 5_000, { signal: abort.signal }), []);
});

// ---- SQS → function --------------------------------------------------------------------------------------------

function sqsFunction(
  behaviour: (records: SQSRecord[], index: number) => InvokeResult | Promise<InvokeResult> = () => ok(),
) {
  const calls: SQSRecord[][] = [];
  return {
    calls,
    bodies: () => calls.map((records) => records.map((record) => record.body)),
    invoke: async (event: unknown) => {
      const records = (event as SQSEvent).Records;
      calls.push(records);
      return behaviour(records, calls.length - 1);
    },
  };
}

function sqsMapping(t: Context, options: SqsMappingOptions) {
  const started = startSqsMapping({ pollIntervalMs: 10, ...options });
  t.teardown(() => started.stop());
  return started;
}

test("SQS mapping: Lambda's event shape, and a successful batch is deleted", async (t) => {
  const queue = createQueue({ arn: QUEUE_ARN, url: "http://127.0.0.1/000000000000/work" });
  const first = queue.send("one", { kind: { dataType: "String", stringValue: "x" } });
  queue.send("two");
  const fn = sqsFunction();
  const mapping = sqsMapping(t, { queue, invoke: fn.invoke });
  await mapping.idle();
  t.deepEqual(fn.bodies(), [["one", "two"]]);
  const [record] = fn.calls[0]!;
  t.deepEqual(Object.keys(record!), [
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "md5OfMessageAttributes",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
  ]);
  t.like(record, {
    messageId: first.messageId,
    body: "one",
    attributes: { ApproximateReceiveCount: "1", SenderId: "000000000000" },
    messageAttributes: { kind: { stringValue: "x", stringListValues: [], binaryListValues: [], dataType: "String" } },
    md5OfBody: md5OfBody("one"),
    md5OfMessageAttributes: first.md5OfMessageAttributes,
    eventSource: "aws:sqs",
    eventSourceARN: QUEUE_ARN,
    awsRegion: "eu-west-1",
  });
  t.regex(record!.attributes.SentTimestamp, /^\d{13}$/);
  t.deepEqual(queue.messages(), []);
  t.like(mapping.stats(), { invocations: 1, messagesReceived: 2, messagesDeleted: 2 });
});

test("SQS mapping: with ReportBatchItemFailures only the reported messages stay, and come back later", async (t) => {
  const clock = manualClock();
  const queue = createQueue({
    arn: QUEUE_ARN,
    url: "http://127.0.0.1/q",
    clock: clock.now,
    visibilityTimeoutSeconds: 30,
  });
  for (const body of ["a", "b", "c"]) queue.send(body);
  const fn = sqsFunction((records, index) => {
    if (index > 0) return ok();
    clock.advance(30_000); // the failed one is visible again by the next poll
    return ok({ batchItemFailures: [{ itemIdentifier: records[1]!.messageId }] });
  });
  const mapping = sqsMapping(t, { queue, invoke: fn.invoke, functionResponseTypes: ["ReportBatchItemFailures"] });
  await mapping.idle();
  t.deepEqual(fn.bodies(), [["a", "b", "c"], ["b"]]);
  t.is(fn.calls[1]![0]!.attributes.ApproximateReceiveCount, "2");
});

test("SQS mapping: an invalid partial response leaves the whole batch", async (t) => {
  const clock = manualClock();
  const queue = createQueue({ arn: QUEUE_ARN, url: "http://127.0.0.1/q", clock: clock.now });
  queue.send("a");
  queue.send("b");
  const fn = sqsFunction((_, index) => {
    clock.advance(30_000);
    return index === 0 ? ok({ batchItemFailures: [{ itemIdentifier: "not-in-the-batch" }] }) : ok();
  });
  const mapping = sqsMapping(t, { queue, invoke: fn.invoke, functionResponseTypes: ["ReportBatchItemFailures"] });
  await mapping.idle();
  t.deepEqual(fn.bodies(), [
    ["a", "b"],
    ["a", "b"],
  ]);
});

test("SQS mapping: a function error deletes nothing; past maxReceiveCount the messages land in the DLQ", async (t) => {
  const clock = manualClock();
  const dlq = createQueue({ ...queueAt("work-dlq"), clock: clock.now });
  const queue = createQueue({
    ...queueAt("work"),
    clock: clock.now,
    visibilityTimeoutSeconds: 30,
    redrive: { deadLetterQueue: dlq, maxReceiveCount: 3 },
  });
  queue.send("a");
  queue.send("b");
  let seenWhileHidden = 0;
  const fn = sqsFunction(() => {
    seenWhileHidden += queue.counts().inFlight;
    clock.advance(30_000);
    return functionError();
  });
  const mapping = sqsMapping(t, { queue, invoke: fn.invoke });
  await mapping.idle();
  t.deepEqual(
    fn.bodies(),
    [
      ["a", "b"],
      ["a", "b"],
      ["a", "b"],
    ],
    "delivered maxReceiveCount times",
  );
  t.is(seenWhileHidden, 6, "each time both were in flight, none deleted");
  t.deepEqual(
    fn.calls.map((records) => records[0]!.attributes.ApproximateReceiveCount),
    ["1", "2", "3"],
  );
  t.deepEqual(
    dlq.messages().map((message) => message.body),
    ["a", "b"],
  );
  t.like(mapping.stats(), { functionErrors: 3, messagesDeleted: 0 });
});

test("SQS mapping: messages no filter matches are deleted without invoking the function", async (t) => {
  const queue = createQueue({ arn: QUEUE_ARN, url: "http://127.0.0.1/q" });
  queue.send(JSON.stringify({ type: "order", total: 12 }));
  queue.send(JSON.stringify({ type: "refund", total: 3 }));
  queue.send("plain text");
  const fn = sqsFunction();
  const mapping = sqsMapping(t, {
    queue,
    invoke: fn.invoke,
    filterCriteria: {
      filters: [{ pattern: JSON.stringify({ body: { type: ["order"], total: [{ numeric: [">", 10] }] } }) }],
    },
  });
  await mapping.idle();
  t.deepEqual(fn.bodies(), [[JSON.stringify({ type: "order", total: 12 })]]);
  t.like(mapping.stats(), { messagesFiltered: 2, messagesDeleted: 3 });
  t.throws(() => startSqsMapping({ queue, invoke: fn.invoke, batchSize: 20 }), {
    message: /needs maximumBatchingWindowInSeconds/,
  });
});

// ---- the whole chain: stream → retries exhausted → failure queue → its consumer ----------------------------------

test("a record the stream mapping gives up on reaches the failure queue's consumer, which reads it back", async (t) => {
  const table = await streamTable(t);
  const streams = streamsClient(t);
  const failureQueue = createQueue({ ...queueAt("failures"), visibilityTimeoutSeconds: 180 });
  const inspector = recordingFunction((call) =>
    call.ids.includes("d-poison") ? functionError("inspection failed") : ok(),
  );
  const stream = await mapping(t, {
    streams,
    streamArn: table.streamArn,
    tableName: table.tableName,
    mapping: {
      startingPosition: "TRIM_HORIZON",
      batchSize: 10,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 2,
      functionResponseTypes: ["ReportBatchItemFailures"],
      filterCriteria: { filters: [{ pattern: JSON.stringify(PENDING_INSERTS_FILTER) }] },
    },
    invoke: inspector.invoke,
    destinationArn: failureQueue.arn,
    sendOnFailure: async (_destination, message) => void failureQueue.send(JSON.stringify(message)),
  });
  const abandoned: string[] = [];
  const consumer = sqsMapping(t, {
    queue: failureQueue,
    functionResponseTypes: ["ReportBatchItemFailures"],
    invoke: async (event) => {
      for (const record of (event as SQSEvent).Records) {
        const failure = JSON.parse(record.body) as StreamFailureRecord;
        abandoned.push(...(await deploymentIdsInFailedBatch(streams, failure.DDBStreamBatchInfo)));
      }
      return ok({ batchItemFailures: [] });
    },
  });
  await table.putMany(["d-1", "d-poison", "d-2"]);
  await stream.idle();
  await consumer.idle();
  t.deepEqual(abandoned, ["d-poison"]);
  t.deepEqual(
    inspector.calls
      .filter((call) => !call.ids.includes("d-poison"))
      .flatMap((call) => call.ids)
      .sort(),
    ["d-1", "d-2"],
  );
});

// ---- parallelization factor -------------------------------------------------------------------------------------

/** A scripted record of item `key` (records of one key are one item's changes, in order). */
function keyedRecord(sequenceNumber: number, key: string): SdkStreamRecord {
  const record = scriptedRecord(sequenceNumber);
  return { ...record, dynamodb: { ...record.dynamodb, Keys: { id: { S: key } }, NewImage: { id: { S: key } } } };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("parallelizationFactor: a failing item holds up only its lane; each item's records stay in order; the checkpoint waits for it", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-04T00:00:00.000";
  const keys = ["poison", "a", "b", "c", "d", "e", "f", "g", "h"];
  const records = [...keys.map((key, i) => keyedRecord(i + 1, key)), keyedRecord(keys.length + 1, "poison")];
  const streams = scriptedStream(streamArn, [{ shardId: "shardId-only", closed: false, records }]);
  const checkpoints = recordingCheckpoints();
  let blocked = true;
  const delivered: string[] = [];
  const fn = recordingFunction((call) => {
    if (blocked && call.sequenceNumbers.includes(records[0]!.dynamodb!.SequenceNumber!)) return functionError();
    delivered.push(...call.sequenceNumbers.map((n) => String(Number(n))));
    return ok();
  });
  const stream = await mapping(t, {
    streams,
    streamArn,
    tableName: "scripted",
    mapping: { startingPosition: "TRIM_HORIZON", batchSize: 1, parallelizationFactor: 10 },
    checkpoints,
    invoke: fn.invoke,
  });

  // Other items go through while the first one keeps failing.
  await until(() => delivered.length >= 5, "other items to be delivered");
  t.false(delivered.includes("1"));
  t.false(delivered.includes(String(records.length)), "the poison item's later record waits behind its first");
  t.true(fn.mostAtOnce() > 1, "batches of one shard run at once");
  t.deepEqual(checkpoints.saves, [], "the checkpoint does not pass the unsettled first record");

  blocked = false;
  await stream.idle();
  t.deepEqual(
    [...delivered].sort((x, y) => Number(x) - Number(y)),
    records.map((_, i) => String(i + 1)),
  );
  t.true(delivered.indexOf("1") < delivered.indexOf(String(records.length)), "one item's records in order");
  t.deepEqual(checkpoints.saves.at(-1), ["shardId-only", records.at(-1)!.dynamodb!.SequenceNumber!]);
});

test("parallelizationFactor 1 (the default): one batch in flight per shard; a failing record holds up the shard", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-05T00:00:00.000";
  const records = ["poison", "a", "b"].map((key, i) => keyedRecord(i + 1, key));
  const streams = scriptedStream(streamArn, [{ shardId: "shardId-only", closed: false, records }]);
  let failures = 0;
  const fn = recordingFunction((call) => (call.ids.includes("poison") && ++failures < 5 ? functionError() : ok()));
  const stream = await mapping(t, {
    streams,
    streamArn,
    tableName: "scripted",
    mapping: { startingPosition: "TRIM_HORIZON", batchSize: 1 },
    invoke: fn.invoke,
  });
  await stream.idle();
  t.deepEqual(
    fn.calls.map((call) => call.ids[0]),
    ["poison", "poison", "poison", "poison", "poison", "a", "b"],
  );
  t.is(fn.mostAtOnce(), 1);
});

test("parallelizationFactor outside 1–10 is refused, as Lambda refuses it", async (t) => {
  const streamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/scripted/stream/2030-01-06T00:00:00.000";
  const streams = scriptedStream(streamArn, [{ shardId: "shardId-only", closed: false, records: [] }]);
  for (const parallelizationFactor of [0, 11, 1.5]) {
    await t.throwsAsync(
      startStreamMapping({
        streams,
        streamArn,
        tableName: "scripted",
        mapping: { startingPosition: "TRIM_HORIZON", parallelizationFactor },
        invoke: async () => ok(),
      }),
      { message: /parallelizationFactor must be an integer from 1 to 10/ },
    );
  }
});
