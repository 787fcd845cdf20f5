import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { describeError } from "../errors";
import type { Logger } from "../log";
import { DEPLOYMENTS } from "../schema";

/**
 * The records the inspector acts on: new deployments. The event source mapping's filter already delivers only these;
 * this check keeps the handler right if the filter is ever changed or a record arrives by another path.
 */
export function pendingDeploymentId(record: DynamoDBRecord): string | undefined {
  if (record.eventName !== "INSERT") return undefined;
  if (record.dynamodb?.NewImage?.status?.S !== "PENDING") return undefined;
  return record.dynamodb.Keys?.[DEPLOYMENTS.hashKey]?.S;
}

/**
 * Runs `inspect` for every pending deployment of a batch, concurrently (each is independent), and reports the ones
 * that failed as batch item failures by sequence number, so only they are retried (Lambda's partial batch response
 * contract for streams). A record without a sequence number fails the whole batch, as the contract requires.
 */
export async function processStreamBatch(
  event: DynamoDBStreamEvent,
  inspect: (deploymentId: string) => Promise<unknown>,
  logger: Logger,
): Promise<DynamoDBBatchResponse> {
  // A record delivered twice in one batch is inspected once: both copies share the one outcome.
  const inspections = new Map<string, Promise<unknown>>();
  const inspectOnce = (id: string) => {
    if (!inspections.has(id)) inspections.set(id, inspect(id));
    return inspections.get(id)!;
  };
  const results = await Promise.allSettled(
    event.Records.map(async (record) => {
      const id = pendingDeploymentId(record);
      if (id) await inspectOnce(id);
    }),
  );
  const batchItemFailures = results.flatMap((result, index) => {
    if (result.status === "fulfilled") return [];
    const record = event.Records[index];
    const error = describeError(result.reason);
    logger.error("record failed", {
      sequenceNumber: record?.dynamodb?.SequenceNumber,
      code: error.code,
      error: error.message,
    });
    return [{ itemIdentifier: record?.dynamodb?.SequenceNumber ?? "" }];
  });
  return { batchItemFailures };
}
