import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { ECRClient } from "@aws-sdk/client-ecr";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EnvName } from "./environment";
import { createRetryStrategy, type InvocationBudget } from "./retryStrategy";

export type { InvocationBudget } from "./retryStrategy";

/** What `readEnvironment` returns; only the endpoint overrides matter here. */
type Endpoints = Partial<Record<EnvName, string>>;

/**
 * Attempts per AWS call, the first included: with backoff from 100 ms up to 5 s, about 20 s of retries, which
 * rides out a short outage of DynamoDB, S3, CodeBuild or Secrets Manager inside the invocation instead of failing
 * the request or spending one of the stream's retries. The invocation's deadline (`budget`) cuts it shorter.
 */
export const AWS_MAX_ATTEMPTS = 10;

/**
 * What every client shares: the retry strategy bounded by the invocation's deadline, and a connection timeout (a
 * connect that hangs is retried rather than waited on until the function times out).
 */
export function awsClientConfig(budget?: InvocationBudget) {
  return {
    maxAttempts: AWS_MAX_ATTEMPTS,
    retryStrategy: createRetryStrategy({ maxAttempts: AWS_MAX_ATTEMPTS, ...(budget ? { budget } : {}) }),
    requestHandler: { connectionTimeout: 3_000 },
  };
}

/**
 * The deadline of the invocation running now, for `awsClientConfig`: a handler calls `begin(context)` first thing.
 * One per function container (Lambda runs one invocation at a time in a container), made in the handler factory.
 */
export function createInvocationBudget(): InvocationBudget & {
  begin(context: { getRemainingTimeInMillis?: () => number } | undefined): void;
} {
  let remaining: (() => number) | undefined;
  return {
    begin(context) {
      const clock = context?.getRemainingTimeInMillis;
      remaining = typeof clock === "function" ? () => clock.call(context) : undefined;
    },
    remainingMs: () => remaining?.(),
  };
}

/**
 * The DynamoDB document client every handler uses. In AWS `SLIPWAY_DYNAMODB_ENDPOINT` is unset and the SDK finds
 * region and credentials itself; locally it points the client at DynamoDB Local. Built inside handler factories
 * (once per container), never at module level: a client captured in a closure cannot be serialized.
 *
 * `removeUndefinedValues`: optional fields of a Deployment are often `undefined`; they are simply not stored.
 * `config` is for callers that must say more (tests pass a region and dummy credentials for DynamoDB Local).
 */
export function createDocumentClient(
  env: Endpoints,
  config: DynamoDBClientConfig = {},
  budget?: InvocationBudget,
): DynamoDBDocumentClient {
  const endpoint = env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {};
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...awsClientConfig(budget), ...endpoint, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The other services' clients, in the same way: endpoint overrides for the local platform, defaults in AWS. */
export const createSecretsManagerClient = (env: Endpoints, budget?: InvocationBudget) =>
  new SecretsManagerClient({
    ...awsClientConfig(budget),
    ...(env.secretsManagerEndpoint ? { endpoint: env.secretsManagerEndpoint } : {}),
  });

export const createCodeBuildClient = (env: Endpoints, budget?: InvocationBudget) =>
  new CodeBuildClient({
    ...awsClientConfig(budget),
    ...(env.codebuildEndpoint ? { endpoint: env.codebuildEndpoint } : {}),
  });

export const createS3Client = (env: Endpoints, budget?: InvocationBudget) =>
  new S3Client({
    ...awsClientConfig(budget),
    ...(env.s3Endpoint ? { endpoint: env.s3Endpoint, forcePathStyle: true } : {}),
  });

export const createDynamoDbStreamsClient = (env: Endpoints, budget?: InvocationBudget) =>
  new DynamoDBStreamsClient({
    ...awsClientConfig(budget),
    ...(env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {}),
  });

export const createEcrClient = (env: Endpoints, budget?: InvocationBudget) =>
  new ECRClient({ ...awsClientConfig(budget), ...(env.ecrEndpoint ? { endpoint: env.ecrEndpoint } : {}) });

export const createCloudWatchLogsClient = (env: Endpoints, budget?: InvocationBudget) =>
  new CloudWatchLogsClient({ ...awsClientConfig(budget), ...(env.logsEndpoint ? { endpoint: env.logsEndpoint } : {}) });

/** The secret's text. The caller keeps it in memory only: never logged, never in an environment variable. */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error(`secret ${secretId} has no string value; store the PEM private key as text`);
  return SecretString;
}
