import { createDocumentClient } from "../aws";
import { DeploymentStore } from "../deployments/deploymentStore";
import { createRateLimiter } from "../deployments/rateLimiter";
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

/** What the read routes work with: the deployments store and a logger. */
function apiDependencies(settings: { deploymentsTable: string } & Parameters<typeof createDocumentClient>[0]) {
  return {
    deployments: new DeploymentStore({
      client: createDocumentClient(settings),
      deploymentsTable: settings.deploymentsTable,
    }),
    logger: createLogger(),
  };
}

/** POST /deployments: with idempotency records and the per-user limit on deployments started per minute. */
export function createDeployHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(
    ["deploymentsTable", "idempotencyTable", "rateLimitsTable", "deploymentsPerUserPerMinute"],
    env,
  );
  const client = createDocumentClient(settings);
  const deps = {
    deployments: new DeploymentStore({
      client,
      deploymentsTable: settings.deploymentsTable,
      idempotencyTable: settings.idempotencyTable,
      rateLimiter: createRateLimiter({
        client,
        table: settings.rateLimitsTable,
        scope: "deployments",
        limit: Number(settings.deploymentsPerUserPerMinute),
      }),
    }),
    logger: createLogger(),
  };
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
