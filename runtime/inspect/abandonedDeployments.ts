import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
} from "@aws-sdk/client-dynamodb-streams";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Deployment } from "../deployment";
import { describeError } from "../errors";
import type { Logger } from "../log";
import type { DeploymentStatus } from "../schema";
import { pendingDeploymentId } from "./streamBatch";

/**
 * What Lambda sends to a stream mapping's on-failure destination: not the records, only where they are in the stream.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export interface StreamFailureRecord {
  readonly requestContext?: {
    readonly requestId?: string;
    readonly condition?: string;
    /** How many times Lambda invoked the function with this batch before giving up. */
    readonly approximateInvokeCount?: number;
  };
  /** `functionError` is present when the last invocation itself failed (it crashed, timed out or threw). */
  readonly responseContext?: { readonly functionError?: string };
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly streamArn: string;
  };
}

export interface AbandonedDeploymentsDependencies {
  readonly streams: Pick<DynamoDBStreamsClient, "send">;
  readonly deployments: {
    get(id: string, options?: { consistent?: boolean }): Promise<Deployment | undefined>;
    transition(
      id: string,
      to: DeploymentStatus,
      fields?: Partial<Deployment>,
      options?: { from?: readonly DeploymentStatus[] },
    ): Promise<Deployment | undefined>;
  };
  readonly logger: Logger;
}

/**
 * Reads the stream records a failure message points at (GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords until
 * past the end) and returns the ids of the pending deployments among them.
 */
export async function deploymentIdsInFailedBatch(
  streams: AbandonedDeploymentsDependencies["streams"],
  info: StreamFailureRecord["DDBStreamBatchInfo"],
): Promise<string[]> {
  const end = BigInt(info.endSequenceNumber);
  const ids: string[] = [];
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: info.streamArn,
      ShardId: info.shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: info.startSequenceNumber,
    }),
  );
  for (let page = 0; iterator && page < 100; page++) {
    const { Records = [], NextShardIterator } = await streams.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: 100 }),
    );
    for (const record of Records) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? "0") > end) return ids;
      const id = pendingDeploymentId(record as Parameters<typeof pendingDeploymentId>[0]);
      if (id) ids.push(id);
    }
    if (Records.length === 0) break;
    iterator = NextShardIterator;
  }
  return ids;
}

/**
 * The last stop: the inspector gave up on these records (retries or record age exhausted), so their deployments are
 * marked FAILED with the last error it saw. None stays PENDING/PROCESSING forever; one already QUEUED, BUILDING or
 * ended is left alone (the conditional transition, limited to PENDING and PROCESSING, refuses it).
 */
export async function failAbandonedDeployments(
  event: SQSEvent,
  deps: AbandonedDeploymentsDependencies,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const message of event.Records) {
    try {
      const failure = JSON.parse(message.body) as StreamFailureRecord;
      if (!failure.DDBStreamBatchInfo) {
        deps.logger.warn("message is not a stream failure record; dropped", { messageId: message.messageId });
        continue;
      }
      const ids = await deploymentIdsInFailedBatch(deps.streams, failure.DDBStreamBatchInfo);
      for (const id of ids) await failOne(id, failure, deps);
    } catch (error) {
      const { code, message: text } = describeError(error);
      deps.logger.error("could not settle a failure record; SQS retries it", {
        messageId: message.messageId,
        code,
        error: text,
      });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
}

async function failOne(
  id: string,
  failure: StreamFailureRecord,
  deps: AbandonedDeploymentsDependencies,
): Promise<void> {
  const deployment = await deps.deployments.get(id, { consistent: true });
  if (!deployment) return;
  const condition = failure.requestContext?.condition;
  const moved = await deps.deployments.transition(
    id,
    "FAILED",
    { statusReason: { code: "INSPECTION_ABANDONED", message: abandonedMessage(deployment, failure) } },
    // A deployment that went on to QUEUED or BUILDING (a late success after the record was given up) is left alone.
    { from: ["PENDING", "PROCESSING"] },
  );
  deps.logger.warn("abandoned deployment", {
    deploymentId: id,
    moved: moved !== undefined,
    condition,
    attempts: attemptsMade(deployment, failure),
    lastRequestId: failure.requestContext?.requestId,
  });
}

/**
 * How many times the inspector tried. `attempts` on the deployment counts only its claims (PENDING → PROCESSING):
 * an invocation that failed before claiming (DynamoDB unreachable at its first read) left it 0, which is how "after 0
 * attempt(s)" came about while Lambda had invoked the inspector six times. Lambda's own count is in the failure
 * record; the larger of the two is the real one.
 */
export function attemptsMade(deployment: Deployment, failure: StreamFailureRecord): number {
  return Math.max(deployment.attempts ?? 0, failure.requestContext?.approximateInvokeCount ?? 0);
}

/** The reason a person reads: how many attempts, the last error (or why there is none), and what to do. */
export function abandonedMessage(deployment: Deployment, failure: StreamFailureRecord): string {
  const attempts = attemptsMade(deployment, failure);
  const why =
    failure.requestContext?.condition === "RecordAgeExceeded"
      ? `in time (${attempts} attempt(s))`
      : `after ${attempts} attempt(s)`;
  // The inspector records lastError with the deployment; when it could not write it (its table was unreachable, or it
  // was killed first) Lambda's failure record says whether the function itself failed.
  const cause = deployment.lastError
    ? ` The last error was: ${deployment.lastError.message}`
    : failure.responseContext?.functionError
      ? " The inspector itself failed (it crashed or ran out of time) before it could record an error."
      : " No error could be recorded: the inspector failed before it could write one (most likely its database was unreachable).";
  return `Slipway could not prepare this deployment ${why}.${cause} Deploy again; if it keeps failing, tell the platform team.`;
}
