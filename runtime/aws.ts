import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { ECRClient } from "@aws-sdk/client-ecr";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { EnvName } from "./environment";

/** What `readEnvironment` returns; only the endpoint overrides matter here. */
type Endpoints = Partial<Record<EnvName, string>>;

/**
 * The DynamoDB document client every handler uses. In AWS `SLIPWAY_DYNAMODB_ENDPOINT` is unset and the SDK finds
 * region and credentials itself; locally it points the client at DynamoDB Local. Built inside handler factories
 * (once per container), never at module level: a client captured in a closure cannot be serialized.
 *
 * `removeUndefinedValues`: optional fields of a Deployment are often `undefined`; they are simply not stored.
 * `config` is for callers that must say more (tests pass a region and dummy credentials for DynamoDB Local).
 */
export function createDocumentClient(env: Endpoints, config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const endpoint = env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {};
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...endpoint, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The other services' clients, in the same way: endpoint overrides for the local platform, defaults in AWS. */
export const createSecretsManagerClient = (env: Endpoints) =>
  new SecretsManagerClient(env.secretsManagerEndpoint ? { endpoint: env.secretsManagerEndpoint } : {});

export const createCodeBuildClient = (env: Endpoints) =>
  new CodeBuildClient(env.codebuildEndpoint ? { endpoint: env.codebuildEndpoint } : {});

export const createS3Client = (env: Endpoints) =>
  new S3Client(env.s3Endpoint ? { endpoint: env.s3Endpoint, forcePathStyle: true } : {});

export const createEcrClient = (env: Endpoints) => new ECRClient(env.ecrEndpoint ? { endpoint: env.ecrEndpoint } : {});

export const createCloudWatchLogsClient = (env: Endpoints) =>
  new CloudWatchLogsClient(env.logsEndpoint ? { endpoint: env.logsEndpoint } : {});

export const createDynamoDbStreamsClient = (env: Endpoints) =>
  new DynamoDBStreamsClient(env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {});

/** The secret's text. The caller keeps it in memory only: never logged, never in an environment variable. */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error(`secret ${secretId} has no string value; store the PEM private key as text`);
  return SecretString;
}
