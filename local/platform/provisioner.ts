import * as fs from "node:fs";
import * as path from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { AwsEmulator } from "../emulators/aws";
import type { Logger } from "../../runtime/log";
import type { PrincipalRegistry } from "./iam/principals";
import type { FunctionArchives } from "./archives/functionArchives";

/** What the mock monitor hands `newResource`. */
export interface ResourceRequest {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
}

/** A Lambda function the stack declared, ready to be started by the launcher. */
export interface DeclaredFunction {
  readonly name: string;
  readonly arn: string;
  readonly roleName: string;
  /** The log group Lambda writes the function's output to (`loggingConfig.logGroup`, else `/aws/lambda/<name>`). */
  readonly logGroup: string;
  readonly codeDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly environment: Record<string, string>;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
}

export interface DeclaredRoute {
  readonly routeKey: string;
  readonly integrationId: string;
  readonly authorizationType: string;
}

/**
 * Everything the stack declared, as local equivalents or as the facts the launcher needs to start them (functions,
 * routes, mappings, queues start only once every resource exists, as a deployment finishes before traffic arrives).
 */
export interface LocalResources {
  readonly tables: Map<string, { name: string; arn: string; streamArn?: string }>;
  readonly functions: Map<string, DeclaredFunction>;
  readonly queues: Map<string, { name: string; arn: string; url: string; inputs: Record<string, any> }>;
  readonly mappings: Record<string, any>[];
  readonly permissions: Record<string, any>[];
  readonly projects: Map<string, Record<string, any>>;
  /** Inline role policies as the stack declared them: policy (resource) name → role and JSON document. */
  readonly rolePolicies: Map<string, { roleName: string; document: string }>;
  readonly api: {
    cors?: Record<string, any>;
    authorizers: Map<string, { issuer: string; audiences: string[] }>;
    integrations: Map<string, { functionArn: string }>;
    routes: DeclaredRoute[];
    throttling?: { rateLimit: number; burstLimit: number };
  };
  /** Resource types the local platform has no equivalent for (reported, not fatal). */
  readonly unsupported: string[];
}

export interface ProvisionerContext {
  readonly region: string;
  readonly accountId: string;
  /** Reaches DynamoDB Local directly, with the platform's own (administrator) identity. */
  readonly dynamodb: DynamoDBClient;
  readonly aws: AwsEmulator;
  readonly iam: PrincipalRegistry;
  /** Where function archives are unpacked (`<stateDir>/functions/<name>`). */
  readonly stateDir: string;
  /** The functions' code as `pulumi up` builds it (the in-process program's own serialization is not used). */
  readonly functionArchives: FunctionArchives;
  /** The API's base URL, known before the stack runs (the launcher picks the port first). */
  readonly apiUrl: string;
  readonly logger: Logger;
}

type Provision = (
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
) => Promise<Provisioned>;
interface Provisioned {
  readonly id: string;
  readonly state?: Record<string, unknown>;
}

const arnOf = (context: ProvisionerContext, service: string, resource: string, global = false) =>
  `arn:aws:${service}:${global ? "" : context.region}:${context.accountId}:${resource}`;

/**
 * A resource's physical name: the one it asks for, its name prefix plus a suffix, or its logical name where AWS
 * would auto-name it — stable here (no random suffix), so local state survives a restart.
 */
const physicalName = (request: ResourceRequest): string =>
  String(request.inputs.name ?? (request.inputs.namePrefix ? `${request.inputs.namePrefix}local` : request.name));

/** Pulumi secrets reach the mock monitor wrapped in a signature object; this is the value inside. */
export function unwrapSecret(value: unknown): unknown {
  const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";
  return typeof value === "object" && value !== null && SECRET_SIGNATURE in value
    ? (value as unknown as { value: unknown }).value
    : value;
}

/** Builds DynamoDB's CreateTable request from an `aws.dynamodb.Table`'s inputs. */
export function createTableInput(tableName: string, inputs: Record<string, any>): CreateTableCommandInput {
  const keySchema = (hashKey: string, rangeKey?: string) => [
    { AttributeName: hashKey, KeyType: "HASH" as const },
    ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: (inputs.attributes ?? []).map((a: { name: string; type: "S" | "N" | "B" }) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: keySchema(inputs.hashKey, inputs.rangeKey),
    ...(inputs.globalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: inputs.globalSecondaryIndexes.map((index: Record<string, any>) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.hashKey, index.rangeKey),
            Projection: {
              ProjectionType: index.projectionType,
              ...(index.nonKeyAttributes ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
            },
          })),
        }
      : {}),
    ...(inputs.streamEnabled
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: inputs.streamViewType } }
      : {}),
  };
}

