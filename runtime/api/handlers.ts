import { createCloudWatchLogsClient, createCodeBuildClient, createDocumentClient } from "../aws";
import { DeploymentStore } from "../deployments/deploymentStore";
import { readEnvironment } from "../environment";
import type { ApiEvent, ApiResult } from "../http";
import { parseStringMap } from "../build/stringMap";
import { createBuildLogReader } from "../lifecycle/buildLogs";
import { createCodeBuildBuilds } from "../lifecycle/codeBuildBuilds";
import { createLogger } from "../log";
import { cancelDeployment } from "./cancelDeployment";
import { deploymentLogs } from "./deploymentLogs";
import { createDeployment } from "./createDeployment";
import { getDeployment } from "./getDeployment";
import { listDeployments } from "./listDeployments";

/*
 * The API's Lambda handlers, one per route. Pulumi's `callbackFactory` runs each factory once per container: the
 * environment is read and the client built there (never at module level, which the closure serializer would capture),
 * and the handler it returns is one call into a tested function.
 */

/** What every API handler works with: the deployments store (with idempotency records when given) and a logger. */
function apiDependencies(
  settings: { deploymentsTable: string; idempotencyTable?: string } & Parameters<typeof createDocumentClient>[0],
) {
  return {
    deployments: new DeploymentStore({
      client: createDocumentClient(settings),
      deploymentsTable: settings.deploymentsTable,
      ...(settings.idempotencyTable ? { idempotencyTable: settings.idempotencyTable } : {}),
    }),
    logger: createLogger(),
  };
}

/** POST /deployments */
export function createDeployHandler(env: NodeJS.ProcessEnv = process.env) {
  const deps = apiDependencies(readEnvironment(["deploymentsTable", "idempotencyTable"], env));
  return (event: ApiEvent): Promise<ApiResult> => createDeployment(event, deps);
}

/** GET /deployments/{id} */
export function createGetDeploymentHandler(env: NodeJS.ProcessEnv = process.env) {
  const deps = apiDependencies(readEnvironment(["deploymentsTable"], env));
  return (event: ApiEvent): Promise<ApiResult> => getDeployment(event, deps);
}

/** GET /deployments */
export function createListDeploymentsHandler(env: NodeJS.ProcessEnv = process.env) {
  const deps = apiDependencies(readEnvironment(["deploymentsTable"], env));
  return (event: ApiEvent): Promise<ApiResult> => listDeployments(event, deps);
}

/** POST /deployments/{id}/cancel */
export function createCancelDeploymentHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable"], env);
  const deps = { ...apiDependencies(settings), builds: createCodeBuildBuilds(createCodeBuildClient(settings)) };
  return (event: ApiEvent): Promise<ApiResult> => cancelDeployment(event, deps);
}

/** GET /deployments/{id}/logs */
export function createDeploymentLogsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable", "buildLogGroups"], env);
  const deps = {
    ...apiDependencies(settings),
    logs: createBuildLogReader(createCloudWatchLogsClient(settings)),
    logGroups: parseStringMap("BUILD_LOG_GROUPS", settings.buildLogGroups),
  };
  return (event: ApiEvent): Promise<ApiResult> => deploymentLogs(event, deps);
}
