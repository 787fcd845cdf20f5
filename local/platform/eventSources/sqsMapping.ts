import type { SQSRecord } from "aws-lambda";
import { silentLogger, type Logger } from "../../../runtime/log";
import { readBatchItemFailures } from "./batchItemFailures";
import { compileFilterCriteria, type FilterCriteria } from "./eventFilter";
import type { Invoke, InvokeResult } from "./invokeResult";
import { sleep } from "./sleep";
import type { Queue, ReceivedMessage } from "./sqsQueue";

export interface SqsMappingOptions {
  readonly queue: Queue;
  /** Messages per invocation, 1–10000. Default 10. Above 10 Lambda requires a batching window. */
  readonly batchSize?: number;
  /** Gather messages up to this long before invoking, 0–300 s. Default 0. */
  readonly maximumBatchingWindowInSeconds?: number;
  /** ["ReportBatchItemFailures"] to let the function report which messages failed. */
  readonly functionResponseTypes?: readonly string[];
  /** Messages that match no filter are deleted without invoking the function, as Lambda does. */
  readonly filterCriteria?: FilterCriteria;
  readonly invoke: Invoke;
  /**
   * Asks IAM whether the function's role may make the call, before each ReceiveMessage and DeleteMessage(Batch):
   * Lambda's poller makes them with the function's execution role. Default: always allowed.
   */
  readonly authorize?: (action: "sqs:ReceiveMessage" | "sqs:DeleteMessage") => Promise<boolean>;
  /** Pause after a failed receive or invocation attempt. Default 250 ms. */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
  /** `awsRegion` in records. Default the queue ARN's region. */
  readonly region?: string;
}

export interface SqsMappingStats {
  readonly invocations: number;
  readonly messagesReceived: number;
  readonly messagesDeleted: number;
  readonly messagesFiltered: number;
  readonly functionErrors: number;
  readonly partialFailures: number;
  readonly invokeFailures: number;
  readonly lastError?: string;
}

export interface SqsMapping {
  /** Stops polling; a batch in flight is settled (deleted or left) first. */
  stop(): Promise<void>;
  /** Resolves once nothing is in flight and the queue holds no message (all deleted or moved to its DLQ). */
  idle(): Promise<void>;
  stats(): SqsMappingStats;
}

/** How long one receive waits for messages (SQS's longest long poll); stop() cuts it short. */
const LONG_POLL_MS = 20_000;

/**
 * An SQS queue → function event source mapping on this machine, with Lambda's semantics: batches of messages in
 * Lambda's SQS event shape; on success every message is deleted; with ReportBatchItemFailures all but the reported
 * ones; on a function error none, so they come back after the visibility timeout (and, past the queue's
 * maxReceiveCount, go to its dead-letter queue). One batch is in flight at a time.
 */
