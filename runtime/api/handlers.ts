import {
  createCloudWatchLogsClient,
  createCodeBuildClient,
  createDocumentClient,
  createInvocationBudget,
  type InvocationBudget,
} from "../aws";
import { DeploymentStore } from "../deployments/deploymentStore";
import { createRateLimiter } from "../deployments/rateLimiter";
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
 * and the handler it returns is one call into a tested function. Each handler first tells the client's retries how
 * long the invocation has left (Lambda's context), so a DynamoDB hiccup is retried within it and no longer.
 */

/** What Lambda passes a handler besides the event; absent when a test calls the handler directly. */
type LambdaContext = { getRemainingTimeInMillis?: () => number } | undefined;

/** What the read routes work with: the deployments store and a logger. */
function apiDependencies(
  settings: { deploymentsTable: string } & Parameters<typeof createDocumentClient>[0],
  budget: InvocationBudget,
) {
  return {
    deployments: new DeploymentStore({
      client: createDocumentClient(settings, {}, budget),
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
  const budget = createInvocationBudget();
  const client = createDocumentClient(settings, {}, budget);
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
  return (event: ApiEvent, context?: LambdaContext): Promise<ApiResult> => {
    budget.begin(context);
    return createDeployment(event, deps);
  };
}

/** GET /deployments/{id} */
export function createGetDeploymentHandler(env: NodeJS.ProcessEnv = process.env) {
  const budget = createInvocationBudget();
  const deps = apiDependencies(readEnvironment(["deploymentsTable"], env), budget);
  return (event: ApiEvent, context?: LambdaContext): Promise<ApiResult> => {
    budget.begin(context);
    return getDeployment(event, deps);
  };
}

/** GET /deployments */
export function createListDeploymentsHandler(env: NodeJS.ProcessEnv = process.env) {
  const budget = createInvocationBudget();
  const deps = apiDependencies(readEnvironment(["deploymentsTable"], env), budget);
  return (event: ApiEvent, context?: LambdaContext): Promise<ApiResult> => {
    budget.begin(context);
    return listDeployments(event, deps);
  };
}

/** POST /deployments/{id}/cancel */
export function createCancelDeploymentHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable"], env);
  const budget = createInvocationBudget();
  const deps = {
    ...apiDependencies(settings, budget),
    builds: createCodeBuildBuilds(createCodeBuildClient(settings, budget)),
  };
  return (event: ApiEvent, context?: LambdaContext): Promise<ApiResult> => {
    budget.begin(context);
    return cancelDeployment(event, deps);
  };
}

/** GET /deployments/{id}/logs */
export function createDeploymentLogsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["deploymentsTable", "buildLogGroups"], env);
  const budget = createInvocationBudget();
  const deps = {
    ...apiDependencies(settings, budget),
    logs: createBuildLogReader(createCloudWatchLogsClient(settings, budget)),
    logGroups: parseStringMap("BUILD_LOG_GROUPS", settings.buildLogGroups),
  };
  return (event: ApiEvent, context?: LambdaContext): Promise<ApiResult> => {
    budget.begin(context);
    return deploymentLogs(event, deps);
  };
}
