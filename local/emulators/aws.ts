import {
  accessDeniedMessage,
  callerOf,
  isAwsServiceError,
  jsonError,
  jsonResult,
  newRequestId,
  s3Error,
  type AccessNeed,
  type Authorize,
  type JsonService,
} from "./aws/awsProtocol";
import { createCodeBuild, type EmulatedBuild, type ProjectSpec } from "./aws/codeBuild";
import { createEcr, createEcrPublic } from "./aws/ecr";
import { createS3, type StoredObject } from "./aws/s3";
import { createSecretsManager } from "./aws/secretsManager";
import {
  startEmulatorServer,
  type EmulatorRequest,
  type EmulatorResponse,
  type RequestRecord,
} from "./http/emulatorServer";
import type { Fault } from "./http/faults";

export { awsJsonError, s3Error, type Authorize } from "./aws/awsProtocol";
export { IDEMPOTENCY_WINDOW_MS, type EmulatedBuild, type EnvironmentVariable, type ProjectSpec } from "./aws/codeBuild";
export type { StoredObject } from "./aws/s3";
export type { Fault } from "./http/faults";
export type { RequestRecord } from "./http/emulatorServer";

export interface AwsEmulatorOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number;
  /** Region in the ARNs the emulator makes. Default "us-east-1". */
  readonly region?: string;
  /** Account in the ARNs the emulator makes. Default "000000000000". */
  readonly accountId?: string;
  /** The emulator's clock (ms since the epoch): CodeBuild's idempotency window and every timestamp follow it. */
  readonly now?: () => number;
  /** Ids for builds (`project:<id>`). Default random UUIDs. */
  readonly newId?: () => string;
  /** Called with (access key id, IAM action, resource ARN) before each operation; false → AWS's access denied. */
  readonly authorize?: Authorize;
}

export interface AwsEmulator {
  /** The `endpoint` for every SDK client (S3 with `forcePathStyle: true`). */
  readonly url: string;
  close(): Promise<void>;
  /** Secrets Manager: stores a new current version, by ARN or name; returns the secret's ARN. */
  putSecret(arnOrName: string, value: string | Uint8Array): string;
  /** CodeBuild: creates (or replaces) a project; returns its ARN. */
  defineProject(name: string, spec?: ProjectSpec): string;
  /** CodeBuild: every build started, oldest first, with the overrides StartBuild carried. */
  builds(): EmulatedBuild[];
  finishBuild(id: string, status?: string): void;
  createBucket(name: string): void;
  getObject(bucket: string, key: string): StoredObject | undefined;
  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): void;
  listObjects(bucket: string): string[];
  inject(fault: Fault): void;
  /** Every request so far; the operation is `service:Operation` (`codebuild:StartBuild`, `s3:PutObject`). */
  requests(): RequestRecord[];
  /** Forgets faults and the request log; secrets, projects, builds and objects stay. */
  reset(): void;
}

/**
 * Starts the AWS emulator: ONE server for Secrets Manager, CodeBuild, ECR's and ECR Public's logins and S3, as
 * LocalStack does. JSON-protocol
 * requests are told apart by `X-Amz-Target`; everything else is S3 (path-style). Point every client's `endpoint`
 * at `url`. SigV4 signatures are not verified; the access key id in them is handed to `authorize`.
 */
export async function startAws(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const now = options.now ?? Date.now;
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "000000000000";
  const secretsManager = createSecretsManager({ region, accountId, now });
  const codeBuild = createCodeBuild({ region, accountId, now, ...(options.newId ? { newId: options.newId } : {}) });
  const s3 = createS3({ now, region, accountId });
  const jsonServices: readonly JsonService[] = [
    secretsManager,
    codeBuild,
    createEcr({ region, accountId, now }),
    createEcrPublic({ now }),
  ];
  const allowed = async (accessKeyId: string, action: string, resource: string) =>
    !options.authorize || (await options.authorize(accessKeyId, action, resource));

  const targetOf = (request: EmulatorRequest) => {
    const target = request.headers["x-amz-target"];
    if (typeof target !== "string") return undefined;
    const dot = target.lastIndexOf(".");
    const service = jsonServices.find((candidate) => candidate.targetPrefix === target.slice(0, dot));
    return { target, service, operation: target.slice(dot + 1) };
  };

  const handleJson = async (
    request: EmulatorRequest,
    target: NonNullable<ReturnType<typeof targetOf>>,
  ): Promise<EmulatorResponse> => {
    const operation = target.service?.operations[target.operation];
    if (!target.service || !operation)
      return jsonError("UnknownOperationException", `Unknown operation ${target.target}`);
    const caller = callerOf(request.headers, request.url.searchParams);
    if (!caller) return jsonError("MissingAuthenticationTokenException", "Missing Authentication Token");
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = request.body.length ? JSON.parse(request.body.toString("utf8")) : {};
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      input = parsed as Record<string, unknown>;
    } catch {
      return jsonError("SerializationException", "Start of structure or map found where not expected.");
    }
    const needs = operation.access(input);
    for (const need of Array.isArray(needs) ? needs : [needs as AccessNeed]) {
      for (const resource of need.resources) {
        if (!(await allowed(caller.accessKeyId, need.action, resource))) {
          return jsonError(
            "AccessDeniedException",
            accessDeniedMessage(accountId, caller.accessKeyId, need.action, resource),
            403,
          );
        }
      }
    }
    try {
      return jsonResult(await operation.run(input, caller));
    } catch (error) {
      if (isAwsServiceError(error)) return jsonError(error.code, error.message, error.status);
      throw error;
    }
  };

  const handleS3 = async (request: EmulatorRequest): Promise<EmulatorResponse> => {
    const call = s3.route(request);
    const head = request.method === "HEAD";
    // HEAD answers carry no body: the SDK reads the status alone (404 → NotFound).
    const fail = (
      code: string,
      message: string,
      status: number,
      details: Record<string, string> = {},
    ): EmulatorResponse => {
      const error = s3Error(code, message, status, details);
      return head ? { status, headers: { "x-amz-request-id": newRequestId() } } : error;
    };
    const caller = callerOf(request.headers, request.url.searchParams);
    if (!caller || !(await allowed(caller.accessKeyId, call.action, call.resource)))
      return fail("AccessDenied", "Access Denied", 403);
    try {
      return call.run();
    } catch (error) {
      if (isAwsServiceError(error)) return fail(error.code, error.message, error.status, { ...error.details });
      throw error;
    }
  };

  const server = await startEmulatorServer({
    port: options.port,
    now,
    redactedQueryParameters: ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"],
    describe(request) {
      const target = targetOf(request);
      if (target) return target.service ? `${target.service.iamPrefix}:${target.operation}` : target.target;
      return s3.route(request).operation;
    },
    handle(request) {
      const target = targetOf(request);
      return target ? handleJson(request, target) : handleS3(request);
    },
  });

  return {
    url: server.url,
    close: () => server.close(),
    putSecret: (arnOrName, value) => secretsManager.putSecret(arnOrName, value),
    defineProject: (name, spec) => codeBuild.defineProject(name, spec),
    builds: () => codeBuild.builds(),
    finishBuild: (id, status) => codeBuild.finishBuild(id, status),
    createBucket: (name) => s3.createBucket(name),
    getObject: (bucket, key) => s3.getObject(bucket, key),
    putObject: (bucket, key, body, contentType) => s3.putObject(bucket, key, body, contentType),
    listObjects: (bucket) => s3.listObjects(bucket),
    inject: (fault) => server.inject(fault),
    requests: () => server.requests(),
    reset: () => server.reset(),
  };
}
