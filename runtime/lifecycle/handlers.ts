import { createCodeBuildClient, createDocumentClient, createEcrClient } from "../aws";
import { createBuildStarter } from "../build/buildStarter";
import type { Deployment } from "../deployment";
import { DeploymentStore } from "../deployments/store";
import { readEnvironment } from "../environment";
import { createLogger } from "../log";
import { observationFromEvent, type CodeBuildEvent } from "./buildObservation";
import { buildQueueDependencies } from "./buildGate";
import { releaseAndStartNext } from "./buildQueue";
import type { BuildSlots } from "./buildSlots";
import { createCodeBuildBuilds } from "./codeBuildBuilds";
import { createImageRegistry, type ImageRegistry } from "./imageRegistry";
import { reconcile, type ReconcileReport } from "./reconcile";
import { settleDeployment, type SettleResult } from "./settleDeployment";

/*
 * The build lifecycle's Lambda handlers, built once per container by Pulumi's `callbackFactory` (clients live as long
 * as the container), each a call into a tested function.
 */

function lifecycleDependencies(env: NodeJS.ProcessEnv) {
  const settings = readEnvironment(
    ["deploymentsTable", "buildSlotsTable", "maxBuildsPerUser", "imageRepositoryUrl"],
    env,
  );
  const logger = createLogger();
  const documents = createDocumentClient(settings);
  const codebuildClient = createCodeBuildClient(settings);
  const codebuild = createCodeBuildBuilds(codebuildClient);
  const starter = createBuildStarter(codebuildClient);
  const queue = buildQueueDependencies(settings, { documents, builds: { start: starter.start }, logger });
  const images: ImageRegistry = createImageRegistry(createEcrClient(settings), settings.imageRepositoryUrl);
  return { settings, queue, starter, codebuild, images, logger };
}

/** The target of the EventBridge rules on CodeBuild's state and phase changes: moves the build's deployment. */
export function createBuildEventsHandler(env: NodeJS.ProcessEnv = process.env) {
  const { queue, codebuild, images, logger } = lifecycleDependencies(env);
  const deps = {
    deployments: queue.deployments as DeploymentStore,
    builds: { stop: codebuild.stop },
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
  const { settings, queue, starter, codebuild, images } = lifecycleDependencies(env);
  const staleMinutes = Number(settings.staleBuildMinutes ?? 10);
  const deps = {
    ...queue,
    // Only the reconciler resumes a queued start older than CodeBuild's idempotency window (it looks first).
    builds: starter,
    deployments: queue.deployments as DeploymentStore,
    slots: queue.slots as BuildSlots,
    codebuild,
    images,
    staleAfterMs: staleMinutes * 60_000,
    // A queue waiting as long: a slot may have been freed without anyone noticing (a crash, a lost event).
    queuedAfterMs: staleMinutes * 60_000,
  };
  return (): Promise<ReconcileReport> => reconcile(deps);
}
