import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  createCancelDeploymentHandler,
  createDeployHandler,
  createDeploymentLogsHandler,
  createGetDeploymentHandler,
  createListDeploymentsHandler,
} from "../runtime/api/handlers";
import { ENV } from "../runtime/environment";
import { LambdaFunction } from "./lambdaFunction";
import { logGroupPrefix } from "./physicalNames";
import {
  cancelFunctionPermissions,
  deployFunctionPermissions,
  getDeploymentFunctionPermissions,
  listDeploymentsFunctionPermissions,
  logsFunctionPermissions,
} from "./policies";

export interface DeploymentApiArgs {
  readonly deploymentsTable: aws.dynamodb.Table;
  readonly idempotencyTable: aws.dynamodb.Table;
  /** The per-user counters (DeploymentTable's `rateLimits`). */
  readonly rateLimitsTable: aws.dynamodb.Table;
  /** Deployments one user may start per minute; more get 429 with Retry-After. Default 10. */
  readonly deploymentsPerUserPerMinute?: pulumi.Input<number>;
  /** ARN of the deployments table's `byUser` index (DeploymentTable's `byUserIndexArn`). */
  readonly byUserIndexArn: pulumi.Input<string>;
  /** The JWT issuer every request's bearer token must come from, e.g. https://cognito-idp.<region>.amazonaws.com/<pool>. */
  readonly jwtIssuer: pulumi.Input<string>;
  /** Accepted `aud` values (client ids). */
  readonly jwtAudience: pulumi.Input<pulumi.Input<string>[]>;
  /** Origins the web front end is served from. Default none (no CORS headers: same-origin or server-side callers). */
  readonly corsAllowOrigins?: pulumi.Input<pulumi.Input<string>[]>;
  /** Steady requests per second across the API. Default 50. */
  readonly throttlingRateLimit?: pulumi.Input<number>;
  /** Burst of requests above the rate. Default 100. */
  readonly throttlingBurstLimit?: pulumi.Input<number>;
  /** Days access and function logs are kept. Default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Builder → CodeBuild project name and the projects' ARNs (BuildProjects'): cancel stops their builds. */
  readonly buildProjectNames: pulumi.Input<Record<string, string>>;
  readonly buildProjectArns: pulumi.Input<string[]>;
  /** Project name → log group, and the groups' ARNs (BuildProjects'): the logs route reads only these. */
  readonly buildLogGroupNames: pulumi.Input<Record<string, string>>;
  readonly buildLogGroupArns: pulumi.Input<string[]>;
}

/** Enough for a person redeploying by hand, far below what a runaway script would start. */
export const DEFAULT_DEPLOYMENTS_PER_USER_PER_MINUTE = 10;

type HandlerName = "deploy" | "getDeployment" | "listDeployments" | "cancel" | "logs";

/** The HTTP API's routes: which function serves which method and path. */
export const ROUTES: readonly { readonly routeKey: string; readonly handler: HandlerName }[] = [
  { routeKey: "POST /deployments", handler: "deploy" },
  { routeKey: "GET /deployments/{id}", handler: "getDeployment" },
  { routeKey: "GET /deployments", handler: "listDeployments" },
  { routeKey: "POST /deployments/{id}/cancel", handler: "cancel" },
  { routeKey: "GET /deployments/{id}/logs", handler: "logs" },
];

/**
 * The public HTTP API (API Gateway v2): five routes, each a Lambda allowed exactly its table calls, all behind a JWT
 * authorizer whose `sub` is the user id. Throttling, CORS and JSON access logs come from the stack's config.
 */
