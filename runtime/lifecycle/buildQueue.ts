import type { BuildStarter } from "../build/buildStarter";
import type { BuildRequestRecord, Deployment } from "../deployment";
import type { DeploymentStore } from "../deployments/deploymentStore";
import { describeError, isPermanentError } from "../errors";
import type { Logger } from "../log";
import type { BuildSlots } from "./buildSlots";

/**
 * The per-user limit on builds running at once, and the queue in front of it. A deployment takes a slot right
 * before its build starts (the inspector calls `claimBuildStart`); without a free slot it waits QUEUED with what
 * StartBuild needs. When a deployment ends, its slot goes back and the user's oldest QUEUED deployment starts
 * (`releaseAndStartNext`); the reconciler does the same for any queue left waiting (a lost event, a crash).
 */
export interface BuildQueueDependencies {
  readonly deployments: Pick<DeploymentStore, "get" | "transition" | "update" | "queuedByUser">;
  readonly slots: Pick<BuildSlots, "acquire" | "release">;
  /**
   * `findExisting` is given only to the reconciler: it alone resumes a start older than CodeBuild's idempotency window
   * (the events function's retries come sooner, when the idempotency token still answers with the same build).
   */
  readonly builds: Pick<BuildStarter, "start"> & Partial<Pick<BuildStarter, "findExisting">>;
  readonly maxBuildsPerUser: number;
  readonly clock?: () => Date;
  readonly logger: Logger;
}

export type BuildStartClaim =
  | { readonly result: "start" }
  | { readonly result: "queued" }
  /** The deployment left PROCESSING meanwhile (canceled): no build may start. */
  | { readonly result: "gone" };

const now = (deps: Pick<BuildQueueDependencies, "clock">) => (deps.clock ?? (() => new Date()))().toISOString();

/**
 * Called by the inspector right before StartBuild, while the deployment is PROCESSING: takes a build slot and records
 * the plan with the start (`buildRequestedAt`), or queues the deployment when the user is at the limit. Only "start"
 * lets the caller start the build.
 *
 * The slot and the record are two writes sent side by side (one round trip on the critical path, not two; a
 * transaction would make the user's one slot item a point of TransactionConflicts when they deploy several at
 * once). The record is conditional on PROCESSING, so a deployment canceled meanwhile gets no build and any slot it
 * took goes back. Writing `buildRequestedAt` before knowing there is a slot only ever makes a resume look for a
 * build first; a deployment that queues instead has it removed again in the QUEUED write (unless an earlier attempt
 * had asked CodeBuild), so its queued start is not taken for an old one.
 */
export async function claimBuildStart(
  deployment: Deployment,
  request: BuildRequestRecord,
  deps: BuildQueueDependencies,
  /** What the inspector found (commit, framework, builder, folder), recorded with the start or the queue. */
  plan: Partial<Deployment> = {},
): Promise<BuildStartClaim> {
  const { deployments, slots, logger } = deps;
  const [acquired, marked] = await Promise.all([
    slots.acquire(deployment.userId, deployment.id, deps.maxBuildsPerUser),
    deployments.update(
      deployment.id,
      { ...plan, buildRequestedAt: deployment.buildRequestedAt ?? now(deps) },
      { whenStatus: "PROCESSING" },
    ),
  ]);
  if (!marked) {
    if (acquired) await slots.release(deployment.userId, deployment.id);
    logger.info("deployment left PROCESSING before its build started; none started", { deploymentId: deployment.id });
    return { result: "gone" };
  }
  if (acquired) return { result: "start" };
  const queued = await deployments.transition(
    deployment.id,
    "QUEUED",
    { buildRequest: request },
    { from: ["PROCESSING"], ...(deployment.buildRequestedAt ? {} : { remove: ["buildRequestedAt"] }) },
  );
  if (!queued) return { result: "gone" };
  logger.info("deployment queued: the user is at their limit of builds running at once", {
    deploymentId: deployment.id,
    limit: deps.maxBuildsPerUser,
  });
  // A slot may have freed between the refused acquire and the QUEUED write, with nobody left to notice.
  await startNextQueued(deployment.userId, deps).catch((error: unknown) =>
    logger.warn("could not start queued deployments; the reconciler will", { error: describeError(error).message }),
  );
  return { result: "queued" };
}

