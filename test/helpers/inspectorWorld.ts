import { randomUUID } from "node:crypto";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { startAws, type AwsEmulator } from "../../local/emulators/aws";
import { startGitHub, type GitHubEmulator } from "../../local/emulators/github";
import type { MemoryRepository } from "../../local/emulators/github/snapshotSource";
import { BUILDERS } from "../../runtime/builders";
import type { Deployment } from "../../runtime/deployment";
import { DeploymentStore, InstallationStore } from "../../runtime/deployments/store";
import { ENV } from "../../runtime/environment";
import { sharedDynamoDbLocal, type DynamoDbLocal } from "./dynamodbLocal";
import { generateAppKeys } from "./emulators";
import { createTables, localDocumentClient, type TableNames } from "./tables";

export const APP_ID = "4242";
export const SOURCE_BUCKET = "slipway-sources-test";
export const PRIVATE_KEY_SECRET = "slipway/github-app-key";
export const INSTALL_URL = "https://github.com/apps/slipway-test/installations/new";

/** The peers the inspector talks to, all real protocols on 127.0.0.1: DynamoDB Local, the AWS and GitHub emulators. */
export interface InspectorWorld {
  readonly dynamodb: DynamoDbLocal;
  readonly aws: AwsEmulator;
  readonly github: GitHubEmulator;
  readonly privateKeySecretArn: string;
  readonly appKeys: { privateKey: string; publicKey: string };
  stop(): Promise<void>;
}

export async function startInspectorWorld(
  repositories: Record<string, MemoryRepository>,
  options: { awsClock?: () => number; appId?: string } = {},
): Promise<InspectorWorld> {
  // The SDK clients the handler factory builds find region and credentials here, as they would in Lambda.
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "AKIDINSPECTORTEST";
  process.env.AWS_SECRET_ACCESS_KEY = "not-a-secret";
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  const appKeys = generateAppKeys();
  const [dynamodb, aws, github] = await Promise.all([
    sharedDynamoDbLocal(),
    startAws(options.awsClock ? { now: options.awsClock } : {}),
    startGitHub({ appId: options.appId ?? APP_ID, appPublicKey: appKeys.publicKey, repositories }),
  ]);
  aws.createBucket(SOURCE_BUCKET);
  for (const builder of BUILDERS) aws.defineProject(`slipway-${builder}`);
  const privateKeySecretArn = aws.putSecret(PRIVATE_KEY_SECRET, appKeys.privateKey);
  return {
    dynamodb,
    aws,
    github,
    privateKeySecretArn,
    appKeys,
    async stop() {
      await Promise.all([dynamodb.stop(), aws.close(), github.close()]);
    },
  };
}

/** Fresh tables and the environment the stack would give the inspector, pointed at the world's peers. */
export async function inspectorEnvironment(
  world: InspectorWorld,
  options: { maxBuildsPerUser?: number } = {},
): Promise<{ env: NodeJS.ProcessEnv; tables: TableNames }> {
  const tables = await createTables(world.dynamodb.endpoint);
  const env: NodeJS.ProcessEnv = {
    [ENV.deploymentsTable]: tables.deployments,
    [ENV.installationsTable]: tables.installations,
    [ENV.githubAppId]: APP_ID,
    [ENV.githubAppPrivateKeyArn]: world.privateKeySecretArn,
    [ENV.githubApiUrl]: world.github.url,
    [ENV.githubAppInstallUrl]: INSTALL_URL,
    [ENV.sourceBucket]: SOURCE_BUCKET,
    [ENV.buildProjects]: JSON.stringify(Object.fromEntries(BUILDERS.map((b) => [b, `slipway-${b}`]))),
    [ENV.buildSlotsTable]: tables.buildSlots,
    [ENV.maxBuildsPerUser]: String(options.maxBuildsPerUser ?? 10),
    [ENV.dynamodbEndpoint]: world.dynamodb.endpoint,
    [ENV.secretsManagerEndpoint]: world.aws.url,
    [ENV.codebuildEndpoint]: world.aws.url,
    [ENV.s3Endpoint]: world.aws.url,
  };
  return { env, tables };
}

export function stores(world: InspectorWorld, tables: TableNames) {
  const client = localDocumentClient(world.dynamodb.endpoint);
  return {
    deployments: new DeploymentStore({ client, deploymentsTable: tables.deployments }),
    installations: new InstallationStore({ client, table: tables.installations }),
  };
}

/** A PENDING deployment as the API writes it. */
export function pendingDeployment(fields: Partial<Deployment> & Pick<Deployment, "userId" | "repository">): Deployment {
  const now = new Date().toISOString();
  return { id: randomUUID(), status: "PENDING", createdAt: now, updatedAt: now, ...fields };
}

let sequence = 1000;

/** The stream record DynamoDB writes for a deployment's INSERT (NEW_AND_OLD_IMAGES), as Lambda delivers it. */
export function insertRecord(deployment: Deployment): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: randomUUID(),
    eventName: "INSERT",
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: "us-east-1",
    eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/deployments/stream/2026-11-26T00:00:00.000",
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { id: { S: deployment.id } },
      NewImage: {
        id: { S: deployment.id },
        userId: { S: deployment.userId },
        repository: { S: deployment.repository },
        status: { S: deployment.status },
      },
      SequenceNumber: String(sequence).padStart(21, "0"),
      SizeBytes: 100,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

export const streamEvent = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });
