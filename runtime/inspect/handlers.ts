import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  createCodeBuildClient,
  createDocumentClient,
  createDynamoDbStreamsClient,
  createS3Client,
  createSecretsManagerClient,
  readSecretString,
} from "../aws";
import { createBuildStarter } from "../build/buildStarter";
import { createSourceArchives } from "../build/sourceArchives";
import { isBuilder, type Builder } from "../builders";
import { DeploymentStore, InstallationStore } from "../deployments/store";
import { readEnvironment } from "../environment";
import { createInstallationTokens } from "../github/installationTokens";
import { createBuildGate } from "../lifecycle/buildGate";
import { createLogger } from "../log";
import { failAbandonedDeployments } from "./abandonedDeployments";
import { inspectDeployment } from "./inspectDeployment";
import { createRepositorySessions } from "./repositorySessions";
import { processStreamBatch } from "./streamBatch";

/**
 * The repo inspector's Lambda handler, built once per container by Pulumi's `callbackFactory`: clients, the App's
 * key (read from Secrets Manager on first use) and installation tokens live as long as the container.
 */
export function createInspectorHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(
    [
      "deploymentsTable",
      "installationsTable",
      "githubAppId",
      "githubAppPrivateKeyArn",
      "sourceBucket",
      "buildProjects",
    ],
    env,
  );
  const logger = createLogger();
  const documents = createDocumentClient(settings);
  const secrets = createSecretsManagerClient(settings);
  const tokens = createInstallationTokens({
    appId: settings.githubAppId,
    loadPrivateKey: () => readSecretString(secrets, settings.githubAppPrivateKeyArn),
    baseUrl: settings.githubApiUrl,
    installUrl: settings.githubAppInstallUrl,
  });
  const builds = createBuildStarter(createCodeBuildClient(settings));
  const dependencies = {
    deployments: new DeploymentStore({ client: documents, deploymentsTable: settings.deploymentsTable }),
    installations: new InstallationStore({ client: documents, table: settings.installationsTable }),
    openRepository: createRepositorySessions({ tokens, baseUrl: settings.githubApiUrl }),
    sources: createSourceArchives(createS3Client(settings), settings.sourceBucket),
    builds,
    buildGate: createBuildGate(env, { documents, builds, logger }),
    buildProjects: parseBuildProjects(settings.buildProjects),
    installUrl: settings.githubAppInstallUrl,
    logger,
  };
  return (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
    processStreamBatch(withRecords(event), (id) => inspectDeployment(id, dependencies), logger);
}

/** The consumer of the inspector's failure queue: marks the deployments it gave up on FAILED. */
export function createAbandonedDeploymentsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable"], env);
  const dependencies = {
    streams: createDynamoDbStreamsClient(settings),
    deployments: new DeploymentStore({
      client: createDocumentClient(settings),
      deploymentsTable: settings.deploymentsTable,
    }),
    logger: createLogger(),
  };
  return (event: SQSEvent): Promise<SQSBatchResponse> => failAbandonedDeployments(withRecords(event), dependencies);
}

/** A test invocation from the console or `npm run preflight` may carry no `Records`: an empty batch, not a crash. */
function withRecords<T extends { Records?: unknown[] }>(event: T): T {
  return Array.isArray(event?.Records) ? event : { ...event, Records: [] };
}

/** `BUILD_PROJECTS` is a JSON object builder → project name; anything else is a stack mistake, reported at start. */
export function parseBuildProjects(json: string): Partial<Record<Builder, string>> {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("BUILD_PROJECTS must be a JSON object of builder → CodeBuild project name");
  }
  const projects: Partial<Record<Builder, string>> = {};
  for (const [builder, project] of Object.entries(parsed)) {
    if (!isBuilder(builder) || typeof project !== "string") {
      throw new Error(`BUILD_PROJECTS has an unknown builder or a non-string project: ${builder}`);
    }
    projects[builder] = project;
  }
  return projects;
}
