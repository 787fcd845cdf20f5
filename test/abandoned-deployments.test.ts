import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import anyTest, { type TestFn } from "ava";
import type { SQSEvent } from "aws-lambda";
import { DeploymentStore } from "../runtime/deployments/store";
import { failAbandonedDeployments, type StreamFailureRecord } from "../runtime/inspect/abandonedDeployments";
import { silentLogger } from "../runtime/log";
import { LOCAL_AWS, sharedDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { pendingDeployment } from "./helpers/inspectorWorld";
import { createTables, localDocumentClient } from "./helpers/tables";

const test = anyTest as TestFn<{ dynamodb: DynamoDbLocal }>;

test.before(async (t) => {
  t.context.dynamodb = await sharedDynamoDbLocal();
});
test.after.always(async (t) => {
  await t.context.dynamodb?.stop();
});

/**
 * What Lambda puts on the on-failure destination when it gives up on a batch: only the batch's position in the
 * stream. Built here from the real stream of a real table, as Lambda would.
 */
async function failureMessage(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  condition: string,
): Promise<StreamFailureRecord> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const shardId = StreamDescription!.Shards![0]!.ShardId!;
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));
  return {
    requestContext: { condition, approximateInvokeCount: 6 },
    DDBStreamBatchInfo: {
      shardId,
      // The batch Lambda gave up on: the first three records (the three INSERTs), by their sequence numbers.
      startSequenceNumber: Records[0]!.dynamodb!.SequenceNumber!,
      endSequenceNumber: Records[2]!.dynamodb!.SequenceNumber!,
      streamArn,
    },
  };
}

const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {} as never,
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:failures",
    awsRegion: "us-east-1",
  })),
});

test("deployments the inspector gave up on end FAILED with the last error; finished ones are left alone", async (t) => {
  const { endpoint } = t.context.dynamodb;
  const tables = await createTables(endpoint);
  const deployments = new DeploymentStore({
    client: localDocumentClient(endpoint),
    deploymentsTable: tables.deployments,
  });
  const stuck = pendingDeployment({ userId: "alice", repository: "acme/shop" });
  const pending = pendingDeployment({ userId: "alice", repository: "acme/web" });
  const built = pendingDeployment({ userId: "bob", repository: "bob/api" });
  for (const d of [stuck, pending, built]) await deployments.create(d);
  await deployments.transition(stuck.id, "PROCESSING", {}, { incrementAttempts: true });
  await deployments.update(
    stuck.id,
    { lastError: { code: "GITHUB_UNAVAILABLE", message: "GitHub did not answer." } },
    { whenStatus: "PROCESSING" },
  );
  await deployments.transition(built.id, "PROCESSING");
  await deployments.transition(built.id, "BUILDING", { buildId: "slipway-node:1" });

  const { Table } = await new DynamoDBClient({ endpoint, ...LOCAL_AWS }).send(
    new DescribeTableCommand({ TableName: tables.deployments }),
  );
  const streams = new DynamoDBStreamsClient({ endpoint, ...LOCAL_AWS });
  const message = await failureMessage(streams, Table!.LatestStreamArn!, "RetryAttemptsExhausted");

  const response = await failAbandonedDeployments(sqsEvent(message), { streams, deployments, logger: silentLogger });

  t.deepEqual(response.batchItemFailures, []);
  const failed = (await deployments.get(stuck.id))!;
  t.is(failed.status, "FAILED");
  t.is(failed.statusReason!.code, "INSPECTION_ABANDONED");
  t.regex(
    failed.statusReason!.message,
    /after 6 attempt\(s\)\. The last error was: GitHub did not answer\. Deploy again/,
  );
  t.is((await deployments.get(pending.id))!.status, "FAILED", "never claimed, still not left PENDING");
  t.is((await deployments.get(built.id))!.status, "BUILDING", "a deployment that made it is not touched");
});

test("a message that cannot be settled is reported for SQS to retry; a foreign message is dropped", async (t) => {
  const { endpoint } = t.context.dynamodb;
  const tables = await createTables(endpoint);
  const deployments = new DeploymentStore({
    client: localDocumentClient(endpoint),
    deploymentsTable: tables.deployments,
  });
  const streams = new DynamoDBStreamsClient({ endpoint, ...LOCAL_AWS });
  const unknownStream = {
    DDBStreamBatchInfo: {
      shardId: "shardId-000",
      startSequenceNumber: "1",
      endSequenceNumber: "2",
      streamArn: "arn:aws:dynamodb:ddblocal:000000000000:table/nope/stream/2020",
    },
  };
  const response = await failAbandonedDeployments(sqsEvent(unknownStream, { hello: "world" }, "not json"), {
    streams,
    deployments,
    logger: silentLogger,
  });
  t.deepEqual(response.batchItemFailures, [{ itemIdentifier: "m-0" }, { itemIdentifier: "m-2" }]);
});
