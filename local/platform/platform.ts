import * as fs from "node:fs";
import * as path from "node:path";
import { generateKeyPairSync, createPrivateKey, createPublicKey } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startAws, type AwsEmulator } from "../emulators/aws";
import { startGitHub, type GitHubEmulator } from "../emulators/github";
import { InstallationStore } from "../../runtime/deployments/store";
import { createLogger, type Logger } from "../../runtime/log";
import { ENV } from "../../runtime/environment";
import { startDynamoDbLocal, LOCAL_AWS, type DynamoDbLocal } from "./dynamodbLocal";
import { emulatorAuthorize } from "./iam/emulatorAuthorize";
import { createPrincipalRegistry, type PrincipalRegistry } from "./iam/principals";
import { startDynamoDbProxy, type DynamoDbProxy } from "./iam/dynamodbProxy";
import { lambdaLogStreamName, logStreamWriter } from "./iam/logWrites";
import { dynamoDbLocalTableArn } from "./iam/dynamodbAccess";
import { startFunction, type LocalFunction } from "./lambda/startFunction";
import { lambdaRuntimeModules } from "./lambda/lambdaRuntimeModules";
import { startHttpApi, type HttpApi } from "./httpApi/startHttpApi";
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateIssuerKey, mintToken } from "./localIssuer";
import { createProvisioner, type LocalResources } from "./provisioner";
import { runStack } from "./runStack";
import { ensureFunctionArchives } from "./archives/functionArchives";
import { startEventSources, type EventSources } from "./startEventSources";
import { freePort } from "./freePort";
import { startBuildRunner, type BuildOutcome, type BuildRunner } from "./buildRunner";

export const REGION = "us-east-1";
export const ACCOUNT_ID = "000000000000";
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_REPOS_DIR = path.join(PROJECT_ROOT, "examples", "repos");

export interface PlatformOptions {
  /** The API's port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Where state lives across restarts (tables, stream checkpoints, queues, keys). */
  readonly stateDir: string;
  /** Start from nothing: the state folder is emptied first. */
  readonly fresh?: boolean;
  /** Repositories served by the GitHub emulator, `<owner>/<name>/`. Ignored with `realGitHub`. */
  readonly reposDir?: string;
  /** Use GitHub itself with this App instead of the emulator. */
  readonly realGitHub?: { readonly appId: string; readonly privateKeyPem: string; readonly apiUrl?: string };
  /** Origins the local front end is served from. */
  readonly corsAllowOrigins?: string[];
  /** Run each build's buildspec for real (`--run-builds`); otherwise builds are recorded and stay IN_PROGRESS. */
  readonly runBuilds?: boolean;
  /**
   * A folder put first on the PATH of builds run with `runBuilds`: `BUILD_TOOL_STAND_INS` stands in for `aws` and
   * `docker` where there is no Docker engine (the scenario of `recordScenarioCalls`). Default none.
   */
  readonly buildTools?: string;
  /** Told when a build run with `runBuilds` ends. */
  readonly onBuildOutcome?: (outcome: BuildOutcome) => void;
  /** Told of slow start-up steps a person should know about (building the function archives). */
  readonly onProgress?: (message: string) => void;
  /** Function output, line by line. Default: dropped (the deployment watcher tells what matters). */
  readonly onFunctionLog?: (functionName: string, line: string) => void;
  readonly logger?: Logger;
}

