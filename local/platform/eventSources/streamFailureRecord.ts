export type StreamFailureCondition = "RetryAttemptsExhausted" | "RecordAgeExceeded";

/**
 * What Lambda sends to a DynamoDB mapping's on-failure destination: where the records are in the stream, not the
 * records (a consumer reads them back with GetShardIterator AT_SEQUENCE_NUMBER). Shape and field order as in the
 * Lambda developer guide's example invocation record.
 */
export interface StreamFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn?: string;
    readonly condition: StreamFailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: "$LATEST";
    /** "Unhandled" when the last invocation ended in a function error; absent when the function answered. */
    readonly functionError?: string;
  };
  readonly version: "1.0";
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

export interface StreamFailureRecordInput {
  readonly condition: StreamFailureCondition;
  /** The last invocation's request id (a fresh id when the records expired before any invocation). */
  readonly requestId: string;
  readonly functionArn?: string;
  readonly approximateInvokeCount: number;
  /** The last invocation's function error, if it ended in one. */
  readonly functionError?: string;
  readonly timestamp: Date;
  readonly shardId: string;
  readonly streamArn: string;
  /** The records given up on, in shard order (at least one). */
  readonly records: readonly { readonly sequenceNumber: string; readonly approximateCreationSeconds: number }[];
}

export function streamFailureRecord(input: StreamFailureRecordInput): StreamFailureRecord {
  const first = input.records[0];
  const last = input.records.at(-1);
  if (!first || !last) throw new Error("streamFailureRecord needs at least one record");
  return {
    requestContext: {
      requestId: input.requestId,
      ...(input.functionArn ? { functionArn: input.functionArn } : {}),
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    responseContext: {
      // Lambda's Invoke answers 200 even when the function failed; the failure is in functionError.
      statusCode: 200,
      executedVersion: "$LATEST",
      ...(input.functionError ? { functionError: input.functionError } : {}),
    },
    version: "1.0",
    timestamp: input.timestamp.toISOString(),
    DDBStreamBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: secondsIso(first.approximateCreationSeconds),
      approximateArrivalOfLastRecord: secondsIso(last.approximateCreationSeconds),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}

/** "2025-06-05T18:21:49Z": Lambda writes the arrival times to the second. */
function secondsIso(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
