import { createHash } from "node:crypto";
import { AwsServiceError, type JsonService } from "./awsProtocol";

/**
 * CloudWatch Logs' GetLogEvents, over log groups the stack declares and streams the local builds write.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html:
 * - without a token, `startFromHead: false` (the default) returns the newest events, `true` the oldest;
 * - a page holds at most `limit` events (default and maximum 10,000) and at most 1 MB (each event counts its UTF-8
 *   message plus 26 bytes, as PutLogEvents does);
 * - the response always has both tokens; "if you have reached the end of the stream, it returns the same token you
 *   passed in", which is how a client following a stream knows nothing new arrived;
 * - a missing group or stream is ResourceNotFoundException; a token from another stream, InvalidParameterException.
 * Tokens look like AWS's (`f/<56 digits>/s`, `b/…`), tied to their stream.
 */
export interface CloudWatchLogsEmulator extends JsonService {
  createLogGroup(name: string): string;
  /** Appends to a stream (created on first use, as CodeBuild creates its build's stream); the group must exist. */
  putLogEvents(group: string, stream: string, events: readonly { timestamp: number; message: string }[]): void;
  events(group: string, stream: string): StoredLogEvent[];
}

export interface StoredLogEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
}

const MAX_EVENTS = 10_000;
const MAX_PAGE_BYTES = 1_048_576;
const EVENT_OVERHEAD_BYTES = 26;

export function createCloudWatchLogs(settings: {
  region: string;
  accountId: string;
  now: () => number;
}): CloudWatchLogsEmulator {
  const groups = new Map<string, Map<string, StoredLogEvent[]>>();
  const groupArn = (name: string) => `arn:aws:logs:${settings.region}:${settings.accountId}:log-group:${name}`;
  const streamOf = (group: unknown, stream: unknown): StoredLogEvent[] => {
    const streams = typeof group === "string" ? groups.get(group) : undefined;
    if (!streams) throw new AwsServiceError("ResourceNotFoundException", "The specified log group does not exist.");
    const events = typeof stream === "string" ? streams.get(stream) : undefined;
    if (!events) throw new AwsServiceError("ResourceNotFoundException", "The specified log stream does not exist.");
    return events;
  };
  // 8 digits naming the stream, then 48 of position: a token only works on the stream that issued it.
  const streamTag = (group: string, stream: string) =>
    String(parseInt(createHash("sha256").update(`${group}\0${stream}`).digest("hex").slice(0, 8), 16) % 1e8).padStart(
      8,
      "0",
    );
  const token = (direction: "f" | "b", group: string, stream: string, position: number) =>
    `${direction}/${streamTag(group, stream)}${String(position).padStart(48, "0")}/s`;
  const readToken = (value: string, group: string, stream: string): { direction: "f" | "b"; position: number } => {
    const match = /^([fb])\/(\d{8})(\d{48})\/s$/.exec(value);
    if (!match || match[2] !== streamTag(group, stream))
      throw new AwsServiceError("InvalidParameterException", "The specified nextToken is invalid.");
    return { direction: match[1] as "f" | "b", position: Number(match[3]) };
  };

  return {
    targetPrefix: "Logs_20140328",
    iamPrefix: "logs",
    createLogGroup(name) {
      if (!groups.has(name)) groups.set(name, new Map());
      return groupArn(name);
    },
    putLogEvents(group, stream, events) {
      const streams = groups.get(group);
      if (!streams) throw new Error(`log group ${group} does not exist; the stack declares the groups`);
      const stored = streams.get(stream) ?? [];
      streams.set(stream, stored);
      for (const event of events) stored.push({ ...event, ingestionTime: settings.now() });
    },
    events: (group, stream) => [...streamOf(group, stream)],
    operations: {
      GetLogEvents: {
        access: (input) => ({
          action: "logs:GetLogEvents",
          resources: [`${groupArn(String(input.logGroupName ?? ""))}:log-stream:${String(input.logStreamName ?? "")}`],
        }),
        run(input) {
          const group = String(input.logGroupName ?? "");
          const stream = String(input.logStreamName ?? "");
          const events = streamOf(input.logGroupName, input.logStreamName);
          const limit = input.limit === undefined ? MAX_EVENTS : Number(input.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS) {
            throw new AwsServiceError(
              "InvalidParameterException",
              `1 validation error detected: Value '${String(input.limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000`,
            );
          }
          const passed = typeof input.nextToken === "string" ? input.nextToken : undefined;
          const position = passed ? readToken(passed, group, stream) : undefined;
          const forward = position ? position.direction === "f" : input.startFromHead === true;
          let start: number;
          let end: number;
          if (forward) {
            start = Math.min(position?.position ?? 0, events.length);
            end = start;
            let bytes = 0;
            while (end < events.length && end - start < limit) {
              bytes += Buffer.byteLength(events[end]!.message) + EVENT_OVERHEAD_BYTES;
              if (bytes > MAX_PAGE_BYTES && end > start) break;
              end++;
            }
          } else {
            end = Math.min(position?.position ?? events.length, events.length);
            start = end;
            let bytes = 0;
            while (start > 0 && end - start < limit) {
              bytes += Buffer.byteLength(events[start - 1]!.message) + EVENT_OVERHEAD_BYTES;
              if (bytes > MAX_PAGE_BYTES && start < end) break;
              start--;
            }
          }
          const page = events.slice(start, end);
          const same = (direction: "f" | "b") =>
            passed !== undefined && position?.direction === direction && page.length === 0;
          return {
            events: page.map((event) => ({ ...event })),
            nextForwardToken: same("f") ? passed : token("f", group, stream, end),
            nextBackwardToken: same("b") ? passed : token("b", group, stream, start),
          };
        },
      },
    },
  };
}
