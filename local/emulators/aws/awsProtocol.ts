import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { EmulatorResponse } from "../http/emulatorServer";
import type { Fault } from "../http/faults";

/** A service error as AWS names it; each protocol writes it its own way (JSON `__type`, S3 XML `<Code>`). */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra elements for S3's XML error (Key, BucketName…). */
  readonly details: Readonly<Record<string, string>>;
  constructor(code: string, message: string, status = 400, details: Readonly<Record<string, string>> = {}) {
    super(message);
    this.message = message;
    this.name = "AwsServiceError";
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export function isAwsServiceError(error: unknown): error is AwsServiceError {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AwsServiceError";
}

/** Who signed a request, read from SigV4's credential scope (header or presigned query); the signature is not checked. */
export interface AwsCaller {
  readonly accessKeyId: string;
  readonly region?: string;
  readonly service?: string;
}

export function callerOf(headers: IncomingHttpHeaders, query: URLSearchParams): AwsCaller | undefined {
  const header = typeof headers.authorization === "string" ? headers.authorization : "";
  const scope = /Credential=([^,\s]+)/.exec(header)?.[1] ?? query.get("X-Amz-Credential") ?? undefined;
  if (!scope) return undefined;
  const parts = decodeURIComponent(scope).split("/");
  const accessKeyId = parts[0];
  if (!accessKeyId) return undefined;
  // SigV4: AKID/date/region/service/aws4_request; SigV4a has no region: AKID/date/service/aws4_request.
  if (parts.length >= 5) return { accessKeyId, region: parts[2]!, service: parts[3]! };
  return { accessKeyId, ...(parts[2] ? { service: parts[2] } : {}) };
}

/**
 * Decides whether a caller may perform an IAM action on a resource; false answers AWS's access-denied error.
 * The hook for IAM enforcement in the local platform; absent, everything signed is allowed.
 */
export type Authorize = (accessKeyId: string, action: string, resourceArn: string) => boolean | Promise<boolean>;

export const newRequestId = () => randomBytes(16).toString("hex").toUpperCase();

/** An answer of an AWS JSON 1.1 service (Secrets Manager, CodeBuild). */
export function jsonResult(body: unknown): EmulatorResponse {
  return {
    status: 200,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": newRequestId() },
    body: JSON.stringify(body ?? {}),
  };
}

/** AWS JSON 1.1's error: the code in `x-amzn-ErrorType` and in the body's `__type`, as the SDKs read it. */
export function jsonError(code: string, message: string, status = 400): EmulatorResponse {
  const error = awsJsonError(code, message, status);
  return { ...error, headers: { ...error.headers, "x-amzn-requestid": newRequestId() } };
}

/** An IAM action and the resources it is checked on. */
export interface AccessNeed {
  readonly action: string;
  readonly resources: readonly string[];
}

/**
 * One operation of an AWS JSON service: the IAM actions and resources it needs (checked first; most operations need
 * one action, a few more, like ECR Public's GetAuthorizationToken), then its work.
 */
export interface JsonOperation {
  access(input: Record<string, unknown>): AccessNeed | readonly AccessNeed[];
  run(input: Record<string, unknown>, caller: AwsCaller): unknown;
}

/** An AWS JSON 1.1 service: requests carry `X-Amz-Target: <targetPrefix>.<Operation>`. */
export interface JsonService {
  readonly targetPrefix: string;
  /** The service's prefix in IAM actions and in the emulator's operation names: "secretsmanager", "codebuild". */
  readonly iamPrefix: string;
  readonly operations: Readonly<Record<string, JsonOperation>>;
}

/** Fault fields for an AWS JSON error: `inject({ operation: "codebuild:StartBuild", ...awsJsonError("ThrottlingException", "Rate exceeded") })`. */
export function awsJsonError(
  code: string,
  message: string,
  status = 400,
): Required<Pick<Fault, "status" | "headers">> & { body: string } {
  return {
    status,
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-errortype": `${code}:http://internal.amazon.com/coral/com.amazonaws.emulator/`,
    },
    body: JSON.stringify({ __type: code, message }),
  };
}

/** Fault fields for an S3 error: `inject({ operation: "s3:PutObject", ...s3Error("SlowDown", "Please reduce your request rate.", 503) })`. */
export function s3Error(
  code: string,
  message: string,
  status: number,
  details: Readonly<Record<string, string>> = {},
): Required<Pick<Fault, "status" | "headers">> & { body: string } {
  const requestId = newRequestId();
  const extra = Object.entries(details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
      `${extra}<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString("base64")}</HostId></Error>`,
  };
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (char) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[char]!,
  );
}

/** The denial message IAM writes, naming the action and resource so a policy can be fixed. */
export function accessDeniedMessage(
  accountId: string,
  accessKeyId: string,
  action: string,
  resourceArn: string,
): string {
  return (
    `User: arn:aws:iam::${accountId}:user/${accessKeyId} is not authorized to perform: ${action} on resource: ` +
    `${resourceArn} because no identity-based policy allows the ${action} action`
  );
}
