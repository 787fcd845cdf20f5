import * as pulumi from "@pulumi/pulumi";
import { BuildLifecycle } from "./components/buildLifecycle";
import { BuildProjects } from "./components/buildProjects";
import { Dashboard } from "./components/dashboard";
import { DeploymentApi } from "./components/deploymentApi";
import { DeploymentTable } from "./components/deploymentTable";
import { GitHubAppKey } from "./components/githubAppKey";
import { GitHubOnboarding } from "./components/githubOnboarding";
import { loadOnboardingConfig } from "./components/onboardingConfig";
import { RepoInspector } from "./components/repoInspector";
import { loadStackConfig } from "./components/stackConfig";

// Slipway: POST /deployments → deployments table → (stream) repo inspector → CodeBuild → (events) build lifecycle.
const config = loadStackConfig(new pulumi.Config());

const tables = new DeploymentTable("slipway", {
  deletionProtection: config.deletionProtection,
  pointInTimeRecovery: config.pointInTimeRecovery,
});

const builds = new BuildProjects("slipway", {
  logRetentionDays: config.logRetentionDays,
  sourceRetentionDays: config.sourceRetentionDays,
  computeType: config.buildComputeType,
  buildTimeoutMinutes: config.buildTimeoutMinutes,
  forceDestroy: config.forceDestroy,
});

const githubAppKey = new GitHubAppKey("slipway-github-app-key", {
  privateKey: config.githubAppPrivateKey,
  existingSecretArn: config.githubAppPrivateKeySecretArn,
});

const inspector = new RepoInspector("slipway", {
  deploymentsTable: tables.deployments,
  installationsTable: tables.installations,
  githubAppId: config.githubAppId,
  githubAppPrivateKeySecretArn: githubAppKey.secretArn,
  githubAppPrivateKeyKmsKeyArn: config.githubAppPrivateKeyKmsKeyArn,
  githubApiUrl: config.githubApiUrl,
  githubAppInstallUrl: config.githubAppInstallUrl,
  sourceBucket: builds.sourceBucket,
  buildProjectNames: builds.projectNames,
  buildProjectArns: builds.projectArns,
  buildSlotsTable: tables.buildSlots,
  queuedIndexArn: tables.queuedIndexArn,
  maxBuildsPerUser: config.maxConcurrentBuildsPerUser,
  logRetentionDays: config.logRetentionDays,
});

const lifecycle = new BuildLifecycle("slipway", {
  deploymentsTable: tables.deployments,
  buildSlotsTable: tables.buildSlots,
  activeIndexArn: tables.activeIndexArn,
  queuedIndexArn: tables.queuedIndexArn,
  buildProjectNames: builds.projectNames,
  buildProjectArns: builds.projectArns,
  imageRepository: builds.imageRepository,
  maxBuildsPerUser: config.maxConcurrentBuildsPerUser,
  reconcileIntervalMinutes: config.reconcileIntervalMinutes,
  staleBuildMinutes: config.reconcileAfterMinutes,
  logRetentionDays: config.logRetentionDays,
});

// The dashboard's config.json needs the API's URL and the API's CORS needs the dashboard's: the URL is deferred.
const [deferredApiUrl, resolveApiUrl] = pulumi.deferredOutput<string>();
const dashboard = config.dashboard
  ? new Dashboard("slipway", {
      apiUrl: deferredApiUrl,
      issuer: config.jwtIssuer,
      clientId: config.jwtAudience[0]!,
      forceDestroy: config.forceDestroy,
    })
  : undefined;

const api = new DeploymentApi("slipway", {
  deploymentsTable: tables.deployments,
  idempotencyTable: tables.idempotency,
  rateLimitsTable: tables.rateLimits,
  deploymentsPerUserPerMinute: config.deploymentsPerUserPerMinute,
  byUserIndexArn: tables.byUserIndexArn,
  jwtIssuer: config.jwtIssuer,
  jwtAudience: config.jwtAudience,
  corsAllowOrigins: dashboard ? [...config.corsAllowOrigins, dashboard.url] : config.corsAllowOrigins,
  throttlingRateLimit: config.throttlingRateLimit,
  throttlingBurstLimit: config.throttlingBurstLimit,
  logRetentionDays: config.logRetentionDays,
  buildProjectNames: builds.projectNames,
  buildProjectArns: builds.projectArns,
  buildLogGroupNames: builds.logGroupNames,
  buildLogGroupArns: builds.logGroupArns,
});

resolveApiUrl(api.url);

// The install flow, projects and webhooks, when their config is set (README, "Deploying a stack").
const onboardingConfig = loadOnboardingConfig(new pulumi.Config());
const onboarding = onboardingConfig
  ? new GitHubOnboarding("slipway", {
      ...onboardingConfig,
      api: api.api,
      authorizer: api.authorizer,
      deploymentsTable: tables.deployments,
      installationsTable: tables.installations,
      byInstallationIndexArn: tables.byInstallationIndexArn,
      githubAppId: config.githubAppId,
      githubAppPrivateKeySecretArn: githubAppKey.secretArn,
      githubAppPrivateKeyKmsKeyArn: config.githubAppPrivateKeyKmsKeyArn,
      githubApiUrl: config.githubApiUrl,
      deletionProtection: config.deletionProtection,
      pointInTimeRecovery: config.pointInTimeRecovery,
      logRetentionDays: config.logRetentionDays,
    })
  : undefined;

export const apiUrl = api.url;
export const dashboardUrl = dashboard?.url;
export const deploymentsTableName = tables.deployments.name;
export const installationsTableName = tables.installations.name;
export const idempotencyTableName = tables.idempotency.name;
export const rateLimitsTableName = tables.rateLimits.name;
export const sourceBucketName = builds.sourceBucket.bucket;
export const imageRepositoryUrl = builds.imageRepository.repositoryUrl;
export const buildProjectNames = builds.projectNames;
export const githubAppPrivateKeySecretArn = githubAppKey.secretArn;
export const failureQueueUrl = inspector.failureQueue.url;
export const buildSlotsTableName = tables.buildSlots.name;
export const buildEventsDeadLetterQueueUrl = lifecycle.deadLetterQueue.url;
/** What to enter as the App's webhook URL. */
// (String(): the function-archive build runs the program with no API URL at all.)
export const webhookUrl = onboarding
  ? api.url.apply((url) => `${String(url).replace(/\/$/, "")}/github/webhooks`)
  : undefined;
export const projectsTableName = onboarding?.projectsTable.name;
