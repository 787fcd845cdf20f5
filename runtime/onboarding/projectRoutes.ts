import { randomUUID as systemRandomUUID } from "node:crypto";
import type { PublicProject } from "../api/apiShapes";
import { isRepositoryName } from "../api/repositoryName";
import { brokenRefRule } from "../api/gitRefName";
import { normaliseRootDirectory } from "../api/rootDirectory";
import type { Installation } from "../deployment";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { handleApiRequest, jsonResponse, type ApiEvent, type ApiResult } from "../http";
import type { Logger } from "../log";
import type { Project, ProjectStore } from "./projectStore";
import { readJsonObject } from "./readJsonObject";

export interface ProjectRouteDependencies {
  readonly projects: Pick<ProjectStore, "get" | "put" | "delete" | "listForUser">;
  readonly installations: { listForUser(userId: string): Promise<Installation[]> };
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly randomUUID?: () => string;
}

/** What the API shows of a project (the key's lowercased repository is internal). */
export function toPublicProject(project: Project, repository = project.repository): PublicProject {
  return {
    id: project.id,
    repository,
    branch: project.branch ?? null,
    rootDirectory: project.rootDirectory ?? "",
    autoDeploy: project.autoDeploy,
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

function repositoryFrom(event: ApiEvent): string {
  const repository = `${event.pathParameters?.owner ?? ""}/${event.pathParameters?.name ?? ""}`;
  if (!isRepositoryName(repository)) {
    throw new ValidationError(
      "repository",
      "the path must be /projects/{owner}/{name} with a GitHub repository's owner and name",
    );
  }
  return repository;
}

const PROJECT_EXAMPLE = '{"branch": "main", "rootDirectory": "apps/web", "autoDeploy": true}';

/**
 * PUT /projects/{owner}/{name}: creates or updates the caller's project on a repository. The caller must have linked
 * a live installation on the repository's owner, or pushes could never deploy it.
 */
export function putProject(event: ApiEvent, deps: ProjectRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const repository = repositoryFrom(event);
    const body = readJsonObject(
      event.body,
      event.isBase64Encoded,
      ["branch", "rootDirectory", "autoDeploy"],
      PROJECT_EXAMPLE,
    );
    if (typeof body.autoDeploy !== "boolean") {
      throw new ValidationError(
        "autoDeploy",
        "autoDeploy is required: true deploys every push to the branch, false none",
      );
    }
    let branch: string | undefined;
    if (body.branch !== undefined) {
      const broken = typeof body.branch === "string" ? brokenRefRule(body.branch) : "is not a string";
      if (broken !== undefined)
        throw new ValidationError("branch", `branch must be a branch name like main; this one ${broken}`);
      branch = body.branch as string;
    }
    if (body.rootDirectory !== undefined && typeof body.rootDirectory !== "string") {
      throw new ValidationError(
        "rootDirectory",
        "rootDirectory must be a folder relative to the repository root, e.g. apps/web",
      );
    }
    const rootDirectory =
      typeof body.rootDirectory === "string" ? normaliseRootDirectory(body.rootDirectory) : undefined;
    const owner = repository.split("/")[0]!.toLowerCase();
    const links = await deps.installations.listForUser(userId);
    if (!links.some((link) => link.accountLogin?.toLowerCase() === owner && !link.deletedAt)) {
      throw new ConflictError(
        "INSTALLATION_REQUIRED",
        `Link a Slipway GitHub App installation on ${repository.split("/")[0]} first (GET /github/install), then create the project.`,
      );
    }
    const existing = await deps.projects.get(repository, userId);
    const now = (deps.clock ?? (() => new Date()))().toISOString();
    const project: Project = {
      id: existing?.id ?? (deps.randomUUID ?? systemRandomUUID)(),
      repository: repository.toLowerCase(),
      userId,
      ...(branch !== undefined ? { branch } : {}),
      ...(rootDirectory ? { rootDirectory } : {}),
      autoDeploy: body.autoDeploy,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      ...(existing?.lastPushDeploymentId ? { lastPushDeploymentId: existing.lastPushDeploymentId } : {}),
    };
    await deps.projects.put(project);
    deps.logger.info(existing ? "project updated" : "project created", { userId, projectId: project.id });
    return jsonResponse(existing ? 200 : 201, toPublicProject(project, repository), {
      location: `/projects/${repository}`,
    });
  });
}

/** GET /projects/{owner}/{name} */
export function getProject(event: ApiEvent, deps: ProjectRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const repository = repositoryFrom(event);
    const project = await deps.projects.get(repository, userId);
    if (!project)
      throw new NotFoundError("PROJECT_NOT_FOUND", `You have no project on ${repository}; create it with PUT.`);
    return jsonResponse(200, toPublicProject(project));
  });
}

/** DELETE /projects/{owner}/{name}: pushes stop deploying; past deployments stay. */
export function deleteProject(event: ApiEvent, deps: ProjectRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const repository = repositoryFrom(event);
    const removed = await deps.projects.delete(repository, userId);
    if (!removed) throw new NotFoundError("PROJECT_NOT_FOUND", `You have no project on ${repository}.`);
    return { statusCode: 204, headers: { "cache-control": "no-store" } };
  });
}

/** GET /projects: the caller's projects. */
export function listProjects(event: ApiEvent, deps: ProjectRouteDependencies): Promise<ApiResult> {
  return handleApiRequest(event, deps.logger, async (userId) => {
    const projects = await deps.projects.listForUser(userId);
    return jsonResponse(200, { projects: projects.map((project) => toPublicProject(project)) });
  });
}
