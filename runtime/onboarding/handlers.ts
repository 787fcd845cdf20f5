import { createDocumentClient, createSecretsManagerClient, readSecretString } from "../aws";
import { InstallationStore } from "../deployments/installationStore";
import { DeploymentStore } from "../deployments/deploymentStore";
import { readEnvironment } from "../environment";
import { createInstallationRepositories } from "../github/installationRepositories";
import { createInstallationTokens } from "../github/installationTokens";
import { errorResponse, type ApiEvent, type ApiResult } from "../http";
import { createLogger } from "../log";
import { createGitHubUserClient } from "./githubUserClient";
import {
  linkInstallation,
  listInstallations,
  startInstall,
  unlinkInstallation,
  type InstallationRouteDependencies,
} from "./installationRoutes";
import { OnboardingStore } from "./onboardingStore";
import { deleteProject, getProject, listProjects, putProject, type ProjectRouteDependencies } from "./projectRoutes";
import { ProjectStore } from "./projectStore";
import { listRepositories } from "./repositoryRoutes";
import { handleWebhook, type WebhookRequest } from "./webhooks/handleWebhook";
import { createSupersede } from "./webhooks/supersedeDeployment";

/*
 * The onboarding functions' Lambda handlers. As in runtime/api/handlers.ts: environment and clients are read in the
 * factory (once per container), secrets from Secrets Manager on first use, and each handler is one call.
 */

type Route<D> = (event: ApiEvent, deps: D) => Promise<ApiResult>;

/** One function serves a few routes of one resource; API Gateway has already matched the route key. */
function routeBy<D>(routes: Readonly<Record<string, Route<D>>>, deps: D) {
  return (event: ApiEvent): Promise<ApiResult> => {
    const route = routes[event.routeKey];
    return route
      ? route(event, deps)
      : Promise.resolve(errorResponse(404, "ROUTE_NOT_FOUND", `${event.routeKey} is not served here.`));
  };
}

/** Caches a secret's text for the container's life; a failed read is retried on the next call. */
function secretLoader(load: () => Promise<string>) {
  let value: Promise<string> | undefined;
  return () =>
    (value ??= load().catch((error: unknown) => {
      value = undefined;
      throw error;
    }));
}

/** GET /github/install, GET /github/installations, DELETE /github/installations/{id} */
export function createInstallationsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["installationsTable", "onboardingTable", "githubAppInstallUrl"], env);
  const client = createDocumentClient(settings);
  const deps: InstallationRouteDependencies = {
    installations: new InstallationStore({ client, table: settings.installationsTable }),
    onboarding: new OnboardingStore({ client, table: settings.onboardingTable }),
    installUrl: settings.githubAppInstallUrl,
    logger: createLogger(),
  };
  return routeBy<InstallationRouteDependencies>(
    {
      "GET /github/install": startInstall,
      "GET /github/installations": listInstallations,
      "DELETE /github/installations/{id}": unlinkInstallation,
    },
    deps,
  );
}

/** POST /github/installations */
export function createLinkInstallationHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(
    ["installationsTable", "onboardingTable", "githubAppClientId", "githubAppClientSecretArn"],
    env,
  );
  const client = createDocumentClient(settings);
  const secrets = createSecretsManagerClient(settings);
  const deps: InstallationRouteDependencies = {
    installations: new InstallationStore({ client, table: settings.installationsTable }),
    onboarding: new OnboardingStore({ client, table: settings.onboardingTable }),
    github: createGitHubUserClient({
      clientId: settings.githubAppClientId,
      loadClientSecret: secretLoader(() => readSecretString(secrets, settings.githubAppClientSecretArn)),
      ...(settings.githubApiUrl ? { baseUrl: settings.githubApiUrl } : {}),
    }),
    logger: createLogger(),
  };
  return (event: ApiEvent): Promise<ApiResult> => linkInstallation(event, deps);
}

/** GET /repositories: GitHub is asked with installation tokens the App's key mints (cached per container). */
export function createRepositoriesHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["installationsTable", "githubAppId", "githubAppPrivateKeyArn"], env);
  const client = createDocumentClient(settings);
  const secrets = createSecretsManagerClient(settings);
  const tokens = createInstallationTokens({
    appId: settings.githubAppId,
    loadPrivateKey: () => readSecretString(secrets, settings.githubAppPrivateKeyArn),
    baseUrl: settings.githubApiUrl,
    installUrl: settings.githubAppInstallUrl,
    // An API request has 10 s: no long rate-limit waits here, the client retries.
    retry: { attempts: 2, maxRateLimitWaitMs: 2_000 },
  });
  const deps = {
    installations: new InstallationStore({ client, table: settings.installationsTable }),
    github: createInstallationRepositories({
      tokens,
      baseUrl: settings.githubApiUrl,
      retry: { attempts: 2, maxRateLimitWaitMs: 2_000 },
    }),
    logger: createLogger(),
  };
  return (event: ApiEvent): Promise<ApiResult> => listRepositories(event, deps);
}

/** PUT/GET/DELETE /projects/{owner}/{name}, GET /projects */
export function createProjectsHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(["installationsTable", "projectsTable"], env);
  const client = createDocumentClient(settings);
  const deps: ProjectRouteDependencies = {
    projects: new ProjectStore({ client, table: settings.projectsTable }),
    installations: new InstallationStore({ client, table: settings.installationsTable }),
    logger: createLogger(),
  };
  return routeBy<ProjectRouteDependencies>(
    {
      "PUT /projects/{owner}/{name}": putProject,
      "GET /projects/{owner}/{name}": getProject,
      "DELETE /projects/{owner}/{name}": deleteProject,
      "GET /projects": listProjects,
    },
    deps,
  );
}

/** POST /github/webhooks (no JWT: GitHub signs the body) */
export function createWebhooksHandler(env: NodeJS.ProcessEnv = process.env) {
  const settings = readEnvironment(
    ["installationsTable", "onboardingTable", "projectsTable", "deploymentsTable", "githubWebhookSecretArn"],
    env,
  );
  const client = createDocumentClient(settings);
  const secrets = createSecretsManagerClient(settings);
  const deployments = new DeploymentStore({ client, deploymentsTable: settings.deploymentsTable });
  const deps = {
    loadSecret: secretLoader(() => readSecretString(secrets, settings.githubWebhookSecretArn)),
    onboarding: new OnboardingStore({ client, table: settings.onboardingTable }),
    installations: new InstallationStore({ client, table: settings.installationsTable }),
    push: {
      projects: new ProjectStore({ client, table: settings.projectsTable }),
      deployments,
      supersede: createSupersede(deployments),
    },
    logger: createLogger(),
  };
  return (event: WebhookRequest): Promise<ApiResult> => handleWebhook(event, deps);
}
