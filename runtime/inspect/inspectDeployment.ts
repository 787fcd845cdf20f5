import type { Readable } from "node:stream";
import type { Builder } from "../builders";
import type { BuildRequestRecord, Deployment, Installation, StatusReason } from "../deployment";
import { describeError, isPermanentError, isTransientError, PermanentError, TransientError } from "../errors";
import { tooLarge } from "../github/archiveCheck";
import type { RetryOptions } from "../github/githubErrors";
import { candidatesOf } from "../detect/detectionError";
import type { BuildStartClaim } from "../lifecycle/buildQueue";
import type { Logger } from "../log";
import type { DeploymentStatus } from "../schema";
import type { InspectionBudget } from "./inspectionBudget";
import { pickInstallation } from "../onboarding/pickInstallation";

/** What detection decides, as far as the inspector needs it (runtime/detect's plan carries more). */
export interface BuildPlan {
  /** null when only a Dockerfile says how to build (no framework recognised). */
  readonly framework: string | null;
  readonly builder: Builder;
  /** "" for the repository root. */
  readonly rootDirectory: string;
  readonly buildCommand?: string;
  readonly startCommand?: string;
  readonly packageManager?: string;
  readonly version?: Readonly<Record<string, string | undefined>>;
}

/** A zipball on its way from GitHub (see runtime/github/repositoryClient's ArchiveDownload). */
export interface SourceDownload {
  readonly body: Readable;
  readonly contentLength?: number;
}

/** One commit of the repository: its SHA, its size, what to build from it, and its archive. */
export interface RepositorySnapshot {
  readonly commitSha: string;
  /** The commit's files in bytes, known from the listing before anything is downloaded (absent when truncated). */
  readonly totalBytes?: number;
  detect(rootDirectory: string | undefined): Promise<BuildPlan>;
  downloadArchive(): Promise<SourceDownload>;
}

/** The repository as the inspector sees it, opened with an installation token it never sees. */
export interface RepositorySession {
  /** Resolves `ref` (unless the SHA is known) and lists the commit: one round trip to GitHub. */
  snapshot(ref: string | undefined, commitSha: string | undefined): Promise<RepositorySnapshot>;
}

/** The stream record's view of a new deployment: enough to start before reading the item. */
export interface DeploymentRecord {
  readonly id: string;
  readonly userId?: string;
}

export interface InspectorDependencies {
  readonly deployments: {
    get(id: string, options?: { consistent?: boolean }): Promise<Deployment | undefined>;
    transition(
      id: string,
      to: DeploymentStatus,
      fields?: Partial<Deployment>,
      options?: { incrementAttempts?: boolean },
    ): Promise<Deployment | undefined>;
    update(
      id: string,
      fields: Partial<Deployment>,
      options: { whenStatus: DeploymentStatus },
    ): Promise<Deployment | undefined>;
  };
  /** The user's linked installations (their account and organisations); the repository's owner picks one. */
  readonly installations: { listForUser(userId: string): Promise<Installation[]> };
  /** Mints a token for the installation and opens the repository with it, within the budget's waits. */
  openRepository(
    installation: Installation,
    owner: string,
    name: string,
    budget: { retry?: RetryOptions },
  ): Promise<RepositorySession>;
  readonly sources: {
    stage(deploymentId: string, body: Readable, options?: { abortSignal?: AbortSignal }): Promise<string>;
  };
  readonly builds: {
    start(request: {
      projectName: string;
      deploymentId: string;
      sourceLocation: string;
      environment: Readonly<Record<string, string>>;
    }): Promise<string>;
    findExisting(projectName: string, deploymentId: string): Promise<string | undefined>;
  };
  /**
   * Asked right before StartBuild: takes a build slot ("start"), queues the deployment when its user is at the limit
   * of builds running at once ("queued"), or finds it canceled meanwhile ("gone"). Only "start" starts a build.
   */
  readonly buildGate: {
    claim(deployment: Deployment, request: BuildRequestRecord, plan: Partial<Deployment>): Promise<BuildStartClaim>;
  };
  /** Builder → CodeBuild project name. */
  readonly buildProjects: Readonly<Partial<Record<Builder, string>>>;
  /** Where a user installs the GitHub App, for the message when they have not. */
  readonly installUrl?: string;
  /** Largest source Slipway builds, in bytes. Default 500 MiB. */
  readonly maxSourceBytes?: number;
  /** This invocation's time: the deadline every wait and retry stays within. Default: unbounded, real clock. */
  readonly budget?: InspectionBudget;
  readonly logger: Logger;
}

