/**
 * The environment variables components hand to functions, named once. Components build `environment.variables`
 * from these names; functions read them with `readEnvironment`, the only place the runtime touches `process.env`.
 * Only names, ARNs and ids travel this way: secrets stay in Secrets Manager.
 */
export const ENV = {
  deploymentsTable: "DEPLOYMENTS_TABLE",
  installationsTable: "INSTALLATIONS_TABLE",
  idempotencyTable: "IDEMPOTENCY_TABLE",
  rateLimitsTable: "RATE_LIMITS_TABLE",
  /** A whole number ≥ 1: deployments one user may start per minute. */
  deploymentsPerUserPerMinute: "DEPLOYMENTS_PER_USER_PER_MINUTE",
  githubAppId: "GITHUB_APP_ID",
  githubAppPrivateKeyArn: "GITHUB_APP_PRIVATE_KEY_ARN",
  githubApiUrl: "GITHUB_API_URL",
  githubAppInstallUrl: "GITHUB_APP_INSTALL_URL",
  onboardingTable: "ONBOARDING_TABLE",
  projectsTable: "PROJECTS_TABLE",
  /** The App's OAuth client id (public: it appears in GitHub's authorize URLs). */
  githubAppClientId: "GITHUB_APP_CLIENT_ID",
  githubAppClientSecretArn: "GITHUB_APP_CLIENT_SECRET_ARN",
  githubWebhookSecretArn: "GITHUB_WEBHOOK_SECRET_ARN",
  sourceBucket: "SOURCE_BUCKET",
  /** JSON object: builder id → CodeBuild project name. */
  buildProjects: "BUILD_PROJECTS",
  buildSlotsTable: "BUILD_SLOTS_TABLE",
  /** How many builds one user may have running at once (a whole number ≥ 1). */
  maxBuildsPerUser: "MAX_BUILDS_PER_USER",
  /** The ECR repository's URL (`<registry>/<name>`), where builds push the image tagged with the deployment id. */
  imageRepositoryUrl: "IMAGE_REPOSITORY_URL",
  /** JSON object: CodeBuild project name → its CloudWatch Logs group. */
  buildLogGroups: "BUILD_LOG_GROUPS",
  /** Minutes without news after which the reconciler checks a BUILDING deployment against CodeBuild. */
  staleBuildMinutes: "STALE_BUILD_MINUTES",
  /** Optional endpoint overrides (local platform and tests); unset in AWS. */
  dynamodbEndpoint: "SLIPWAY_DYNAMODB_ENDPOINT",
  secretsManagerEndpoint: "SLIPWAY_SECRETSMANAGER_ENDPOINT",
  codebuildEndpoint: "SLIPWAY_CODEBUILD_ENDPOINT",
  s3Endpoint: "SLIPWAY_S3_ENDPOINT",
  /**
   * Local platform only (unset in AWS): multiplies the waits GitHub asks for, so the local fault tests can meet a
   * 60-second secondary rate limit without waiting a minute. Decisions are the same at any scale.
   */
  githubWaitScale: "SLIPWAY_GITHUB_WAIT_SCALE",
  ecrEndpoint: "SLIPWAY_ECR_ENDPOINT",
  logsEndpoint: "SLIPWAY_LOGS_ENDPOINT",
} as const;

export type EnvName = keyof typeof ENV;

/** Reads the named variables; a missing one is a deployment mistake, reported by name. */
export function readEnvironment<K extends EnvName>(
  required: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Record<K, string> & Partial<Record<EnvName, string>> {
  const values: Partial<Record<EnvName, string>> = {};
  for (const key of Object.keys(ENV) as EnvName[]) {
    const value = env[ENV[key]];
    if (value !== undefined && value !== "") values[key] = value;
  }
  const missing = required.filter((key) => values[key] === undefined).map((key) => ENV[key]);
  if (missing.length > 0) {
    throw new Error(`Missing environment variable(s) ${missing.join(", ")}: the stack sets these on the function.`);
  }
  return values as Record<K, string> & Partial<Record<EnvName, string>>;
}