export function startSqsMapping(options: SqsMappingOptions): SqsMapping {
  const { queue, invoke } = options;
  const batchSize = options.batchSize ?? 10;
  const windowMs = (options.maximumBatchingWindowInSeconds ?? 0) * 1000;
  checkSettings(batchSize, options.maximumBatchingWindowInSeconds ?? 0, options.functionResponseTypes ?? []);
  const reportsItemFailures = (options.functionResponseTypes ?? []).includes("ReportBatchItemFailures");
  const filter = compileFilterCriteria(options.filterCriteria);
  const logger = options.logger ?? silentLogger;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const region = options.region ?? queue.arn.split(":")[3] ?? "us-east-1";
  const abort = new AbortController();
  const stats = {
    invocations: 0,
    messagesReceived: 0,
    messagesDeleted: 0,
    messagesFiltered: 0,
    functionErrors: 0,
    partialFailures: 0,
    invokeFailures: 0,
    lastError: undefined as string | undefined,
  };
  let inFlight = false;

  const toRecord = (message: ReceivedMessage): SQSRecord => ({
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: { ...message.attributes },
    messageAttributes: Object.fromEntries(
      Object.entries(message.messageAttributes).map(([name, value]) => [
        name,
        {
          ...(value.stringValue !== undefined ? { stringValue: value.stringValue } : {}),
          ...(value.binaryValue !== undefined ? { binaryValue: value.binaryValue } : {}),
          stringListValues: [],
          binaryListValues: [],
          dataType: value.dataType,
        },
      ]),
    ),
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: queue.arn,
    awsRegion: region,
  });

  const authorize = options.authorize ?? (async () => true);
  const remove = async (records: readonly SQSRecord[]) => {
    if (records.length === 0) return;
    if (!(await authorize("sqs:DeleteMessage"))) {
      // DeleteMessageBatch is refused: the messages come back after the visibility timeout, as on AWS.
      logger.error("sqs mapping: the function's role may not delete messages", { queue: queue.arn });
      return;
    }
    for (const record of records) if (queue.delete(record.receiptHandle)) stats.messagesDeleted++;
  };

  /** Up to batchSize messages: what one receive brings, or (with a window) what arrives before it closes. */
  const receiveBatch = async (): Promise<ReceivedMessage[]> => {
    if (!(await authorize("sqs:ReceiveMessage")))
      throw new Error(`the function's role may not perform sqs:ReceiveMessage on ${queue.arn}`);
    const batch = await queue.receive(Math.min(10, batchSize), LONG_POLL_MS, { signal: abort.signal });
    if (batch.length === 0 || windowMs === 0) return batch;
    const closes = Date.now() + windowMs;
    while (batch.length < batchSize && !abort.signal.aborted) {
      const left = closes - Date.now();
      if (left <= 0) break;
      if (!(await authorize("sqs:ReceiveMessage"))) break;
      batch.push(...(await queue.receive(Math.min(10, batchSize - batch.length), left, { signal: abort.signal })));
    }
    return batch;
  };

  const settle = async (messages: readonly ReceivedMessage[]): Promise<void> => {
    const records = messages.map(toRecord);
    const passing = records.filter((record) => filter(filterView(record)));
    stats.messagesFiltered += records.length - passing.length;
    await remove(records.filter((record) => !passing.includes(record)));
    if (passing.length === 0) return;

    let result: InvokeResult;
    try {
      result = await invoke({ Records: passing });
    } catch (error) {
      // Lambda could not run the function: the messages stay hidden and come back after the visibility timeout.
      stats.invokeFailures++;
      stats.lastError = error instanceof Error ? error.message : String(error);
      logger.warn("sqs mapping: invocation failed before the function ran", {
        queue: queue.arn,
        error: stats.lastError,
      });
      return;
    }
    stats.invocations++;
    if (!result.ok) {
      stats.functionErrors++;
      logger.warn("sqs mapping: function error; the batch returns after the visibility timeout", {
        queue: queue.arn,
        messages: passing.length,
        errorType: result.errorType,
      });
      return;
    }
    if (!reportsItemFailures) return remove(passing);
    const report = readBatchItemFailures(
      result.result,
      passing.map((record) => record.messageId),
    );
    switch (report.kind) {
      case "all-succeeded":
        return remove(passing);
      case "items-failed":
        stats.partialFailures++;
        return remove(passing.filter((_, index) => !report.failed.includes(index)));
      case "batch-failed":
        stats.partialFailures++;
        logger.warn("sqs mapping: invalid batch item failures; the whole batch returns", {
          queue: queue.arn,
          reason: report.reason,
        });
        return;
    }
  };

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const messages = await receiveBatch();
        if (messages.length === 0) continue;
        inFlight = true;
        stats.messagesReceived += messages.length;
        await settle(messages);
      } catch (error) {
        stats.lastError = error instanceof Error ? error.message : String(error);
        logger.error("sqs mapping: poll failed", { queue: queue.arn, error: stats.lastError });
        await sleep(pollIntervalMs, abort.signal);
      } finally {
        inFlight = false;
      }
    }
  })();

  return {
    async stop() {
      abort.abort();
      await loop;
    },
    async idle() {
      while (inFlight || queue.messages().length > 0) {
        if (abort.signal.aborted) throw new Error("The SQS mapping was stopped before it was idle.");
        await sleep(10);
      }
    },
    stats() {
      const { lastError, ...rest } = stats;
      return { ...rest, ...(lastError ? { lastError } : {}) };
    },
  };
}

/** Lambda filters an SQS message with a JSON body on the parsed body (so patterns can name its fields). */
function filterView(record: SQSRecord): unknown {
  try {
    const body: unknown = JSON.parse(record.body);
    if (typeof body === "object" && body !== null) return { ...record, body };
  } catch {
    // a plain-text body is matched as the string it is
  }
  return record;
}

function checkSettings(batchSize: number, windowSeconds: number, responseTypes: readonly string[]): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new Error(`batchSize must be an integer from 1 to 10000; got ${batchSize}.`);
  }
  if (!Number.isInteger(windowSeconds) || windowSeconds < 0 || windowSeconds > 300) {
    throw new Error(`maximumBatchingWindowInSeconds must be an integer from 0 to 300; got ${windowSeconds}.`);
  }
  if (batchSize > 10 && windowSeconds < 1) {
    throw new Error(
      `A batchSize above 10 (${batchSize}) needs maximumBatchingWindowInSeconds of at least 1, as Lambda requires.`,
    );
  }
  const unknown = responseTypes.filter((type) => type !== "ReportBatchItemFailures");
  if (unknown.length > 0)
    throw new Error(`functionResponseTypes may only hold ReportBatchItemFailures; got ${unknown.join(", ")}.`);
}