/** What happened to one deployment in one invocation. */
export type InspectionOutcome =
  | { readonly result: "building"; readonly buildId: string }
  | { readonly result: "queued" }
  | { readonly result: "failed"; readonly reason: StatusReason }
  | { readonly result: "skipped"; readonly status: DeploymentStatus | "MISSING" };

const DEFAULT_MAX_SOURCE_BYTES = 500 * 1024 * 1024;
/** A broken download is tried again inline once (if time allows) before the stream's retry. */
const DOWNLOAD_ATTEMPTS = 2;

const UNBOUNDED: InspectionBudget = {
  deadline: Number.POSITIVE_INFINITY,
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Takes one deployment from PENDING (or a PROCESSING left by a crash) to BUILDING, or to FAILED with a reason.
 *
 * Every status move is a conditional write, so a duplicate delivery of the stream record finds the deployment past
 * PENDING/PROCESSING and does nothing. A crash half-way leaves it PROCESSING; the stream redelivers the record and
 * this resumes: each step is idempotent (same SHA, same object key, CodeBuild idempotency token), and a resume that
 * already asked CodeBuild looks for that build before asking again. Permanent errors end FAILED; anything else is
 * rethrown for the stream to retry (after recording it as `lastError` for the give-up path).
 *
 * Waits GitHub asks for. The stream mapping redelivers a failed record at once, so a rate limit cannot be honoured by
 * failing the record and hoping for a later retry: that burns the retries in seconds. Instead a wait is slept
 * inline whenever it fits in this invocation's remaining time; one that does not is recorded as `notBefore` on the
 * deployment before the record fails, and the next attempt (the immediate redelivery) sleeps until then (or for as
 * long as its own invocation allows, then fails again): every retry is spent waiting, never burned. A wait longer
 * than GitHub's retry rules make worthwhile (RetryOptions.maxRateLimitWaitMs) fails the deployment with the time to
 * deploy again. Other users' deployments are not held behind such a wait: the mapping runs several batches per
 * shard at once (parallelizationFactor), each record's inspection runs beside the others of its batch, and per-item
 * order is all the stream keeps.
 */
export async function inspectDeployment(
  record: DeploymentRecord | string,
  deps: InspectorDependencies,
): Promise<InspectionOutcome> {
  const { id, userId } = typeof record === "string" ? { id: record, userId: undefined } : record;
  const { deployments, logger } = deps;
  const budget = deps.budget ?? UNBOUNDED;
  // The claim is the first read: a conditional move to PROCESSING answers with the item (the installation is read
  // beside it when the stream record names the user).
  const [claimed, earlyLinks] = await Promise.all([
    deployments.transition(id, "PROCESSING", {}, { incrementAttempts: true }),
    userId === undefined ? Promise.resolve(undefined) : deps.installations.listForUser(userId),
  ]);
  if (!claimed) {
    const status = (await deployments.get(id, { consistent: true }))?.status ?? "MISSING";
    logger.info("deployment needs no inspection", { deploymentId: id, status });
    return { result: "skipped", status };
  }
  logger.info("inspecting deployment", { deploymentId: id, attempt: claimed.attempts ?? 1 });

  try {
    const links =
      (claimed.userId === userId ? earlyLinks : undefined) ?? (await deps.installations.listForUser(claimed.userId));
    await waitForGitHub(claimed, budget);
    const buildId = await runInspection(claimed, links, deps, budget);
    if (typeof buildId !== "string") {
      if (buildId.result === "queued") return { result: "queued" };
      return { result: "skipped", status: (await deployments.get(id, { consistent: true }))?.status ?? "MISSING" };
    }
    const building = await deployments.transition(id, "BUILDING", { buildId });
    logger.info("deployment building", { deploymentId: id, buildId, moved: building !== undefined });
    return { result: "building", buildId };
  } catch (error) {
    if (isPermanentError(error)) {
      const reason = statusReasonOf(error);
      await deployments.transition(id, "FAILED", { statusReason: reason });
      logger.warn("deployment failed", { deploymentId: id, code: reason.code });
      return { result: "failed", reason };
    }
    const lastError = describeError(error);
    const retryAfterMs = isTransientError(error) ? error.retryAfterMs : undefined;
    const notBefore = retryAfterMs === undefined ? undefined : new Date(budget.now() + retryAfterMs).toISOString();
    logger.error("inspection failed; the stream will retry", {
      deploymentId: id,
      code: lastError.code,
      error: lastError.message,
      ...(notBefore ? { notBefore } : {}),
    });
    await deployments
      .update(id, { lastError, ...(notBefore ? { notBefore } : {}) }, { whenStatus: "PROCESSING" })
      .catch(() => undefined);
    throw error;
  }
}

/** Honours a wait an earlier attempt recorded: sleeps until `notBefore`, or as long as this invocation can. */
async function waitForGitHub(deployment: Deployment, budget: InspectionBudget): Promise<void> {
  if (!deployment.notBefore) return;
  const until = Date.parse(deployment.notBefore);
  const wait = until - budget.now();
  if (!(wait > 0)) return;
  if (budget.now() + wait <= budget.deadline) return budget.sleep(wait);
  await budget.sleep(Math.max(0, budget.deadline - budget.now()));
  throw new TransientError(
    "GITHUB_RATE_LIMITED",
    `GitHub asked Slipway to wait until ${deployment.notBefore} before calling again; Slipway is still waiting.`,
    Math.max(0, until - budget.now()),
  );
}

/** The build's id once started, or why none was (queued at the user's limit, or canceled meanwhile). */
async function runInspection(
  deployment: Deployment,
  links: readonly Installation[],
  deps: InspectorDependencies,
  budget: InspectionBudget,
): Promise<string | Exclude<BuildStartClaim, { result: "start" }>> {
  const [owner, name] = splitRepository(deployment.repository);
  const installation = pickInstallation(links, deployment.repository, deps.installUrl);
  const retry: RetryOptions = {
    deadline: budget.deadline,
    now: budget.now,
    sleep: budget.sleep,
    ...(budget.waitScale !== undefined ? { waitScale: budget.waitScale } : {}),
  };
  const repository = await deps.openRepository(installation, owner, name, { retry });
  const snapshot = await repository.snapshot(deployment.ref, deployment.commitSha);
  const { commitSha } = snapshot;
  const limit = deps.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES;
  if (snapshot.totalBytes !== undefined && snapshot.totalBytes > limit) {
    throw tooLarge(`${deployment.repository}@${commitSha.slice(0, 7)}`, snapshot.totalBytes, limit);
  }

  // The archive streams into S3 while detection reads the files it needs: neither waits for the other.
  const staging = stageSource(deployment.id, snapshot, deps, budget);
  try {
    const requestedRoot = deployment.rootDirectoryRequested ? deployment.rootDirectory : undefined;
    const plan = await snapshot.detect(requestedRoot);
    const projectName = deps.buildProjects[plan.builder];
    if (!projectName) {
      throw new PermanentError(
        "BUILDER_UNAVAILABLE",
        `${deployment.repository} needs the ${plan.builder} builder, which this Slipway stack does not have.`,
      );
    }
    if (deployment.buildRequestedAt) {
      const existing = await deps.builds.findExisting(projectName, deployment.id);
      if (existing) return existing;
    }
    const sourceLocation = await staging.location;
    const request = { projectName, sourceLocation, environment: buildEnvironment(deployment, commitSha, plan) };
    // A slot, and the plan recorded with `buildRequestedAt` in one write conditional on PROCESSING (a deployment
    // canceled while being inspected gets no build); or a queue.
    const claim = await deps.buildGate.claim(deployment, request, {
      commitSha,
      framework: plan.framework ?? undefined,
      builder: plan.builder,
      rootDirectory: plan.rootDirectory,
    });
    if (claim.result !== "start") return claim;
    return await deps.builds.start({ ...request, deploymentId: deployment.id });
  } finally {
    await staging.settle();
  }
}

/**
 * Downloads the commit's archive into S3, once more if the download broke off and time allows. `settle()` stops an
 * upload nobody needs any more (detection failed, or a build already exists) and waits for it to end.
 */
function stageSource(
  deploymentId: string,
  snapshot: RepositorySnapshot,
  deps: InspectorDependencies,
  budget: InspectionBudget,
): { location: Promise<string>; settle(): Promise<void> } {
  const abort = new AbortController();
  const location = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        const download = await snapshot.downloadArchive();
        return await deps.sources.stage(deploymentId, download.body, { abortSignal: abort.signal });
      } catch (error) {
        const broken = isTransientError(error) && error.code === "SOURCE_DOWNLOAD_INCOMPLETE";
        if (!broken || attempt >= DOWNLOAD_ATTEMPTS || abort.signal.aborted || budget.now() >= budget.deadline) {
          throw error;
        }
      }
    }
  })();
  location.catch(() => undefined); // observed by the caller, or abandoned by settle()
  return {
    location,
    async settle() {
      abort.abort();
      await location.catch(() => undefined);
    },
  };
}

