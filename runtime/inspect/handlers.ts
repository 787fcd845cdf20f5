import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  createCodeBuildClient,
  createDocumentClient,
  createDynamoDbStreamsClient,
  createInvocationBudget,
  createS3Client,
  createSecretsManagerClient,
  readSecretString,
} from "../aws";
import { createBuildStarter } from "../build/buildStarter";
import { createSourceArchives, STAGING_MEMORY_BYTES } from "../build/sourceArchives";
import { isBuilder, type Builder } from "../builders";
import { DeploymentStore, InstallationStore } from "../deployments/store";
import { readEnvironment } from "../environment";
import { createInstallationTokens } from "../github/installationTokens";
import { createBuildGate } from "../lifecycle/buildGate";
import { createLogger } from "../log";
import { failAbandonedDeployments } from "./abandonedDeployments";
import { inspectDeployment } from "./inspectDeployment";
import { budgetFromContext, type LambdaContextLike } from "./inspectionBudget";
import { createRepositorySessions } from "./repositorySessions";
import { processStreamBatch } from "./streamBatch";

/**
 * The repo inspector's Lambda handler, built once per container by Pulumi's `callbackFactory`: clients, the App's
 * key (read from Secrets Manager on first use) and installation tokens live as long as the container.
 */
export function createInspectorHandler(
  env: NodeJS.ProcessEnv = process.env,
  overrides: {
    /** The clock and sleep every wait uses (tests move time by hand). */
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
    /** Largest source staged for a build. Default 500 MiB. */
    readonly maxSourceBytes?: number;
  } = {},
) {
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
  // The AWS clients retry within the invocation's remaining time (issue 8): see runtime/aws.ts.
  const awsBudget = createInvocationBudget();
  const documents = createDocumentClient(settings, {}, awsBudget);
  const secrets = createSecretsManagerClient(settings, awsBudget);
  const tokens = createInstallationTokens({
    appId: settings.githubAppId,
    loadPrivateKey: () => readSecretString(secrets, settings.githubAppPrivateKeyArn),
    baseUrl: settings.githubApiUrl,
    installUrl: settings.githubAppInstallUrl,
  });
  const builds = createBuildStarter(createCodeBuildClient(settings, awsBudget));
  const dependencies = {
    deployments: new DeploymentStore({ client: documents, deploymentsTable: settings.deploymentsTable }),
    installations: new InstallationStore({ client: documents, table: settings.installationsTable }),
    openRepository: createRepositorySessions({
      tokens,
      baseUrl: settings.githubApiUrl,
      ...(overrides.maxSourceBytes !== undefined ? { maxSourceBytes: overrides.maxSourceBytes } : {}),
    }),
    ...(overrides.maxSourceBytes !== undefined ? { maxSourceBytes: overrides.maxSourceBytes } : {}),
    sources: createSourceArchives(createS3Client(settings, awsBudget), settings.sourceBucket),
    builds,
    buildGate: createBuildGate(env, { documents, builds, logger }),
    buildProjects: parseBuildProjects(settings.buildProjects),
    installUrl: settings.githubAppInstallUrl,
    logger,
  };
  const waitScale = settings.githubWaitScale === undefined ? undefined : Number(settings.githubWaitScale);
  return (
    event: DynamoDBStreamEvent,
    context?: LambdaContextLike & { memoryLimitInMB?: string | number },
  ): Promise<DynamoDBBatchResponse> => {
    awsBudget.begin(context);
    const budget = budgetFromContext(context, {
      ...(waitScale === undefined ? {} : { waitScale }),
      ...(overrides.now ? { now: overrides.now } : {}),
      ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
    });
    return processStreamBatch(
      withRecords(event),
      (record) => inspectDeployment(record, { ...dependencies, budget }),
      logger,
      inspectionConcurrency(Number(context?.memoryLimitInMB ?? env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0)),
    );
  };
}

/** Memory the Node.js runtime and the handler's clients take before any inspection (measured: ~90 MB). */
const BASELINE_MB = 128;
/**
 * One inspection's memory at most: its staging upload's parts (STAGING_MEMORY_BYTES) plus a recursive tree listing
 * (GitHub's 7 MB JSON becomes several times that as objects) and the files detection reads.
 */
const PER_INSPECTION_MB = Math.ceil(STAGING_MEMORY_BYTES / 1048576) + 48;

/**
 * How many records one invocation inspects at once, from the function's memory: a batch of ten fits a 1024 MB
 * function; a smaller one inspects fewer at a time rather than run out of memory. Unknown memory (tests): no bound.
 */
export function inspectionConcurrency(memoryMb: number): number {
  if (!(memoryMb > 0)) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.floor((memoryMb - BASELINE_MB) / PER_INSPECTION_MB));
}

/** The consumer of the inspector's failure queue: marks the deployments it gave up on FAILED. */
export function createAbandonedDeploymentsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable"], env);
  const awsBudget = createInvocationBudget();
  const dependencies = {
    streams: createDynamoDbStreamsClient(settings, awsBudget),
    deployments: new DeploymentStore({
      client: createDocumentClient(settings, {}, awsBudget),
      deploymentsTable: settings.deploymentsTable,
    }),
    logger: createLogger(),
  };
  return (event: SQSEvent, context?: LambdaContextLike): Promise<SQSBatchResponse> => {
    awsBudget.begin(context);
    return failAbandonedDeployments(withRecords(event), dependencies);
  };
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
