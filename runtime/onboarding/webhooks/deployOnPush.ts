import { randomUUID } from "node:crypto";
import type { Deployment, StatusReason } from "../../deployment";
import type { DeploymentStore } from "../../deployments/deploymentStore";
import type { Logger } from "../../log";
import type { ProjectStore } from "../projectStore";

/** The fields of a `push` payload Slipway reads (GitHub webhook docs, "push"). */
export interface PushPayload {
  readonly ref: string;
  readonly after: string;
  readonly deleted?: boolean;
  readonly repository: { readonly full_name: string; readonly default_branch?: string };
}

export interface DeployOnPushDependencies {
  readonly projects: Pick<ProjectStore, "listForRepository" | "recordPush">;
  readonly deployments: Pick<DeploymentStore, "create">;
  /** Cancels a deployment whose build does not exist yet, with the reason (supersedeDeployment.ts); true when it did. */
  readonly supersede: (id: string, reason: StatusReason) => Promise<boolean>;
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly randomUUID?: () => string;
}

const BRANCH_PREFIX = "refs/heads/";
const ZERO_SHA = /^0{40}$/;

/**
 * A push to a project's branch deploys that exact commit for the project's owner (`trigger: "push"`). Branch
 * deletions, tags and other branches deploy nothing. The push's deployment supersedes the project's previous push
 * deployment if that one's build does not exist yet (PENDING, PROCESSING or QUEUED): it ends CANCELED with
 * `SUPERSEDED`, so a burst of pushes builds only the newest commit. Returns the deployments created.
 */
export async function deployOnPush(payload: PushPayload, deps: DeployOnPushDependencies): Promise<Deployment[]> {
  if (payload.deleted || ZERO_SHA.test(payload.after) || !payload.ref.startsWith(BRANCH_PREFIX)) return [];
  const branch = payload.ref.slice(BRANCH_PREFIX.length);
  const repository = payload.repository.full_name;
  const projects = (await deps.projects.listForRepository(repository)).filter(
    (project) => project.autoDeploy && (project.branch ?? payload.repository.default_branch) === branch,
  );
  const created: Deployment[] = [];
  for (const project of projects) {
    const now = (deps.clock ?? (() => new Date()))().toISOString();
    const deployment: Deployment = {
      id: (deps.randomUUID ?? randomUUID)(),
      userId: project.userId,
      repository,
      ref: branch,
      commitSha: payload.after,
      ...(project.rootDirectory ? { rootDirectory: project.rootDirectory, rootDirectoryRequested: true } : {}),
      status: "PENDING",
      trigger: "push",
      projectId: project.id,
      createdAt: now,
      updatedAt: now,
    };
    const { deployment: stored } = await deps.deployments.create(deployment);
    created.push(stored);
    const previous = await deps.projects.recordPush(project, stored.id);
    if (previous && previous !== stored.id) {
      // Conditional on PENDING/PROCESSING/QUEUED: one already BUILDING keeps going.
      const skipped = await deps.supersede(previous, {
        code: "SUPERSEDED",
        message: `A newer push to ${branch}, commit ${payload.after}, replaced this one before its build started; that deployment is ${stored.id}.`,
      });
      if (skipped) deps.logger.info("push deployment superseded", { deploymentId: previous, by: stored.id });
    }
    deps.logger.info("push deployment created", { deploymentId: stored.id, projectId: project.id, repository });
  }
  return created;
}
