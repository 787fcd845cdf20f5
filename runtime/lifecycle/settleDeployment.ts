import type { Deployment } from "../deployment";
import type { DeploymentStore } from "../deployments/deploymentStore";
import type { Logger } from "../log";
import { isFinalStatus } from "../schema";
import { isFinalBuildStatus, phaseRank, type BuildObservation } from "./buildObservation";
import { buildOutcome, type BuildOutcome } from "./buildOutcome";
import type { CodeBuildBuilds } from "./codeBuildBuilds";
import type { ImageRegistry } from "./imageRegistry";

/** What one observation did to its deployment (for logs and tests). */
export type SettleResult =
  | { readonly result: "progress"; readonly phase: string }
  | { readonly result: "finished"; readonly status: BuildOutcome["status"]; readonly code?: string }
  | { readonly result: "stopped-orphan" }
  | { readonly result: "ignored"; readonly why: string };

export interface SettleDependencies {
  readonly deployments: Pick<DeploymentStore, "get" | "transition" | "recordProgress">;
  readonly builds: Pick<CodeBuildBuilds, "stop">;
  readonly images: ImageRegistry;
  /** Called once a deployment has ended and its build slot may be reused (release, then start the next queued). */
  onFinished(deployment: Deployment): Promise<void>;
  readonly clock?: () => Date;
  readonly logger: Logger;
}

/**
 * Applies one observation of a build to its deployment. Events come out of order and more than once, and the
 * reconciler may observe the same build again, so every decision is a conditional write that only moves forward:
 *
 * - a deployment still PROCESSING or QUEUED whose build is already reported adopts it (→ BUILDING with its id): the
 *   event overtook the write that records the build;
 * - progress (a phase) is recorded only while BUILDING this very build and only if it is later in CodeBuild's phase
 *   order (or the same phase seen later) than what is stored;
 * - a final build status ends the deployment once (BUILDING → SUCCEEDED with the pushed image, FAILED with the reason
 *   and phase, or CANCELED); a repeat finds it final and only makes sure its build slot was given back;
 * - a build still running for a deployment that has already ended (canceled before its build was recorded) is an
 *   orphan: it is stopped.
 */
export async function settleDeployment(
  observation: BuildObservation,
  deps: SettleDependencies,
  attempt = 1,
): Promise<SettleResult> {
  const { deployments, logger } = deps;
  const log = { buildId: observation.buildId, buildStatus: observation.buildStatus, phase: observation.currentPhase };
  // Every build Slipway starts carries DEPLOYMENT_ID, and both sources (the events and BatchGetBuilds) list it.
  const deploymentId = observation.deploymentId;
  if (!deploymentId) return ignored(logger, log, "the build has no DEPLOYMENT_ID: not a Slipway build");
  // Most events are a later phase of a build its deployment already records as BUILDING. Then the conditional write
  // alone decides (BUILDING with this very build, a later phase): no read first. Refused, the deployment is read and
  // the observation decided on what it is (adopted, an orphan, already ended, stale), as below.
  if (attempt === 1 && !isFinalBuildStatus(observation.buildStatus)) {
    const progress = progressOf(observation);
    if (progress && (await deployments.recordProgress(deploymentId, observation.buildId, progress))) {
      logger.info("build progress", { deploymentId, buildId: observation.buildId, phase: progress.phase });
      return { result: "progress", phase: progress.phase };
    }
  }
  const deployment = await deployments.get(deploymentId, { consistent: true });
  if (!deployment) return ignored(logger, { ...log, deploymentId }, "no such deployment");

  if (isFinalStatus(deployment.status)) {
    if (deployment.buildId !== observation.buildId) {
      if (isFinalBuildStatus(observation.buildStatus)) return ignored(logger, { ...log, deploymentId }, "orphan ended");
      await deps.builds.stop(observation.buildId);
      logger.warn("stopped a build whose deployment had already ended", {
        ...log,
        deploymentId,
        status: deployment.status,
      });
      return { result: "stopped-orphan" };
    }
    // A repeat of the final event (or the reconciler after it): make sure the slot went back, in case the first
    // delivery moved the deployment and then failed before releasing it.
    if (isFinalBuildStatus(observation.buildStatus)) await deps.onFinished(deployment);
    return ignored(logger, { ...log, deploymentId }, `already ${deployment.status}`);
  }
  if (deployment.buildId !== undefined && deployment.buildId !== observation.buildId) {
    return ignored(logger, { ...log, deploymentId }, `the deployment records build ${deployment.buildId}`);
  }
  let building = deployment;
  if (deployment.status === "PROCESSING" || deployment.status === "QUEUED") {
    const adopted = await deployments.transition(
      deploymentId,
      "BUILDING",
      { buildId: observation.buildId },
      { from: ["PROCESSING", "QUEUED"], whenBuild: observation.buildId },
    );
    // Refused: it moved meanwhile (canceled, or BUILDING by the inspector's own write); decide again on what it is now.
    if (!adopted) return attempt < 3 ? settleDeployment(observation, deps, attempt + 1) : ignored(logger, log, "busy");
    building = adopted;
  }
  if (building.status !== "BUILDING") return ignored(logger, { ...log, deploymentId }, `is ${building.status}`);

  const outcome = buildOutcome(observation, deploymentId, building.cancelRequestedAt !== undefined);
  if (!outcome) return recordProgress(building, observation, deps);
  return finish(building, observation, outcome, deps);
}

