import type { AttributeValue as SdkAttributeValue, _Record as SdkStreamRecord } from "@aws-sdk/client-dynamodb-streams";
import type { AttributeValue, DynamoDBRecord } from "aws-lambda";

export interface LambdaStreamRecordContext {
  /** `awsRegion` of every record (DynamoDB Local says "ddblocal"; Lambda says the function's region). */
  readonly region: string;
  /** `eventSourceARN`: the stream's ARN. */
  readonly eventSourceArn: string;
}

/**
 * A record as DynamoDB Streams' GetRecords returns it (through the SDK) → the record as Lambda puts it in the event:
 * the same fields in Lambda's order, `ApproximateCreationDateTime` in epoch seconds instead of a Date, binary values
 * as base64 text (JSON has no bytes), Lambda's region and the stream ARN as `eventSourceARN`.
 */
export function toLambdaStreamRecord(record: SdkStreamRecord, context: LambdaStreamRecordContext): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: context.region,
    dynamodb: {
      ...(created !== undefined ? { ApproximateCreationDateTime: new Date(created).getTime() / 1000 } : {}),
      ...(stream.Keys ? { Keys: toLambdaImage(stream.Keys) } : {}),
      ...(stream.NewImage ? { NewImage: toLambdaImage(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: toLambdaImage(stream.OldImage) } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
    eventSourceARN: context.eventSourceArn,
    // TTL deletions carry who deleted the item (the DynamoDB service).
    ...(record.userIdentity ? { userIdentity: { ...record.userIdentity } } : {}),
  };
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttribute(value)]));
}

function toLambdaAttribute(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new Error(
    `Unknown DynamoDB attribute value ${JSON.stringify(value)}: the stream carries a type this mapping does not know.`,
  );
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
