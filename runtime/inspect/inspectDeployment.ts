import type { Builder } from "../builders";
import type { Deployment, Installation, StatusReason } from "../deployment";
import { describeError, isPermanentError, PermanentError } from "../errors";
import type { Logger } from "../log";
import type { DeploymentStatus } from "../schema";
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

/** The repository as the inspector sees it, opened with an installation token it never sees. */
export interface RepositorySession {
  resolveCommit(ref: string | undefined): Promise<string>;
  detect(commitSha: string, rootDirectory: string | undefined): Promise<BuildPlan>;
  downloadArchive(commitSha: string): Promise<Uint8Array>;
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
  readonly installations: { listForUser(userId: string): Promise<Installation[]> };
  /** Mints a token for the installation and opens the repository with it. */
  openRepository(installation: Installation, owner: string, name: string): Promise<RepositorySession>;
  readonly sources: { stage(deploymentId: string, archive: Uint8Array): Promise<string> };
  readonly builds: {
    start(request: {
      projectName: string;
      deploymentId: string;
      sourceLocation: string;
      environment: Readonly<Record<string, string>>;
    }): Promise<string>;
    findExisting(projectName: string, deploymentId: string): Promise<string | undefined>;
  };
  /** Builder → CodeBuild project name. */
  readonly buildProjects: Readonly<Partial<Record<Builder, string>>>;
  /** Where a user installs the GitHub App, for the message when they have not. */
  readonly installUrl?: string;
  readonly clock?: () => Date;
  readonly logger: Logger;
}

/** What happened to one deployment in one invocation. */
export type InspectionOutcome =
  | { readonly result: "building"; readonly buildId: string }
  | { readonly result: "failed"; readonly reason: StatusReason }
  | { readonly result: "skipped"; readonly status: DeploymentStatus | "MISSING" };

/**
 * Takes one deployment from PENDING (or a PROCESSING left by a crash) to BUILDING, or to FAILED with a reason.
 *
 * Every status move is a conditional write, so a duplicate delivery of the stream record finds the deployment past
 * PENDING/PROCESSING and does nothing. A crash half-way leaves it PROCESSING; the stream redelivers the record and
 * this resumes: each step is idempotent (same SHA, same object key, CodeBuild idempotency token), and a resume that
 * already asked CodeBuild looks for that build before asking again. Permanent errors end FAILED; anything else is
 * rethrown for the stream to retry (after recording it as `lastError` for the give-up path).
 */
export async function inspectDeployment(id: string, deps: InspectorDependencies): Promise<InspectionOutcome> {
  const { deployments, logger } = deps;
  const now = () => (deps.clock ?? (() => new Date()))().toISOString();
  const current = await deployments.get(id, { consistent: true });
  if (!current || (current.status !== "PENDING" && current.status !== "PROCESSING")) {
    logger.info("deployment needs no inspection", { deploymentId: id, status: current?.status ?? "MISSING" });
    return { result: "skipped", status: current?.status ?? "MISSING" };
  }
  const claimed = await deployments.transition(id, "PROCESSING", {}, { incrementAttempts: true });
  if (!claimed)
    return { result: "skipped", status: (await deployments.get(id, { consistent: true }))?.status ?? "MISSING" };
  logger.info("inspecting deployment", {
    deploymentId: id,
    attempt: claimed.attempts ?? 1,
    resumed: current.status === "PROCESSING",
  });

  try {
    const buildId = await runInspection(claimed, deps, now);
    const building = await deployments.transition(id, "BUILDING", { buildId });
    logger.info("deployment building", { deploymentId: id, buildId, moved: building !== undefined });
    return { result: "building", buildId };
  } catch (error) {
    if (isPermanentError(error)) {
      const reason = { code: error.code, message: error.message };
      await deployments.transition(id, "FAILED", { statusReason: reason });
      logger.warn("deployment failed", { deploymentId: id, code: reason.code });
      return { result: "failed", reason };
    }
    const lastError = describeError(error);
    logger.error("inspection failed; the stream will retry", {
      deploymentId: id,
      code: lastError.code,
      error: lastError.message,
    });
    await deployments.update(id, { lastError }, { whenStatus: "PROCESSING" }).catch(() => undefined);
    throw error;
  }
}

async function runInspection(deployment: Deployment, deps: InspectorDependencies, now: () => string): Promise<string> {
  const { deployments } = deps;
  const [owner, name] = splitRepository(deployment.repository);
  const links = await deps.installations.listForUser(deployment.userId);
  const installation = pickInstallation(links, deployment.repository, deps.installUrl);
  const repository = await deps.openRepository(installation, owner, name);

  const commitSha = deployment.commitSha ?? (await repository.resolveCommit(deployment.ref));
  const requestedRoot = deployment.rootDirectoryRequested ? deployment.rootDirectory : undefined;
  const plan = await repository.detect(commitSha, requestedRoot);
  const projectName = deps.buildProjects[plan.builder];
  if (!projectName) {
    throw new PermanentError(
      "BUILDER_UNAVAILABLE",
      `${deployment.repository} needs the ${plan.builder} builder, which this Slipway stack does not have.`,
    );
  }
  const recorded = await deployments.update(
    deployment.id,
    { commitSha, framework: plan.framework ?? undefined, builder: plan.builder, rootDirectory: plan.rootDirectory },
    { whenStatus: "PROCESSING" },
  );
  if (!recorded) throw new Error(`deployment ${deployment.id} left PROCESSING while being inspected`);

  if (deployment.buildRequestedAt) {
    const existing = await deps.builds.findExisting(projectName, deployment.id);
    if (existing) return existing;
  }
  const sourceLocation = await deps.sources.stage(deployment.id, await repository.downloadArchive(commitSha));
  await deployments.update(
    deployment.id,
    { buildRequestedAt: deployment.buildRequestedAt ?? now() },
    { whenStatus: "PROCESSING" },
  );
  return deps.builds.start({
    projectName,
    deploymentId: deployment.id,
    sourceLocation,
    environment: buildEnvironment(deployment, commitSha, plan),
  });
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