async function recordProgress(
  deployment: Deployment,
  observation: BuildObservation,
  deps: SettleDependencies,
): Promise<SettleResult> {
  const progress = progressOf(observation);
  const phase = observation.currentPhase;
  if (!progress) return ignored(deps.logger, { deploymentId: deployment.id }, `unknown phase ${phase}`);
  const recorded = await deps.deployments.recordProgress(deployment.id, observation.buildId, progress);
  if (!recorded) return ignored(deps.logger, { deploymentId: deployment.id, phase }, "stale or repeated progress");
  deps.logger.info("build progress", { deploymentId: deployment.id, buildId: observation.buildId, phase });
  return { result: "progress", phase: progress.phase };
}

/** What a running build's observation records: its phase and that phase's rank; undefined for an unknown phase. */
function progressOf(observation: BuildObservation) {
  const phase = observation.currentPhase;
  const rank = phaseRank(phase);
  if (!phase || rank < 0) return undefined;
  return {
    phase,
    phaseRank: rank,
    phaseAt: observation.observedAt,
    ...(observation.logsUrl ? { logsUrl: observation.logsUrl } : {}),
  };
}

async function finish(
  deployment: Deployment,
  observation: BuildObservation,
  outcome: BuildOutcome,
  deps: SettleDependencies,
): Promise<SettleResult> {
  let settled = outcome;
  let image;
  if (outcome.status === "SUCCEEDED") {
    image = await deps.images.imageOf(deployment.id);
    if (!image) {
      settled = {
        status: "FAILED",
        reason: {
          code: "IMAGE_NOT_FOUND",
          message:
            `The build succeeded but no image tagged ${deployment.id} is in the image repository, so there is nothing ` +
            `to deploy. Deploy again; if it happens again, tell the platform team.`,
        },
      };
    }
  }
  const now = (deps.clock ?? (() => new Date()))().toISOString();
  const moved = await deps.deployments.transition(
    deployment.id,
    settled.status,
    {
      ...(settled.reason ? { statusReason: settled.reason } : {}),
      ...(image ? { image } : {}),
      ...(observation.logsUrl ? { logsUrl: observation.logsUrl } : {}),
      phase: "COMPLETED",
      finishedAt: now,
    },
    { from: ["BUILDING"], whenBuild: observation.buildId },
  );
  const ended = moved ?? (await deps.deployments.get(deployment.id, { consistent: true }));
  if (ended && isFinalStatus(ended.status)) await deps.onFinished(ended);
  if (!moved) return ignored(deps.logger, { deploymentId: deployment.id }, "already ended by another delivery");
  deps.logger.info("deployment finished", {
    deploymentId: deployment.id,
    buildId: observation.buildId,
    status: settled.status,
    code: settled.reason?.code,
    phase: settled.reason?.phase,
  });
  return { result: "finished", status: settled.status, ...(settled.reason ? { code: settled.reason.code } : {}) };
}

function ignored(logger: Logger, fields: Record<string, string | undefined>, why: string): SettleResult {
  logger.info("build observation ignored", { ...fields, why });
  return { result: "ignored", why };
}