export class DeploymentApi extends pulumi.ComponentResource {
  public readonly api: aws.apigatewayv2.Api;
  public readonly stage: aws.apigatewayv2.Stage;
  /** The JWT authorizer, for components that add their own routes to this API. */
  public readonly authorizer: aws.apigatewayv2.Authorizer;
  public readonly functions: Readonly<Record<HandlerName, LambdaFunction>>;
  /** The API's base URL. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: DeploymentApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:api:DeploymentApi", name, {}, opts);
    this.functions = this.createFunctions(name, args);
    this.api = new aws.apigatewayv2.Api(
      name,
      {
        protocolType: "HTTP",
        description: "Slipway deployments API",
        corsConfiguration: pulumi.output(args.corsAllowOrigins ?? []).apply(corsConfiguration),
      },
      { parent: this },
    );
    const authorizer = (this.authorizer = new aws.apigatewayv2.Authorizer(
      name,
      {
        apiId: this.api.id,
        authorizerType: "JWT",
        identitySources: ["$request.header.Authorization"],
        jwtConfiguration: { issuer: args.jwtIssuer, audiences: args.jwtAudience },
      },
      { parent: this },
    ));
    for (const route of ROUTES) {
      const fn = this.functions[route.handler];
      const resourceName = `${name}-${route.handler}`;
      const integration = new aws.apigatewayv2.Integration(
        resourceName,
        { apiId: this.api.id, integrationType: "AWS_PROXY", integrationUri: fn.arn, payloadFormatVersion: "2.0" },
        { parent: this },
      );
      new aws.apigatewayv2.Route(
        resourceName,
        {
          apiId: this.api.id,
          routeKey: route.routeKey,
          target: pulumi.interpolate`integrations/${integration.id}`,
          authorizationType: "JWT",
          authorizerId: authorizer.id,
        },
        { parent: this },
      );
      new aws.lambda.Permission(
        resourceName,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${this.api.executionArn}${invokeArnSuffix(route.routeKey)}`,
        },
        { parent: this },
      );
    }
    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access`,
      { namePrefix: logGroupPrefix("apigateway", `${name}-access`), retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );
    this.stage = new aws.apigatewayv2.Stage(
      name,
      {
        apiId: this.api.id,
        name: "$default",
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingRateLimit: args.throttlingRateLimit ?? 50,
          throttlingBurstLimit: args.throttlingBurstLimit ?? 100,
        },
        accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
      },
      { parent: this },
    );
    this.url = this.stage.invokeUrl;
    this.registerOutputs({ url: this.url, apiId: this.api.id });
  }

  private createFunctions(name: string, args: DeploymentApiArgs): Record<HandlerName, LambdaFunction> {
    const common = { logRetentionDays: args.logRetentionDays, timeout: 10 };
    const deploymentsTable = { [ENV.deploymentsTable]: args.deploymentsTable.name };
    return {
      deploy: new LambdaFunction(
        `${name}-deploy`,
        {
          ...common,
          description: "Slipway POST /deployments: validates and records a PENDING deployment",
          callbackFactory: createDeployHandler,
          environment: {
            ...deploymentsTable,
            [ENV.idempotencyTable]: args.idempotencyTable.name,
            [ENV.rateLimitsTable]: args.rateLimitsTable.name,
            [ENV.deploymentsPerUserPerMinute]: pulumi
              .output(args.deploymentsPerUserPerMinute ?? DEFAULT_DEPLOYMENTS_PER_USER_PER_MINUTE)
              .apply(String),
          },
          permissions: pulumi
            .all([args.deploymentsTable.arn, args.idempotencyTable.arn, args.rateLimitsTable.arn])
            .apply(([deploymentsTable, idempotencyTable, rateLimitsTable]) =>
              deployFunctionPermissions({ deploymentsTable, idempotencyTable, rateLimitsTable }),
            ),
        },
        { parent: this },
      ),
      getDeployment: new LambdaFunction(
        `${name}-get`,
        {
          ...common,
          description: "Slipway GET /deployments/{id}",
          callbackFactory: createGetDeploymentHandler,
          environment: deploymentsTable,
          permissions: args.deploymentsTable.arn.apply((deploymentsTable) =>
            getDeploymentFunctionPermissions({ deploymentsTable }),
          ),
        },
        { parent: this },
      ),
      listDeployments: new LambdaFunction(
        `${name}-list`,
        {
          ...common,
          description: "Slipway GET /deployments: the caller's deployments, newest first",
          callbackFactory: createListDeploymentsHandler,
          environment: deploymentsTable,
          permissions: pulumi
            .output(args.byUserIndexArn)
            .apply((byUserIndex) => listDeploymentsFunctionPermissions({ byUserIndex })),
        },
        { parent: this },
      ),
      cancel: new LambdaFunction(
        `${name}-cancel`,
        {
          ...common,
          description: "Slipway POST /deployments/{id}/cancel: ends it before its build, or stops its build",
          callbackFactory: createCancelDeploymentHandler,
          environment: {
            ...deploymentsTable,
            [ENV.buildProjects]: pulumi.output(args.buildProjectNames).apply((names) => JSON.stringify(names)),
          },
          permissions: pulumi
            .output({ deploymentsTable: args.deploymentsTable.arn, buildProjects: args.buildProjectArns })
            .apply(cancelFunctionPermissions),
        },
        { parent: this },
      ),
      logs: new LambdaFunction(
        `${name}-logs`,
        {
          ...common,
          description: "Slipway GET /deployments/{id}/logs: the build's log, a page at a time",
          callbackFactory: createDeploymentLogsHandler,
          environment: {
            ...deploymentsTable,
            [ENV.buildLogGroups]: pulumi.output(args.buildLogGroupNames).apply((groups) => JSON.stringify(groups)),
          },
          permissions: pulumi
            .output({ deploymentsTable: args.deploymentsTable.arn, buildLogGroups: args.buildLogGroupArns })
            .apply(logsFunctionPermissions),
        },
        { parent: this },
      ),
    };
  }
}

/** `POST /deployments` → `/*\/POST/deployments`; path parameters become `*` (execute-api ARN syntax). */
export function invokeArnSuffix(routeKey: string): string {
  const [method, path = ""] = routeKey.split(" ");
  return `/*/${method}${path.replace(/\{[^}]+\}/g, "*")}`;
}

/** CORS for the front end's origins; none configured → no CORS at all. */
export function corsConfiguration(
  origins: readonly string[],
): aws.types.input.apigatewayv2.ApiCorsConfiguration | undefined {
  if (origins.length === 0) return undefined;
  return {
    allowOrigins: [...origins],
    allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowHeaders: ["authorization", "content-type", "idempotency-key"],
    exposeHeaders: ["location", "idempotent-replayed"],
    maxAge: 600,
  };
}

/** One JSON object per request; the user id, never the token. */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  routeKey: "$context.routeKey",
  status: "$context.status",
  latencyMs: "$context.responseLatency",
  responseLength: "$context.responseLength",
  userId: "$context.authorizer.claims.sub",
  authorizerError: "$context.authorizer.error",
  integrationError: "$context.integrationErrorMessage",
};