async function provisionTable(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const name = physicalName(request);
  const describe = () => context.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  let table = await describe().catch((error: unknown) => {
    if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === "ResourceNotFoundException")
      return undefined;
    throw error;
  });
  if (!table) {
    await context.dynamodb.send(new CreateTableCommand(createTableInput(name, request.inputs)));
    if (request.inputs.ttl?.enabled) {
      await context.dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: request.inputs.ttl.attributeName, Enabled: true },
        }),
      );
    }
    table = await describe();
  }
  const arn = table.Table!.TableArn!;
  const streamArn = table.Table!.LatestStreamArn;
  resources.tables.set(name, { name, arn, ...(streamArn ? { streamArn } : {}) });
  return { id: name, state: { name, arn, streamArn, hashKey: request.inputs.hashKey } };
}

async function provisionRole(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const name = physicalName(request);
  const arn = arnOf(context, "iam", `role/${name}`, true);
  context.iam.registerRole(name, arn);
  return { id: name, state: { name, arn } };
}

async function provisionRolePolicy(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const roleName = String(request.inputs.role);
  context.iam.putRolePolicy(roleName, request.name, String(request.inputs.policy));
  resources.rolePolicies.set(request.name, { roleName, document: String(request.inputs.policy) });
  return { id: `${roleName}:${request.name}` };
}

async function provisionLogGroup(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const name = physicalName(request);
  return { id: name, state: { name, arn: arnOf(context, "logs", `log-group:${name}`) } };
}

async function provisionFunction(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const name = physicalName(request);
  const arn = arnOf(context, "lambda", `function:${name}`);
  const codeDir = path.join(context.stateDir, "functions", name);
  fs.rmSync(codeDir, { recursive: true, force: true });
  fs.cpSync(context.functionArchives.codeDir(request.name), codeDir, { recursive: true });
  const roleArn = String(request.inputs.role);
  resources.functions.set(name, {
    name,
    arn,
    roleName: roleArn.slice(roleArn.lastIndexOf("/") + 1),
    logGroup: String(request.inputs.loggingConfig?.logGroup ?? `/aws/lambda/${name}`),
    codeDir,
    handler: String(request.inputs.handler),
    runtime: String(request.inputs.runtime),
    environment: { ...(request.inputs.environment?.variables ?? {}) },
    memorySizeMb: request.inputs.memorySize ?? 128,
    timeoutSeconds: request.inputs.timeout ?? 3,
  });
  return { id: name, state: { name, arn, invokeArn: `${arn}/invocations` } };
}

async function provisionQueue(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const name = physicalName(request);
  const arn = arnOf(context, "sqs", name);
  const url = `https://sqs.${context.region}.amazonaws.com/${context.accountId}/${name}`;
  resources.queues.set(arn, { name, arn, url, inputs: request.inputs });
  return { id: url, state: { name, arn, url } };
}

