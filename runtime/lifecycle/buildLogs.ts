import { GetLogEventsCommand, type CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";

export interface BuildLogPage {
  readonly events: { readonly timestamp: number; readonly message: string }[];
  readonly nextToken: string;
}

/** A build's CloudWatch Logs stream, read forward from the start (GetLogEvents with startFromHead). */
export interface BuildLogReader {
  /** A page of the stream, or undefined while the stream does not exist yet (the build has not logged). */
  read(request: { group: string; stream: string; token?: string; limit: number }): Promise<BuildLogPage | undefined>;
}

export function createBuildLogReader(logs: CloudWatchLogsClient): BuildLogReader {
  return {
    async read({ group, stream, token, limit }) {
      try {
        const page = await logs.send(
          new GetLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            startFromHead: true,
            limit,
            ...(token ? { nextToken: token } : {}),
          }),
        );
        return {
          events: (page.events ?? []).map((event) => ({
            timestamp: event.timestamp ?? 0,
            message: event.message ?? "",
          })),
          nextToken: page.nextForwardToken ?? token ?? "",
        };
      } catch (error) {
        if ((error as { name?: unknown } | null)?.name === "ResourceNotFoundException") return undefined;
        throw error;
      }
    },
  };
}
