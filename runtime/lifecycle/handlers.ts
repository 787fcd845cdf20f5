import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createCodeBuildClient, createDocumentClient, createEcrClient } from "../aws";
import { createBuildStarter, type BuildStarter } from "../build/buildStarter";
import type { BuildRequestRecord, Deployment } from "../deployment";
import { DeploymentStore } from "../deployments/store";
import { readEnvironment } from "../environment";
import { createLogger, type Logger } from "../log";
import { observationFromEvent, type CodeBuildEvent } from "./buildObservation";
import { claimBuildStart, releaseAndStartNext, type BuildQueueDependencies } from "./buildQueue";
import { BuildSlots } from "./buildSlots";
import { createCodeBuildBuilds, type CodeBuildBuilds } from "./codeBuildBuilds";
import { createImageRegistry, type ImageRegistry } from "./imageRegistry";
import { reconcile, type ReconcileReport } from "./reconcile";
import { settleDeployment, type SettleResult } from "./settleDeployment";

/*
 * The build lifecycle's Lambda handlers, built once per container by Pulumi's `callbackFactory` (clients live as long
 * as the container), each a call into a tested function.
 */

/** `MAX_BUILDS_PER_USER` as the stack sets it: a whole number ≥ 1; anything else is a stack mistake, told at start. */
export function parseMaxBuilds(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`MAX_BUILDS_PER_USER must be a whole number ≥ 1, not "${value}"`);
  return limit;
}

/** What the queue needs, from the environment and shared clients. */
export function buildQueueDependencies(
  settings: Record<"buildSlotsTable" | "maxBuildsPerUser", string> & { deploymentsTable: string },
  clients: { documents: DynamoDBDocumentClient; builds: BuildStarter; codebuild: CodeBuildBuilds; logger: Logger },
): BuildQueueDependencies {
  return {
    deployments: new DeploymentStore({ client: clients.documents, deploymentsTable: settings.deploymentsTable }),
    slots: new BuildSlots({ client: clients.documents, table: settings.buildSlotsTable }),
    builds: clients.builds,
    stopBuild: (buildId) => clients.codebuild.stop(buildId),
    maxBuildsPerUser: parseMaxBuilds(settings.maxBuildsPerUser),
    logger: clients.logger,
  };
}

/** The inspector's gate before StartBuild (see claimBuildStart), built from its environment. */
export function createBuildGate(
  env: NodeJS.ProcessEnv,
  clients: { documents: DynamoDBDocumentClient; builds: BuildStarter; logger: Logger },
): { claim(deployment: Deployment, request: BuildRequestRecord): ReturnType<typeof claimBuildStart> } {
  const settings = readEnvironment(["deploymentsTable", "buildSlotsTable", "maxBuildsPerUser"], env);
  const deps = buildQueueDependencies(settings, {
    ...clients,
    codebuild: createCodeBuildBuilds(createCodeBuildClient(settings)),
  });
  return { claim: (deployment, request) => claimBuildStart(deployment, request, deps) };
}

function lifecycleDependencies(env: NodeJS.ProcessEnv) {
  const settings = readEnvironment(["deploymentsTable", "buildSlotsTable", "maxBuildsPerUser", "imageRepositoryUrl"], env);
  const logger = createLogger();
  const documents = createDocumentClient(settings);
  const codebuildClient = createCodeBuildClient(settings);
  const codebuild = createCodeBuildBuilds(codebuildClient);
  const queue = buildQueueDependencies(settings, {
    documents,
    builds: createBuildStarter(codebuildClient),
    codebuild,
    logger,
  });
  const images: ImageRegistry = createImageRegistry(createEcrClient(settings), settings.imageRepositoryUrl);
  return { settings, queue, codebuild, images, logger };
}

/** The target of the EventBridge rules on CodeBuild's state and phase changes: moves the build's deployment. */
export function createBuildEventsHandler(env: NodeJS.ProcessEnv = process.env) {
  const { queue, codebuild, images, logger } = lifecycleDependencies(env);
  const deps = {
    deployments: queue.deployments as DeploymentStore,
    builds: codebuild,
    images,
    onFinished: (deployment: Deployment) => releaseAndStartNext(deployment, queue),
    logger,
  };
  return (event: CodeBuildEvent): Promise<SettleResult> => handleBuildEvent(event, deps);
}

/** One build event: its observation applied, or ignored if it is not a CodeBuild event at all. */
export async function handleBuildEvent(
  event: CodeBuildEvent,
  deps: Parameters<typeof settleDeployment>[1],
): Promise<SettleResult> {
  const observation = observationFromEvent(event);
  if (!observation) {
    deps.logger.warn("not a CodeBuild build event; ignored", { detailType: event?.["detail-type"] });
    return { result: "ignored", why: "not a CodeBuild build event" };
  }
  return settleDeployment(observation, deps);
}

/** The scheduled reconciler. */
export function createReconcilerHandler(env: NodeJS.ProcessEnv = process.env) {
  const { settings, queue, codebuild, images } = lifecycleDependencies(env);
  const staleMinutes = Number(settings.staleBuildMinutes ?? 10);
  const deps = {
    ...queue,
    deployments: queue.deployments as DeploymentStore,
    slots: queue.slots as BuildSlots,
    codebuild,
    images,
    staleAfterMs: staleMinutes * 60_000,
    // A queue left waiting a minute with nobody starting it: a slot was freed without anyone noticing.
    queuedAfterMs: 60_000,
  };
  return (): Promise<ReconcileReport> => reconcile(deps);
}
