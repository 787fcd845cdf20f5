import type { Deployment } from "../deployment";
import type { DeploymentStore } from "../deployments/deploymentStore";
import { describeError } from "../errors";
import { isFinalStatus } from "../schema";
import { observationFromBuild } from "./buildObservation";
import { releaseAndStartNext, startNextQueued, type BuildQueueDependencies } from "./buildQueue";
import type { BuildSlots } from "./buildSlots";
import { BATCH_GET_BUILDS_LIMIT, type CodeBuildBuilds } from "./codeBuildBuilds";
import type { ImageRegistry } from "./imageRegistry";
import { settleDeployment } from "./settleDeployment";

export interface ReconcileDependencies extends BuildQueueDependencies {
  readonly deployments: Pick<
    DeploymentStore,
    "get" | "transition" | "update" | "queuedByUser" | "activeBefore" | "recordProgress"
  >;
  readonly slots: Pick<BuildSlots, "acquire" | "release" | "holders">;
  readonly codebuild: Pick<CodeBuildBuilds, "batchGet">;
  readonly images: ImageRegistry;
  /** A BUILDING deployment nothing was heard from for this long is checked against CodeBuild. */
  readonly staleAfterMs: number;
  /** A QUEUED deployment waiting this long gets its user's free slots looked at again. */
  readonly queuedAfterMs: number;
}

export interface ReconcileReport {
  /** BUILDING deployments checked against CodeBuild, and how many of those it ended. */
  checked: number;
  settled: number;
  /** Users whose queue was looked at, and builds started for them. */
  queuedUsers: number;
  started: number;
  /** Slots given back because their deployment had ended. */
  released: number;
  errors: number;
}

/**
 * The scheduled safety net behind the build events: whatever an event lost, a crash or a race left behind is
 * settled from CodeBuild's own record. Reads only what could be stuck (the sparse `active` index), in pages of 100
 * builds per BatchGetBuilds, and applies what it finds with the same state machine as the events.
 */
export async function reconcile(deps: ReconcileDependencies): Promise<ReconcileReport> {
  const now = (deps.clock ?? (() => new Date()))();
  const report: ReconcileReport = { checked: 0, settled: 0, queuedUsers: 0, started: 0, released: 0, errors: 0 };
  const guarded = async (what: string, fields: Record<string, string>, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      report.errors++;
      deps.logger.error(`reconciler could not ${what}`, { ...fields, error: describeError(error).message });
    }
  };
  const settleDeps = {
    deployments: deps.deployments,
    // The reconciler settles only deployments still BUILDING the build it observes, never a final one's orphan: it
    // stops nothing (and its role may not).
    builds: {
      stop: async (buildId: string) => {
        throw new Error(`the reconciler does not stop builds (${buildId})`);
      },
    },
    images: deps.images,
    onFinished: (deployment: Deployment) => releaseAndStartNext(deployment, deps),
    ...(deps.clock ? { clock: deps.clock } : {}),
    logger: deps.logger,
  };

  const staleBefore = new Date(now.getTime() - deps.staleAfterMs).toISOString();
  await forEachPage(deps.deployments, "BUILDING", staleBefore, async (page) => {
    const withBuild = page.filter((d): d is Deployment & { buildId: string } => d.buildId !== undefined);
    const builds = await deps.codebuild.batchGet(withBuild.map((d) => d.buildId));
    for (const deployment of withBuild) {
      report.checked++;
      await guarded("settle a deployment", { deploymentId: deployment.id }, async () => {
        const build = builds.find((b) => b.id === deployment.buildId);
        const observation = build ? observationFromBuild(build, now) : undefined;
        if (!observation) {
          const lost = await deps.deployments.transition(
            deployment.id,
            "FAILED",
            {
              statusReason: {
                code: "BUILD_NOT_FOUND",
                message: `CodeBuild has no record of build ${deployment.buildId}. Deploy again.`,
              },
              finishedAt: now.toISOString(),
            },
            { from: ["BUILDING"], whenBuild: deployment.buildId },
          );
          if (lost) {
            report.settled++;
            await releaseAndStartNext(lost, deps);
          }
          return;
        }
        const result = await settleDeployment({ ...observation, deploymentId: deployment.id }, settleDeps);
        if (result.result === "finished") report.settled++;
      });
    }
  });

  const queuedBefore = new Date(now.getTime() - deps.queuedAfterMs).toISOString();
  const users: string[] = [];
  await forEachPage(deps.deployments, "QUEUED", queuedBefore, async (page) => {
    for (const deployment of page) if (!users.includes(deployment.userId)) users.push(deployment.userId);
  });
  for (const userId of users) {
    report.queuedUsers++;
    await guarded("start queued deployments", { userId }, async () => {
      report.started += await startNextQueued(userId, deps);
    });
  }

  for (const holder of await deps.slots.holders()) {
    await guarded("check build slots", { userId: holder.userId }, async () => {
      let freed = false;
      for (const id of holder.deploymentIds) {
        const deployment = await deps.deployments.get(id, { consistent: true });
        if (deployment && !isFinalStatus(deployment.status)) continue;
        await deps.slots.release(holder.userId, id);
        report.released++;
        freed = true;
      }
      if (freed) report.started += await startNextQueued(holder.userId, deps);
    });
  }
  deps.logger.info("reconciled", { ...report });
  return report;
}

/** Each page of the `active` index for one status, up to one BatchGetBuilds' worth. (No async generators: Pulumi
 * serializes these functions from their source.) */
async function forEachPage(
  deployments: Pick<DeploymentStore, "activeBefore">,
  status: "BUILDING" | "QUEUED",
  before: string,
  visit: (page: Deployment[]) => Promise<void>,
): Promise<void> {
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await deployments.activeBefore(status, before, {
      limit: BATCH_GET_BUILDS_LIMIT,
      ...(cursor ? { cursor } : {}),
    });
    if (page.items.length > 0) await visit(page.items);
    cursor = page.nextCursor;
  } while (cursor);
}
