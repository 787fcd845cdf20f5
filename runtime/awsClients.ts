import { CodeBuildClient } from "@aws-sdk/client-codebuild";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { EnvName } from "./environment";

type Endpoints = Partial<Record<EnvName, string>>;

/**
 * SDK clients for the services the runtime calls. In AWS the endpoints are unset and the SDK finds the region and
 * credentials itself; the local platform and the tests set `SLIPWAY_*_ENDPOINT` to point the same clients at local
 * peers. Built inside handler factories (once per container), never at module level: a client captured in a closure
 * cannot be serialized.
 */
export const createSecretsManagerClient = (env: Endpoints) =>
  new SecretsManagerClient(env.secretsManagerEndpoint ? { endpoint: env.secretsManagerEndpoint } : {});

export const createCodeBuildClient = (env: Endpoints) =>
  new CodeBuildClient(env.codebuildEndpoint ? { endpoint: env.codebuildEndpoint } : {});

export const createS3Client = (env: Endpoints) =>
  new S3Client(env.s3Endpoint ? { endpoint: env.s3Endpoint, forcePathStyle: true } : {});

export const createDynamoDbStreamsClient = (env: Endpoints) =>
  new DynamoDBStreamsClient(env.dynamodbEndpoint ? { endpoint: env.dynamodbEndpoint } : {});

/** The secret's text. The caller keeps it in memory only: never logged, never in an environment variable. */
export async function readSecretString(client: SecretsManagerClient, secretId: string): Promise<string> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error(`secret ${secretId} has no string value; store the PEM private key as text`);
  return SecretString;
}
