import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { BuildStarter } from "../build/buildStarter";
import type { BuildRequestRecord, Deployment } from "../deployment";
import { DeploymentStore } from "../deployments/deploymentStore";
import { readEnvironment } from "../environment";
import type { Logger } from "../log";
import { claimBuildStart, type BuildQueueDependencies } from "./buildQueue";
import { BuildSlots } from "./buildSlots";

/** `MAX_BUILDS_PER_USER` as the stack sets it: a whole number ≥ 1; anything else is a stack mistake, told at start. */
export function parseMaxBuilds(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`MAX_BUILDS_PER_USER must be a whole number ≥ 1, not "${value}"`);
  return limit;
}

/** What the queue needs, from the environment and shared clients. */
export function buildQueueDependencies(
  settings: Record<"buildSlotsTable" | "maxBuildsPerUser", string> & { deploymentsTable: string },
  clients: { documents: DynamoDBDocumentClient; builds: BuildQueueDependencies["builds"]; logger: Logger },
): BuildQueueDependencies {
  return {
    deployments: new DeploymentStore({ client: clients.documents, deploymentsTable: settings.deploymentsTable }),
    slots: new BuildSlots({ client: clients.documents, table: settings.buildSlotsTable }),
    builds: clients.builds,
    maxBuildsPerUser: parseMaxBuilds(settings.maxBuildsPerUser),
    logger: clients.logger,
  };
}

/** The inspector's gate before StartBuild (see claimBuildStart), built from its environment. */
export function createBuildGate(
  env: NodeJS.ProcessEnv,
  clients: { documents: DynamoDBDocumentClient; builds: BuildStarter; logger: Logger },
): {
  claim(
    deployment: Deployment,
    request: BuildRequestRecord,
    plan?: Partial<Deployment>,
  ): ReturnType<typeof claimBuildStart>;
} {
  const settings = readEnvironment(["deploymentsTable", "buildSlotsTable", "maxBuildsPerUser"], env);
  const deps = buildQueueDependencies(settings, { ...clients, builds: { start: clients.builds.start } });
  return { claim: (deployment, request, plan) => claimBuildStart(deployment, request, deps, plan) };
}
