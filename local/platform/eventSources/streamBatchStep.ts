import { readBatchItemFailures } from "./batchItemFailures";
import type { InvokeResult } from "./invokeResult";

/** The mapping settings that decide what happens after an invocation. */
export interface StreamBatchPolicy {
  /** `FunctionResponseTypes` includes ReportBatchItemFailures. */
  readonly reportsItemFailures: boolean;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1: retry until the records expire. */
  readonly maximumRetryAttempts: number;
}

/**
 * What a stream mapping does with a batch after invoking the function with it:
 *
 * - `done`: checkpoint past the batch and read on;
 * - `retry` from index i: the records before i succeeded (checkpoint just before record i); the rest is sent again
 *   as the same batch (its attempts keep counting, so a record failing over and over reaches the quota);
 * - `bisect`: the batch failed as a whole; split it in two and deliver each half as a new batch (splitting does not
 *   count towards the retry quota);
 * - `give-up` from index i: retries are exhausted; the records before i succeeded, the rest go to the on-failure
 *   destination and the mapping moves past the batch.
 */
export type StreamBatchStep =
  | { readonly step: "done" }
  | { readonly step: "retry"; readonly from: number; readonly reason: string }
  | { readonly step: "bisect"; readonly reason: string }
  | { readonly step: "give-up"; readonly from: number; readonly reason: string };

/**
 * Lambda's rules for DynamoDB and Kinesis mappings (the Lambda developer guide's "error handling" and "partial
 * batch response" pages): a function error fails the whole batch; with ReportBatchItemFailures the lowest reported
 * sequence number becomes the checkpoint and everything from it is retried; an invalid report fails the whole
 * batch; BisectBatchOnFunctionError splits a failed batch (and a partial failure is "bisected at the returned
 * sequence number", which is the retry from it); retries are counted per batch up to MaximumRetryAttempts.
 *
 * @param identifiers the batch's sequence numbers, in order
 * @param attempts invocations of this batch so far, this one included
 */
export function stepAfterInvoke(
  result: InvokeResult,
  identifiers: readonly string[],
  attempts: number,
  policy: StreamBatchPolicy,
): StreamBatchStep {
  const exhausted = policy.maximumRetryAttempts >= 0 && attempts > policy.maximumRetryAttempts;
  const retryFrom = (from: number, reason: string): StreamBatchStep =>
    exhausted ? { step: "give-up", from, reason } : { step: "retry", from, reason };
  const failedWhole = (reason: string): StreamBatchStep =>
    policy.bisectBatchOnFunctionError && identifiers.length > 1 ? { step: "bisect", reason } : retryFrom(0, reason);

  if (!result.ok) return failedWhole(`${result.errorType}: ${result.errorMessage}`);
  // Without ReportBatchItemFailures, Lambda does not look at what the function returned.
  if (!policy.reportsItemFailures) return { step: "done" };
  const report = readBatchItemFailures(result.result, identifiers);
  switch (report.kind) {
    case "all-succeeded":
      return { step: "done" };
    case "batch-failed":
      return failedWhole(report.reason);
    case "items-failed": {
      const first = report.failed[0]!;
      return retryFrom(
        first,
        `the function reported ${report.failed.length} failed record(s), the first at ${identifiers[first]}`,
      );
    }
  }
}

/**
 * How many records at the head of a batch are older than MaximumRecordAgeInSeconds (-1: no limit). Creation times
 * only grow along a shard, so the expired records are a prefix; the last expired one ends it, whatever the order.
 */
export function expiredPrefixLength(
  creationSeconds: readonly number[],
  nowMs: number,
  maximumRecordAgeInSeconds: number,
): number {
  if (maximumRecordAgeInSeconds < 0) return 0;
  let length = 0;
  creationSeconds.forEach((created, index) => {
    if (nowMs / 1000 - created > maximumRecordAgeInSeconds) length = index + 1;
  });
  return length;
}
