import { randomBytes } from "node:crypto";
import type { PrincipalRegistry } from "./principals";

/**
 * The CloudWatch Logs calls AWS services make with a role on its behalf: Lambda writes a function's output with the
 * function's execution role (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html), CodeBuild
 * a build's with the project's service role. Each log stream is created once (CreateLogStream), then written
 * (PutLogEvents); both are authorized on the stream's ARN, which a policy on `<log group ARN>:*` covers. No
 * CloudWatch Logs runs locally: the local platform asks IAM and records the calls, and the lines go where they went.
 */
export interface LogStreamWriter {
  /** CreateLogStream on first use, PutLogEvents every time; false when the role may not (the lines are lost). */
  write(): Promise<boolean>;
  readonly streamArn: string;
}

export function logStreamWriter(options: {
  readonly iam: Pick<PrincipalRegistry, "authorize">;
  readonly accessKeyId: string;
  readonly region: string;
  readonly accountId: string;
  readonly logGroup: string;
  readonly streamName: string;
  /** Told once when the role may not write, with IAM's reason. */
  readonly onDenied?: (message: string) => void;
}): LogStreamWriter {
  const streamArn =
    `arn:aws:logs:${options.region}:${options.accountId}:log-group:${options.logGroup}` +
    `:log-stream:${options.streamName}`;
  let created: Promise<boolean> | undefined;
  let told = false;
  const allowed = async (action: string) => {
    const decision = await options.iam.authorize(options.accessKeyId, action, streamArn);
    if (!decision.allowed && !told) {
      told = true;
      options.onDenied?.(decision.message);
    }
    return decision.allowed;
  };
  return {
    streamArn,
    async write() {
      created ??= allowed("logs:CreateLogStream");
      return (await created) && (await allowed("logs:PutLogEvents"));
    },
  };
}

/** Lambda's stream name for an execution environment: `YYYY/MM/DD/[$LATEST]<32 hex characters>`. */
export function lambdaLogStreamName(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, "/");
  return `${day}/[$LATEST]${randomBytes(16).toString("hex")}`;
}
