import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  createInstallationsHandler,
  createLinkInstallationHandler,
  createProjectsHandler,
  createRepositoriesHandler,
  createWebhooksHandler,
} from "../runtime/onboarding/handlers";
import { ENV } from "../runtime/environment";
import { ONBOARDING, PROJECTS } from "../runtime/schema";
import { invokeArnSuffix } from "./deploymentApi";
import { tableDefaults } from "./deploymentTable";
import { LambdaFunction } from "./lambdaFunction";
import {
  installationsFunctionPermissions,
  linkInstallationFunctionPermissions,
  projectsFunctionPermissions,
  repositoriesFunctionPermissions,
  webhooksFunctionPermissions,
  type OnboardingArns,
} from "./policies";

/** A secret given either as its value (stored in a new Secrets Manager secret) or as an existing secret's ARN. */
export interface SecretSource {
  readonly value?: pulumi.Input<string>;
  readonly existingSecretArn?: pulumi.Input<string>;
}

export interface GitHubOnboardingArgs {
  /** The HTTP API (DeploymentApi's) the routes are added to, and its JWT authorizer. */
  readonly api: aws.apigatewayv2.Api;
  readonly authorizer: aws.apigatewayv2.Authorizer;
  readonly deploymentsTable: aws.dynamodb.Table;
  readonly installationsTable: aws.dynamodb.Table;
  /** DeploymentTable's `byInstallationIndexArn`. */
  readonly byInstallationIndexArn: pulumi.Input<string>;
  /** The App's OAuth client id (public). */
  readonly clientId: pulumi.Input<string>;
  /** The App's OAuth client secret. */
  readonly clientSecret: SecretSource;
  /** The App's webhook secret. */
  readonly webhookSecret: SecretSource;
  /** `https://github.com/apps/<slug>/installations/new`. */
  readonly installUrl: pulumi.Input<string>;
  /** The App's numeric id and its private key's secret (GET /repositories mints installation tokens). */
  readonly githubAppId: pulumi.Input<string>;
  readonly githubAppPrivateKeySecretArn: pulumi.Input<string>;
  /** The customer-managed KMS key of that secret, if any. Default none (aws/secretsmanager). */
  readonly githubAppPrivateKeyKmsKeyArn?: pulumi.Input<string>;
  /** GitHub's API root. Default https://api.github.com. */
  readonly githubApiUrl?: pulumi.Input<string>;
  /** Table settings, as DeploymentTable's. Defaults true. */
  readonly deletionProtection?: pulumi.Input<boolean>;
  readonly pointInTimeRecovery?: pulumi.Input<boolean>;
  /** Days function logs are kept. Default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
}

type OnboardingHandler = "installations" | "link" | "projects" | "repositories" | "webhooks";

/** The onboarding routes; the webhook has no JWT (GitHub signs its body instead). */
export const ONBOARDING_ROUTES: readonly { routeKey: string; handler: OnboardingHandler; jwt: boolean }[] = [
  { routeKey: "GET /github/install", handler: "installations", jwt: true },
  { routeKey: "GET /github/installations", handler: "installations", jwt: true },
  { routeKey: "DELETE /github/installations/{id}", handler: "installations", jwt: true },
  { routeKey: "POST /github/installations", handler: "link", jwt: true },
  { routeKey: "PUT /projects/{owner}/{name}", handler: "projects", jwt: true },
  { routeKey: "GET /projects/{owner}/{name}", handler: "projects", jwt: true },
  { routeKey: "DELETE /projects/{owner}/{name}", handler: "projects", jwt: true },
  { routeKey: "GET /projects", handler: "projects", jwt: true },
  { routeKey: "GET /repositories", handler: "repositories", jwt: true },
  { routeKey: "POST /github/webhooks", handler: "webhooks", jwt: false },
];

/** `POST /github/installations` → `post-github-installations`, a resource name per route. */
export const routeResourceName = (routeKey: string) =>
  routeKey
    .toLowerCase()
    .replace(/[{}]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/-$/, "");

/**
 * Onboarding without an operator: the GitHub App install flow (state, link, list, unlink), the projects a push
 * deploys, and the webhook endpoint, as routes on the existing HTTP API with their own least-privilege functions, the
 * `onboarding` table (single-use states, processed deliveries) and the `projects` table.
 */
export class GitHubOnboarding extends pulumi.ComponentResource {
  public readonly onboardingTable: aws.dynamodb.Table;
  public readonly projectsTable: aws.dynamodb.Table;
  public readonly clientSecretArn: pulumi.Output<string>;
  public readonly webhookSecretArn: pulumi.Output<string>;
  public readonly functions: Readonly<Record<OnboardingHandler, LambdaFunction>>;

