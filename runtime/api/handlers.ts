import { createDocumentClient } from "../aws";
import { DeploymentStore } from "../deployments/deploymentStore";
import { readEnvironment } from "../environment";
import type { ApiEvent, ApiResult } from "../http";
import { createLogger } from "../log";
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