export interface Platform {
  /** The API's base URL (no trailing slash). */
  readonly apiUrl: string;
  readonly stackOutputs: Record<string, unknown>;
  readonly aws: AwsEmulator;
  /** The GitHub emulator, unless the platform talks to GitHub itself. */
  readonly github?: GitHubEmulator;
  readonly reposDir?: string;
  readonly iam: PrincipalRegistry;
  readonly resources: LocalResources;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly eventSources: EventSources;
  /** Runs builds as CodeBuild would, with `runBuilds`. */
  readonly buildRunner?: BuildRunner;
  /** The platform's own (administrator) access to DynamoDB Local, for seeding and inspection. */
  readonly documents: DynamoDBDocumentClient;
  /** DynamoDB Local itself (no IAM proxy): the administrator's endpoint. */
  readonly dynamodbEndpoint: string;
  readonly tables: { deployments: string; installations: string; idempotency: string };
  /** A bearer token the local authorizer accepts for this user. */
  token(userId: string, options?: { audience?: string; issuer?: string; expiresInSeconds?: number }): string;
  /** Resolves when every event source is caught up and nothing is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** The owners under the repositories folder: each is one App installation and one local user. */
export function repositoryOwners(reposDir: string): string[] {
  if (!fs.existsSync(reposDir)) return [];
  return fs
    .readdirSync(reposDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

/** The local GitHub App's key pair, kept in the state folder so tokens and installations survive a restart. */
function loadOrCreateAppKey(stateDir: string): { privateKeyPem: string; publicKeyPem: string } {
  const file = path.join(stateDir, "github-app-key.pem");
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  const privateKeyPem = fs.readFileSync(file, "utf8");
  const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem))
    .export({ type: "spki", format: "pem" })
    .toString();
  return { privateKeyPem, publicKeyPem };
}

/** The local stack's configuration: the same keys as `Pulumi.dev.yaml`, pointed at local peers. */
export function localStackConfig(settings: {
  appId: string;
  privateKeyPem: string;
  githubApiUrl: string;
  installUrl: string;
  corsAllowOrigins: string[];
}): Record<string, string> {
  return {
    "aws:region": REGION,
    "slipway:githubAppId": settings.appId,
    "slipway:githubAppPrivateKey": settings.privateKeyPem,
    "slipway:githubApiUrl": settings.githubApiUrl,
    "slipway:githubAppInstallUrl": settings.installUrl,
    "slipway:jwtIssuer": LOCAL_ISSUER,
    "slipway:jwtAudience": JSON.stringify([LOCAL_AUDIENCE]),
    "slipway:corsAllowOrigins": JSON.stringify(settings.corsAllowOrigins),
    "slipway:logRetentionDays": "7",
    "slipway:deletionProtection": "false",
    "slipway:pointInTimeRecovery": "false",
    "slipway:forceDestroy": "true",
  };
}

const LOCAL_APP_ID = "100001";

/**
 * Runs the whole platform on this machine: the stack (`index.ts`) under the mock monitor, each resource provisioned
 * as a local equivalent, then the functions, the HTTP API and the event sources started, and the repositories'
 * owners registered as users with their installations.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const logger = options.logger ?? createLogger((line) => process.stderr.write(line + "\n"));
  if (options.fresh) fs.rmSync(options.stateDir, { recursive: true, force: true });
  fs.mkdirSync(options.stateDir, { recursive: true });
  const stopping: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stopping.reverse()) await stop().catch(() => undefined);
  };
  try {
    const iam = createPrincipalRegistry({
      accountId: ACCOUNT_ID,
      region: REGION,
      warn: (message) => logger.warn(message),
    });
    const dynamodb: DynamoDbLocal = await startDynamoDbLocal({
      dbPath: ensureDir(path.join(options.stateDir, "dynamodb")),
    });
    stopping.push(() => dynamodb.stop());
    const proxy: DynamoDbProxy = await startDynamoDbProxy({
      target: dynamodb.endpoint,
      authorize: (accessKeyId, action, resource) => iam.authorize(accessKeyId, action, resource),
      resolveTableArn: dynamoDbLocalTableArn,
      logger,
    });
    stopping.push(() => proxy.close());
    const aws = await startAws({ region: REGION, accountId: ACCOUNT_ID, authorize: emulatorAuthorize(iam, logger) });
    stopping.push(() => aws.close());

    const reposDir = options.realGitHub ? undefined : path.resolve(options.reposDir ?? DEFAULT_REPOS_DIR);
    let github: GitHubEmulator | undefined;
    let app: { appId: string; privateKeyPem: string; apiUrl: string };
    if (options.realGitHub) {
      app = { ...options.realGitHub, apiUrl: options.realGitHub.apiUrl ?? "https://api.github.com" };
    } else {
      const key = loadOrCreateAppKey(options.stateDir);
      github = await startGitHub({ appId: LOCAL_APP_ID, appPublicKey: key.publicKeyPem, root: reposDir! });
      stopping.push(() => github!.close());
      app = { appId: LOCAL_APP_ID, privateKeyPem: key.privateKeyPem, apiUrl: github.url };
    }

    const port = options.port || (await freePort());
    const apiUrl = `http://127.0.0.1:${port}`;
    const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint, ...LOCAL_AWS });
    const functionArchives = await ensureFunctionArchives({ onBuild: options.onProgress });
    const provisioner = createProvisioner({
      functionArchives,
      region: REGION,
      accountId: ACCOUNT_ID,
      dynamodb: admin,
      aws,
      iam,
      stateDir: options.stateDir,
      apiUrl,
      logger,
    });
    const stackOutputs = await runStack({
      config: localStackConfig({
        appId: app.appId,
        privateKeyPem: app.privateKeyPem,
        githubApiUrl: app.apiUrl,
        installUrl: github
          ? `${github.url}/apps/slipway-local/installations/new`
          : "https://github.com/settings/installations",
        corsAllowOrigins: options.corsAllowOrigins ?? ["http://localhost:5173"],
      }),
      secretKeys: ["slipway:githubAppPrivateKey"],
      newResource: (args) => provisioner.newResource(args),
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      program: () => require("../../index") as Record<string, unknown>,
    });
    const { resources } = provisioner;
    for (const type of new Set(resources.unsupported)) logger.warn("no local equivalent; skipped", { type });

    const runtimeModulesDir = lambdaRuntimeModules(PROJECT_ROOT, path.join(options.stateDir, "lambda-runtime"));
    const endpoints = {
      [ENV.dynamodbEndpoint]: proxy.url,
      [ENV.secretsManagerEndpoint]: aws.url,
      [ENV.codebuildEndpoint]: aws.url,
      [ENV.s3Endpoint]: aws.url,
    };
    const functions = new Map<string, LocalFunction>();
    for (const declared of resources.functions.values()) {
      const credentials = iam.credentialsFor(declared.roleName);
      const fn = await startFunction({
        name: declared.name,
        codeDir: declared.codeDir,
        handler: declared.handler,
        runtime: declared.runtime,
        environment: {
          ...declared.environment,
          ...endpoints,
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
        },
        memorySizeMb: declared.memorySizeMb,
        timeoutSeconds: declared.timeoutSeconds,
        runtimeModulesDir,
        region: REGION,
        accountId: ACCOUNT_ID,
        onLog: options.onFunctionLog ?? (() => undefined),
      });
      // Lambda writes every invocation's START/END/REPORT lines (and the function's output) with the function's role.
      const logs = logStreamWriter({
        iam,
        accessKeyId: credentials.accessKeyId,
        region: REGION,
        accountId: ACCOUNT_ID,
        logGroup: declared.logGroup,
        streamName: lambdaLogStreamName(),
        onDenied: (reason) => logger.warn("function logs dropped: the role may not write them", { reason }),
      });
      const logged: LocalFunction = {
        ...fn,
        invoke: async (event) => {
          const result = await fn.invoke(event);
          await logs.write();
          return result;
        },
      };
      functions.set(declared.name, logged);
      functions.set(declared.arn, logged);
      stopping.push(() => fn.stop());
    }

    const issuerKey = loadOrCreateIssuerKey(options.stateDir);
    const api: HttpApi = await startHttpApi({
      port,
      routes: apiRoutes(resources, functions),
      authorizer: authorizerOf(resources, issuerKey.publicKeyPem),
      ...(resources.api.cors ? { cors: resources.api.cors as never } : {}),
      ...(resources.api.throttling ? { throttling: resources.api.throttling } : {}),
      accountId: ACCOUNT_ID,
    });
    stopping.push(() => api.close());

    const tables = tableNames(stackOutputs);
    const documents = DynamoDBDocumentClient.from(admin, { marshallOptions: { removeUndefinedValues: true } });
    if (github && reposDir) {
      const installations = new InstallationStore({ client: documents, table: tables.installations });
      for (const owner of repositoryOwners(reposDir)) {
        await installations.put({
          userId: owner,
          installationId: github.installationIdFor(owner),
          accountLogin: owner,
        });
      }
    }

    const eventSources = await startEventSources({
      resources,
      functions,
      iam,
      stateDir: options.stateDir,
      streamsEndpoint: proxy.url,
      region: REGION,
      logger,
    });
    stopping.push(() => eventSources.stop());

    let buildRunner: BuildRunner | undefined;
    if (options.runBuilds) {
      const runner = (buildRunner = startBuildRunner({
        aws,
        projects: resources.projects,
        iam,
        stateDir: options.stateDir,
        region: REGION,
        accountId: ACCOUNT_ID,
        logger,
        ...(options.buildTools ? { toolsDir: options.buildTools } : {}),
        ...(options.onBuildOutcome ? { onOutcome: options.onBuildOutcome } : {}),
      }));
      stopping.push(() => runner.stop());
    }

    return {
      apiUrl,
      stackOutputs,
      aws,
      ...(github ? { github } : {}),
      ...(reposDir ? { reposDir } : {}),
      iam,
      resources,
      functions,
      eventSources,
      ...(buildRunner ? { buildRunner } : {}),
      documents,
      dynamodbEndpoint: dynamodb.endpoint,
      tables,
      token: (userId, tokenOptions = {}) =>
        mintToken({ privateKeyPem: issuerKey.privateKeyPem, sub: userId, ...tokenOptions }),
      idle: () => eventSources.idle(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function tableNames(outputs: Record<string, unknown>) {
  return {
    deployments: String(outputs.deploymentsTableName),
    installations: String(outputs.installationsTableName),
    idempotency: String(outputs.idempotencyTableName),
  };
}

/**
 * The stack's routes, each invoking its integration's function — only if a Lambda permission lets API Gateway
 * invoke it, as in AWS (without one, API Gateway answers 500).
 */
function apiRoutes(resources: LocalResources, functions: ReadonlyMap<string, LocalFunction>) {
  return resources.api.routes.map((route) => {
    const integration = resources.api.integrations.get(route.integrationId);
    const fn = integration ? functions.get(integration.functionArn) : undefined;
    const permitted =
      fn !== undefined &&
      resources.permissions.some(
        (p) =>
          p.principal === "apigateway.amazonaws.com" &&
          (p.function === fn.name || p.function === integration?.functionArn),
      );
    return {
      routeKey: route.routeKey,
      authorizationType: route.authorizationType === "JWT" ? ("JWT" as const) : ("NONE" as const),
      invoke: async (event: unknown) =>
        fn && permitted
          ? fn.invoke(event)
          : {
              ok: false as const,
              errorType: "AccessDeniedException",
              errorMessage: `API Gateway may not invoke the function of ${route.routeKey}: no lambda:InvokeFunction permission`,
              durationMs: 0,
            },
    };
  });
}

function authorizerOf(resources: LocalResources, publicKeyPem: string) {
  const [authorizer] = resources.api.authorizers.values();
  return authorizer ? { issuer: authorizer.issuer, audiences: authorizer.audiences, publicKeyPem } : undefined;
}