/** The variables a build receives: plain data only (the buildspec passes them to Docker as quoted build args). */
export function buildEnvironment(deployment: Deployment, commitSha: string, plan: BuildPlan): Record<string, string> {
  const runtimeVersion = plan.version ? Object.values(plan.version).find((v) => v !== undefined) : undefined;
  const hints: Record<string, string | undefined> = {
    BUILD_COMMAND: plan.buildCommand,
    START_COMMAND: plan.startCommand,
    PACKAGE_MANAGER: plan.packageManager,
    RUNTIME_VERSION: runtimeVersion,
  };
  const environment: Record<string, string> = {
    COMMIT_SHA: commitSha,
    REPOSITORY: deployment.repository,
    ROOT_DIRECTORY: plan.rootDirectory,
  };
  if (plan.framework) environment.FRAMEWORK = plan.framework;
  for (const [key, value] of Object.entries(hints)) {
    if (value !== undefined && isPlainHint(value)) environment[key] = value;
  }
  return environment;
}

/** Printable, single-line and short: anything else is dropped rather than handed to a build. */
function isPlainHint(value: string): boolean {
  return value.length > 0 && value.length <= 500 && /^[\x20-\x7e]+$/.test(value);
}

function splitRepository(repository: string): [string, string] {
  const [owner, name] = repository.split("/");
  if (!owner || !name) throw new PermanentError("INVALID_REPOSITORY", `"${repository}" is not owner/name.`);
  return [owner, name];
}

/** A permanent error as the deployment records it: code and message, and the candidate folders when detection had any. */
export function statusReasonOf(error: PermanentError): StatusReason {
  const candidates = (candidatesOf(error) ?? []).map((candidate) => ({
    rootDirectory: candidate.rootDirectory,
    ...(candidate.framework ? { framework: candidate.framework } : {}),
  }));
  return { code: error.code, message: error.message, ...(candidates.length > 0 ? { candidates } : {}) };
}