/** A deployment has ended: its slot goes back, and the user's oldest QUEUED deployments start while slots are free. */
export async function releaseAndStartNext(deployment: Deployment, deps: BuildQueueDependencies): Promise<void> {
  await deps.slots.release(deployment.userId, deployment.id);
  await startNextQueued(deployment.userId, deps);
}

/** How many queued deployments one call looks at; the rest wait for the next slot freed (or the reconciler). */
const QUEUE_PAGE = 10;

/**
 * Starts the user's QUEUED deployments, oldest first, while they have free slots. Returns how many started. The index
 * is eventually consistent, so each candidate is read again (strongly) before anything is done with it.
 */
export async function startNextQueued(userId: string, deps: BuildQueueDependencies): Promise<number> {
  let started = 0;
  for (const candidate of await deps.deployments.queuedByUser(userId, QUEUE_PAGE)) {
    const deployment = await deps.deployments.get(candidate.id, { consistent: true });
    if (!deployment || deployment.status !== "QUEUED") continue;
    if (!(await deps.slots.acquire(userId, deployment.id, deps.maxBuildsPerUser))) break;
    if (await startQueued(deployment, deps)) started++;
  }
  return started;
}

/** CodeBuild remembers an idempotency token for 5 minutes; a start older than this is resumed by looking first. */
const IDEMPOTENCY_WINDOW_MS = 4 * 60_000;

/**
 * Starts one QUEUED deployment's build, holding a slot. As in the inspector: the start is marked first, CodeBuild's
 * idempotency token is the deployment id (a repeat within its window is the same build), and the move to BUILDING is
 * conditional. A start marked longer ago is resumed only where `findExisting` is given (the reconciler), which looks
 * for the build before asking again: never a second build. A deployment canceled meanwhile gets no build; one
 * started in that instant is stopped by its first event (settleDeployment's orphan rule).
 */
async function startQueued(
  deployment: Deployment,
  deps: Pick<BuildQueueDependencies, "deployments" | "slots" | "builds" | "clock" | "logger">,
): Promise<boolean> {
  const { deployments, logger } = deps;
  const request = deployment.buildRequest;
  const giveUp = async (code: string, message: string) => {
    await deployments.transition(
      deployment.id,
      "FAILED",
      { statusReason: { code, message }, finishedAt: now(deps) },
      {
        from: ["QUEUED"],
      },
    );
    await deps.slots.release(deployment.userId, deployment.id);
    return false;
  };
  if (!request) {
    return giveUp("QUEUED_WITHOUT_BUILD", "Slipway lost what this deployment was to build. Deploy again.");
  }
  const requestedAgo = deployment.buildRequestedAt
    ? (deps.clock ?? (() => new Date()))().getTime() - Date.parse(deployment.buildRequestedAt)
    : 0;
  let buildId: string | undefined;
  if (requestedAgo > IDEMPOTENCY_WINDOW_MS) {
    if (!deps.builds.findExisting) {
      logger.info("a queued start older than CodeBuild's idempotency window: left to the reconciler", {
        deploymentId: deployment.id,
      });
      return false;
    }
    buildId = await deps.builds.findExisting(request.projectName, deployment.id);
  }
  if (!buildId) {
    const marked = await deployments.update(
      deployment.id,
      { buildRequestedAt: deployment.buildRequestedAt ?? now(deps) },
      { whenStatus: "QUEUED" },
    );
    if (!marked) {
      await deps.slots.release(deployment.userId, deployment.id);
      return false;
    }
    try {
      buildId = await deps.builds.start({ ...request, deploymentId: deployment.id });
    } catch (error) {
      if (isPermanentError(error)) return giveUp(error.code, error.message);
      throw error; // transient: the slot stays taken by this deployment; the next attempt finds or starts its build
    }
  }
  const building = await deployments.transition(
    deployment.id,
    "BUILDING",
    { buildId },
    {
      from: ["QUEUED"],
      whenBuild: buildId,
    },
  );
  if (!building) {
    const current = await deployments.get(deployment.id, { consistent: true });
    // An event for the new build may have recorded it first (and even ended it); anything else means the deployment
    // was canceled meanwhile, and the build must not run for nothing.
    if (current?.buildId === buildId) return true;
    await deps.slots.release(deployment.userId, deployment.id);
    logger.info("queued deployment ended before its build was recorded; the build's first event stops it", {
      deploymentId: deployment.id,
      buildId,
    });
    return false;
  }
  logger.info("queued deployment started", { deploymentId: deployment.id, buildId });
  return true;
}