async function provisionBucket(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const bucket = String(request.inputs.bucket ?? request.name);
  context.aws.createBucket(bucket);
  return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}` } };
}

async function provisionRepository(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const name = physicalName(request);
  return {
    id: name,
    state: {
      name,
      arn: arnOf(context, "ecr", `repository/${name}`),
      // No registry runs locally (no Docker engine); the URL is what builds would tag with.
      repositoryUrl: `${context.accountId}.dkr.ecr.${context.region}.localhost/${name}`,
    },
  };
}

async function provisionProject(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const name = physicalName(request);
  const inputs = request.inputs;
  const arn = context.aws.defineProject(name, {
    source: inputs.source,
    environment: inputs.environment,
    serviceRole: inputs.serviceRole,
    timeoutInMinutes: inputs.buildTimeout,
  });
  resources.projects.set(name, inputs);
  return { id: name, state: { name, arn } };
}

async function provisionSecret(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const name = physicalName(request);
  const arn = arnOf(context, "secretsmanager", `secret:${name}-local`);
  return { id: arn, state: { name, arn } };
}

async function provisionSecretVersion(request: ResourceRequest, context: ProvisionerContext): Promise<Provisioned> {
  const secretId = String(request.inputs.secretId);
  context.aws.putSecret(secretId, String(unwrapSecret(request.inputs.secretString)));
  return { id: `${secretId}|local` };
}

async function provisionApi(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  resources.api.cors = request.inputs.corsConfiguration;
  return {
    id: "local",
    state: { apiEndpoint: context.apiUrl, executionArn: arnOf(context, "execute-api", "local") },
  };
}

async function provisionAuthorizer(
  request: ResourceRequest,
  _context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const jwt = request.inputs.jwtConfiguration ?? {};
  resources.api.authorizers.set(request.name, { issuer: jwt.issuer, audiences: jwt.audiences ?? [] });
  return { id: request.name };
}

async function provisionIntegration(
  request: ResourceRequest,
  _context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  resources.api.integrations.set(request.name, { functionArn: String(request.inputs.integrationUri) });
  return { id: request.name };
}

async function provisionRoute(
  request: ResourceRequest,
  _context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  resources.api.routes.push({
    routeKey: String(request.inputs.routeKey),
    integrationId: String(request.inputs.target).replace(/^integrations\//, ""),
    authorizationType: String(request.inputs.authorizationType ?? "NONE"),
  });
  return { id: request.name };
}

async function provisionStage(
  request: ResourceRequest,
  context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  const settings = request.inputs.defaultRouteSettings ?? {};
  if (settings.throttlingRateLimit !== undefined) {
    resources.api.throttling = {
      rateLimit: settings.throttlingRateLimit,
      burstLimit: settings.throttlingBurstLimit ?? settings.throttlingRateLimit,
    };
  }
  return { id: "$default", state: { invokeUrl: `${context.apiUrl}/` } };
}

async function recordMapping(
  request: ResourceRequest,
  _context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  resources.mappings.push(request.inputs);
  return { id: request.name, state: { uuid: request.name } };
}

async function recordPermission(
  request: ResourceRequest,
  _context: ProvisionerContext,
  resources: LocalResources,
): Promise<Provisioned> {
  resources.permissions.push(request.inputs);
  return { id: request.name };
}

/** Resources whose effect the local platform does not need (bucket hardening, lifecycle, ECR policies…). */
const accepted: Provision = async (request) => ({ id: request.name });

/** Resource type → how it is provisioned locally. */
export const PROVISIONERS: Readonly<Record<string, Provision>> = {
  "aws:dynamodb/table:Table": provisionTable,
  "aws:iam/role:Role": provisionRole,
  "aws:iam/rolePolicy:RolePolicy": provisionRolePolicy,
  "aws:cloudwatch/logGroup:LogGroup": provisionLogGroup,
  "aws:lambda/function:Function": provisionFunction,
  "aws:lambda/permission:Permission": recordPermission,
  "aws:lambda/eventSourceMapping:EventSourceMapping": recordMapping,
  "aws:sqs/queue:Queue": provisionQueue,
  "aws:s3/bucket:Bucket": provisionBucket,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": accepted,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": accepted,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": accepted,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": accepted,
  "aws:s3/bucketPolicy:BucketPolicy": accepted,
  "aws:ecr/repository:Repository": provisionRepository,
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": accepted,
  "aws:codebuild/project:Project": provisionProject,
  "aws:secretsmanager/secret:Secret": provisionSecret,
  "aws:secretsmanager/secretVersion:SecretVersion": provisionSecretVersion,
  "aws:apigatewayv2/api:Api": provisionApi,
  "aws:apigatewayv2/authorizer:Authorizer": provisionAuthorizer,
  "aws:apigatewayv2/integration:Integration": provisionIntegration,
  "aws:apigatewayv2/route:Route": provisionRoute,
  "aws:apigatewayv2/stage:Stage": provisionStage,
};

/** pulumi-aws's own component resources. */
const AWS_COMPONENTS = ["aws:dynamodb:TableEventSubscription"];

export function emptyResources(): LocalResources {
  return {
    tables: new Map(),
    functions: new Map(),
    queues: new Map(),
    mappings: [],
    permissions: [],
    projects: new Map(),
    rolePolicies: new Map(),
    api: { authorizers: new Map(), integrations: new Map(), routes: [] },
    unsupported: [],
  };
}

/**
 * The mock monitor's `newResource`: provisions the local equivalent of each resource the stack declares and answers
 * with the attributes the real one would have (ARNs, names, URLs), so the stack wires itself exactly as in AWS.
 * Component resources (`slipway:…`) and Pulumi's own are only recorded.
 */
export function createProvisioner(context: ProvisionerContext, resources: LocalResources = emptyResources()) {
  return {
    resources,
    async newResource(request: ResourceRequest): Promise<{ id: string; state: Record<string, unknown> }> {
      const provision = PROVISIONERS[request.type];
      if (!provision) {
        // Components (Slipway's, Pulumi's, pulumi-aws's TableEventSubscription) are only recorded: their children
        // are provisioned one by one. Any other AWS resource has no local equivalent yet, and is reported.
        if (request.type.startsWith("aws:") && !AWS_COMPONENTS.includes(request.type))
          resources.unsupported.push(request.type);
        return { id: `${request.name}-local`, state: { ...request.inputs } };
      }
      try {
        const { id, state = {} } = await provision(request, context, resources);
        return { id, state: { ...request.inputs, ...state } };
      } catch (error) {
        context.logger.error("could not provision a resource", {
          type: request.type,
          name: request.name,
          error: error instanceof Error ? error.message : String(error),
        });
        throw error;
      }
    },
  };
}
