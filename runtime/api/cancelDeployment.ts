import type { Deployment } from "../deployment";
import type { DeploymentStore } from "../deployments/deploymentStore";
import { InvalidStateError } from "../errors";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { Logger } from "../log";
import { callersDeployment } from "./deploymentId";
import { toPublicDeployment } from "./publicDeployment";

export interface CancelDependencies {
  readonly deployments: Pick<DeploymentStore, "get" | "transition" | "update">;
  readonly builds: { stop(buildId: string): Promise<void> };
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** Each deployment status → what a cancel does there. A table, so a new status has to be thought about here. */
const CANCEL_BY_STATUS: Readonly<
  Record<Deployment["status"], (deployment: Deployment, deps: CancelDependencies) => Promise<Deployment | undefined>>
> = {
  PENDING: cancelBeforeBuild,
  PROCESSING: cancelBeforeBuild,
  QUEUED: cancelBeforeBuild,
  BUILDING: stopBuild,
  CANCELED: async (deployment) => deployment, // a repeat: the same answer
  SUCCEEDED: refuseFinished,
  FAILED: refuseFinished,
};

/**
 * POST /deployments/{id}/cancel → 202 with the deployment. Before a build exists it goes straight to CANCELED (the
 * inspector's start of the build is conditional on PROCESSING, so none starts afterwards; a build whose StartBuild
 * was already on its way is stopped by its first event, as an orphan); while BUILDING the build is stopped and
 * CodeBuild's STOPPED event moves it to CANCELED (`cancelRequestedAt` says it is on its way); a finished deployment
 * is 409 naming its status. Idempotent: a repeat answers the same way.
 */
export function cancelDeployment(event: ApiEvent, deps: CancelDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    // A move refused because the deployment moved meanwhile (the inspector, an event): decide again on what it is now.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const deployment = await callersDeployment(deps.deployments, event.pathParameters?.id, userId);
      const canceled = await CANCEL_BY_STATUS[deployment.status](deployment, deps);
      if (canceled) {
        deps.logger.info("cancel requested", {
          deploymentId: deployment.id,
          from: deployment.status,
          now: canceled.status,
        });
        return jsonResponse(202, toPublicDeployment(canceled));
      }
    }
    throw new Error("the deployment kept moving while being canceled");
  });
}

const nowOf = (deps: CancelDependencies) => (deps.clock ?? (() => new Date()))().toISOString();

async function cancelBeforeBuild(deployment: Deployment, deps: CancelDependencies): Promise<Deployment | undefined> {
  const now = nowOf(deps);
  const canceled = await deps.deployments.transition(
    deployment.id,
    "CANCELED",
    {
      statusReason: { code: "CANCELED", message: "Canceled at your request, before its build started." },
      cancelRequestedAt: now,
      finishedAt: now,
    },
    { from: ["PENDING", "PROCESSING", "QUEUED"] },
  );
  return canceled;
}

async function stopBuild(deployment: Deployment, deps: CancelDependencies): Promise<Deployment | undefined> {
  const marked =
    deployment.cancelRequestedAt !== undefined
      ? deployment
      : await deps.deployments.update(deployment.id, { cancelRequestedAt: nowOf(deps) }, { whenStatus: "BUILDING" });
  if (!marked) return undefined;
  await deps.builds.stop(deployment.buildId!);
  return marked;
}

async function refuseFinished(deployment: Deployment): Promise<never> {
  throw new InvalidStateError(
    "DEPLOYMENT_FINISHED",
    `This deployment already ended ${deployment.status}; there is nothing to cancel.`,
  );
}
