import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { Deployment } from "../../runtime/deployment";
import type { Logger } from "../../runtime/log";
import { LOCAL_AWS } from "./dynamodbLocal";
import { startStreamMapping } from "./eventSources/streamMapping";

export interface DeploymentChange {
  readonly deployment: Deployment;
  /** Undefined for a new deployment. */
  readonly previousStatus?: string;
  /** Set when only the build's phase moved (the status stayed BUILDING). */
  readonly previousPhase?: string;
}

/** The move a stream record describes, if it is one: a new deployment, a new status, or a BUILDING build's new phase. */
export function deploymentChange(record: DynamoDBRecord): DeploymentChange | undefined {
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const deployment = unmarshall(image as never) as Deployment;
  const previous = record.dynamodb?.OldImage
    ? (unmarshall(record.dynamodb.OldImage as never) as Deployment)
    : undefined;
  if (!previous) return { deployment };
  if (previous.status !== deployment.status) return { deployment, previousStatus: previous.status };
  if (deployment.status === "BUILDING" && deployment.phase && previous.phase !== deployment.phase) {
    return { deployment, previousStatus: previous.status, previousPhase: previous.phase ?? "" };
  }
  return undefined;
}

/** What a person wants to know about each status, after the move itself. */
const DETAIL_BY_STATUS: Readonly<Partial<Record<Deployment["status"], (deployment: Deployment) => string>>> = {
  QUEUED: () => "  waiting for one of the user's running builds to end",
  BUILDING: (d) =>
    d.phase
      ? `  phase ${d.phase}`
      : `  ${d.framework ?? "?"} on ${d.builder} at ${d.commitSha?.slice(0, 7)}, build ${d.buildId}`,
  SUCCEEDED: (d) => `  image ${d.image?.uri ?? "?"}`,
  FAILED: (d) =>
    d.statusReason
      ? `  ${d.statusReason.code}${d.statusReason.phase ? ` in ${d.statusReason.phase}` : ""}: ${d.statusReason.message}`
      : "",
  CANCELED: (d) => (d.statusReason ? `  ${d.statusReason.code}: ${d.statusReason.message}` : ""),
};

/** One line a person reads: time, id, who deployed, repository, the move, and what it means. */
export function describeChange({ deployment, previousStatus }: DeploymentChange, now = new Date()): string {
  const time = now.toISOString().slice(11, 19);
  const move =
    previousStatus && previousStatus !== deployment.status
      ? `${previousStatus} → ${deployment.status}`
      : deployment.status;
  const ref = deployment.ref ? `@${deployment.ref}` : "";
  const detail = DETAIL_BY_STATUS[deployment.status]?.(deployment) ?? "";
  return `[${time}] ${deployment.id.slice(0, 8)} ${deployment.userId}: ${deployment.repository}${ref}  ${move}${detail}`;
}

/**
 * Follows the deployments table's stream (as the platform's administrator, from now on) and reports every status
 * change: what `npm start` prints while people deploy.
 */
export async function watchDeployments(options: {
  dynamodbEndpoint: string;
  table: string;
  onChange: (change: DeploymentChange) => void;
  logger: Logger;
  /** How often the caught-up stream is read. Default 250 ms, as Lambda's poller. */
  pollIntervalMs?: number;
}): Promise<{ stop(): Promise<void> }> {
  const described = await new DynamoDBClient({ endpoint: options.dynamodbEndpoint, ...LOCAL_AWS }).send(
    new DescribeTableCommand({ TableName: options.table }),
  );
  return startStreamMapping({
    streams: new DynamoDBStreamsClient({ endpoint: options.dynamodbEndpoint, ...LOCAL_AWS }),
    streamArn: described.Table!.LatestStreamArn!,
    tableName: options.table,
    mapping: { startingPosition: "LATEST", batchSize: 100 },
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    invoke: async (event) => {
      for (const record of (event as DynamoDBStreamEvent).Records) {
        const change = deploymentChange(record);
        if (change) options.onChange(change);
      }
      return { ok: true, result: null, durationMs: 0 };
    },
    logger: options.logger,
  });
}