  constructor(name: string, args: GitHubOnboardingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:github:GitHubOnboarding", name, {}, opts);
    const common = tableDefaults(args);
    this.onboardingTable = new aws.dynamodb.Table(
      `${name}-onboarding`,
      {
        ...common,
        hashKey: ONBOARDING.hashKey,
        attributes: [{ name: ONBOARDING.hashKey, type: "S" }],
        ttl: { attributeName: ONBOARDING.ttlAttribute, enabled: true },
      },
      { parent: this },
    );
    this.projectsTable = new aws.dynamodb.Table(
      `${name}-projects`,
      {
        ...common,
        hashKey: PROJECTS.hashKey,
        rangeKey: PROJECTS.rangeKey,
        attributes: [
          { name: PROJECTS.hashKey, type: "S" },
          { name: PROJECTS.rangeKey, type: "S" },
        ],
        globalSecondaryIndexes: [
          {
            name: PROJECTS.byUserIndex.name,
            hashKey: PROJECTS.byUserIndex.hashKey,
            rangeKey: PROJECTS.byUserIndex.rangeKey,
            projectionType: "ALL",
          },
        ],
      },
      { parent: this },
    );
    this.clientSecretArn = this.secret(`${name}-client-secret`, "GitHub App OAuth client secret", args.clientSecret);
    this.webhookSecretArn = this.secret(`${name}-webhook-secret`, "GitHub App webhook secret", args.webhookSecret);
    this.functions = this.createFunctions(name, args);

    for (const route of ONBOARDING_ROUTES) {
      const fn = this.functions[route.handler];
      const resourceName = `${name}-${routeResourceName(route.routeKey)}`;
      const integration = new aws.apigatewayv2.Integration(
        resourceName,
        { apiId: args.api.id, integrationType: "AWS_PROXY", integrationUri: fn.arn, payloadFormatVersion: "2.0" },
        { parent: this },
      );
      new aws.apigatewayv2.Route(
        resourceName,
        {
          apiId: args.api.id,
          routeKey: route.routeKey,
          target: pulumi.interpolate`integrations/${integration.id}`,
          ...(route.jwt
            ? { authorizationType: "JWT", authorizerId: args.authorizer.id }
            : { authorizationType: "NONE" }),
        },
        { parent: this },
      );
      new aws.lambda.Permission(
        resourceName,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${args.api.executionArn}${invokeArnSuffix(route.routeKey)}`,
        },
        { parent: this },
      );
    }
    this.registerOutputs({
      onboardingTableName: this.onboardingTable.name,
      projectsTableName: this.projectsTable.name,
      clientSecretArn: this.clientSecretArn,
      webhookSecretArn: this.webhookSecretArn,
    });
  }

  private secret(name: string, description: string, source: SecretSource): pulumi.Output<string> {
    if ((source.value === undefined) === (source.existingSecretArn === undefined)) {
      throw new Error(`${description}: set exactly one of its value (as a secret) or an existing secret's ARN`);
    }
    if (source.existingSecretArn !== undefined) return pulumi.output(source.existingSecretArn);
    const secret = new aws.secretsmanager.Secret(
      name,
      { description: `Slipway ${description}`, recoveryWindowInDays: 7 },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      name,
      { secretId: secret.id, secretString: pulumi.secret(source.value!) },
      { parent: this },
    );
    return secret.arn;
  }

  private createFunctions(name: string, args: GitHubOnboardingArgs): Record<OnboardingHandler, LambdaFunction> {
    const arns: pulumi.Output<OnboardingArns> = pulumi
      .all([
        args.installationsTable.arn,
        args.byInstallationIndexArn,
        this.onboardingTable.arn,
        this.projectsTable.arn,
        args.deploymentsTable.arn,
        this.clientSecretArn,
        this.webhookSecretArn,
        args.githubAppPrivateKeySecretArn,
      ])
      .apply(
        ([
          installationsTable,
          byInstallationIndex,
          onboardingTable,
          projectsTable,
          deploymentsTable,
          clientSecret,
          webhookSecret,
          privateKeySecret,
        ]) => ({
          installationsTable,
          byInstallationIndex,
          onboardingTable,
          projectsTable,
          projectsByUserIndex: `${projectsTable}/index/${PROJECTS.byUserIndex.name}`,
          deploymentsTable,
          clientSecret,
          webhookSecret,
          privateKeySecret,
        }),
      );
    const kmsKey: pulumi.Output<string | undefined> = pulumi.output(args.githubAppPrivateKeyKmsKeyArn);
    const withKey = pulumi
      .all([arns, kmsKey])
      .apply(([base, privateKeyKmsKey]): OnboardingArns => ({
        ...base,
        ...(privateKeyKmsKey ? { privateKeyKmsKey } : {}),
      }));
    const common = { logRetentionDays: args.logRetentionDays, timeout: 10 };
    const tables = {
      [ENV.installationsTable]: args.installationsTable.name,
      [ENV.onboardingTable]: this.onboardingTable.name,
    };
    const github: Record<string, pulumi.Input<string>> = args.githubApiUrl
      ? { [ENV.githubApiUrl]: args.githubApiUrl }
      : {};
    return {
      installations: new LambdaFunction(
        `${name}-installations`,
        {
          ...common,
          description: "Slipway GET /github/install, GET and DELETE /github/installations",
          callbackFactory: createInstallationsHandler,
          environment: { ...tables, [ENV.githubAppInstallUrl]: args.installUrl },
          permissions: arns.apply(installationsFunctionPermissions),
        },
        { parent: this },
      ),
      link: new LambdaFunction(
        `${name}-link`,
        {
          ...common,
          description: "Slipway POST /github/installations: links an installation the user proves",
          callbackFactory: createLinkInstallationHandler,
          environment: {
            ...tables,
            ...github,
            [ENV.githubAppClientId]: args.clientId,
            [ENV.githubAppClientSecretArn]: this.clientSecretArn,
          },
          permissions: arns.apply(linkInstallationFunctionPermissions),
        },
        { parent: this },
      ),
      projects: new LambdaFunction(
        `${name}-projects`,
        {
          ...common,
          description: "Slipway /projects: which branch of a repository deploys on push",
          callbackFactory: createProjectsHandler,
          environment: {
            [ENV.installationsTable]: args.installationsTable.name,
            [ENV.projectsTable]: this.projectsTable.name,
          },
          permissions: arns.apply(projectsFunctionPermissions),
        },
        { parent: this },
      ),
      repositories: new LambdaFunction(
        `${name}-repositories`,
        {
          ...common,
          description: "Slipway GET /repositories: what the caller's installations can read",
          callbackFactory: createRepositoriesHandler,
          environment: {
            [ENV.installationsTable]: args.installationsTable.name,
            ...github,
            [ENV.githubAppId]: args.githubAppId,
            [ENV.githubAppPrivateKeyArn]: args.githubAppPrivateKeySecretArn,
            [ENV.githubAppInstallUrl]: args.installUrl,
          },
          permissions: withKey.apply(repositoriesFunctionPermissions),
        },
        { parent: this },
      ),
      webhooks: new LambdaFunction(
        `${name}-webhooks`,
        {
          ...common,
          description: "Slipway POST /github/webhooks: installation events and deploy on push",
          callbackFactory: createWebhooksHandler,
          environment: {
            ...tables,
            [ENV.projectsTable]: this.projectsTable.name,
            [ENV.deploymentsTable]: args.deploymentsTable.name,
            [ENV.githubWebhookSecretArn]: this.webhookSecretArn,
          },
          permissions: arns.apply(webhooksFunctionPermissions),
        },
        { parent: this },
      ),
    };
  }
}
