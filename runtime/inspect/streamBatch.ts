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

/** The new deployment's owner, as the record's image carries it (the API writes it with the deployment). */
export function recordUserId(record: DynamoDBRecord): string | undefined {
  return record.dynamodb?.NewImage?.userId?.S;
}

/**
 * Runs `inspect` for every pending deployment of a batch, up to `concurrency` at once (each is independent; the
 * bound keeps the function within its memory), and reports the ones that failed as batch item failures by sequence
 * number, so only they are retried (Lambda's partial batch response contract for streams). A record without a
 * sequence number fails the whole batch, as the contract requires.
 */
export async function processStreamBatch(
  event: DynamoDBStreamEvent,
  inspect: (record: { id: string; userId?: string }) => Promise<unknown>,
  logger: Logger,
  concurrency = Number.POSITIVE_INFINITY,
): Promise<DynamoDBBatchResponse> {
  // A record delivered twice in one batch is inspected once: both copies share the one outcome.
  const inspections = new Map<string, Promise<unknown>>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async <T>(work: () => Promise<T>): Promise<T> => {
    // A counting semaphore in a few lines (p-limit is ESM-only, which this CommonJS function code cannot require).
    while (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
  const inspectOnce = (record: DynamoDBRecord, id: string) => {
    if (!inspections.has(id)) {
      const userId = recordUserId(record);
      inspections.set(
        id,
        slot(() => inspect(userId === undefined ? { id } : { id, userId })),
      );
    }
    return inspections.get(id)!;
  };
  const results = await Promise.allSettled(
    event.Records.map(async (record) => {
      const id = pendingDeploymentId(record);
      if (id) await inspectOnce(record, id);
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
