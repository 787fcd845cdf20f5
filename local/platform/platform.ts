import * as fs from "node:fs";
import * as path from "node:path";
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startAws, type AwsEmulator } from "../emulators/aws";
import { startGitHub, type GitHubEmulator, type WebhookDelivery } from "../emulators/github";
import { InstallationStore } from "../../runtime/deployments/store";
import { createLogger, type Logger } from "../../runtime/log";
import { ENV } from "../../runtime/environment";
import { startDynamoDbLocal, LOCAL_AWS, type DynamoDbLocal } from "./dynamodbLocal";
import { emulatorAuthorize } from "./iam/emulatorAuthorize";
import { createPrincipalRegistry, type PrincipalRegistry } from "./iam/principals";
import { startDynamoDbProxy, type DynamoDbExchange, type DynamoDbProxy } from "./iam/dynamodbProxy";
import { lambdaLogStreamName, logStreamWriter } from "./iam/logWrites";
import { dynamoDbLocalTableArn } from "./iam/dynamodbAccess";
import { startFunction, type LocalFunction } from "./lambda/startFunction";
import { lambdaRuntimeModules } from "./lambda/lambdaRuntimeModules";
import { startHttpApi, type HttpApi } from "./httpApi/startHttpApi";
import { LOCAL_AUDIENCE, LOCAL_ISSUER, loadOrCreateIssuerKey, mintToken, startLocalIssuer } from "./localIssuer";
import { createProvisioner, type LocalResources } from "./provisioner";
import { runStack } from "./runStack";
import { archivedFunctionCode, ensureFunctionArchives } from "./archives/functionArchives";
import { setFunctionCodeSource } from "../../components/functionBundle";
import { startEventSources, type EventSources } from "./startEventSources";
import { freePort } from "./freePort";
import { startBuildRunner, type BuildOutcome, type BuildRunner } from "./buildRunner";
import { prepareSealedBuildTools, type SealedBuildTools } from "./sealedBuildTools";
import { clearState } from "./clearState";
import { writeRunningPlatform } from "./runningPlatform";
import { createDashboardSite } from "./dashboardSite";
import { createLocalSignIn, LOCAL_SIGN_IN_PATHS } from "./localSignIn";
import { startEventBridge, type LocalEventBridge } from "./eventBridge";
import { startSimulatedBuilds, type SimulatedBuildOutcome } from "./simulatedBuilds";

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
  /**
   * Start with no installation linked and the emulated App installed nowhere (`npm start -- --unlinked`): users
   * install it through the emulator's install page and link it through the API. Default: every owner of the
   * repositories folder has the App installed and linked (a quick start).
   */
  readonly unlinked?: boolean;
  /**
   * Configure the install flow, projects and webhooks against the emulated App (the `GitHubOnboarding` component).
   * Default true; the policy audit's scenario turns it off, as it does not exercise those functions yet.
   */
  readonly onboarding?: boolean;
  /** Told of each webhook delivery the GitHub emulator makes to the platform. */
  readonly onWebhookDelivery?: (delivery: WebhookDelivery) => void;
  /** Use GitHub itself with this App instead of the emulator. */
  readonly realGitHub?: { readonly appId: string; readonly privateKeyPem: string; readonly apiUrl?: string };
  /** Origins the local front end is served from. */
  readonly corsAllowOrigins?: string[];
  /** Run each build's buildspec for real (`--run-builds`); otherwise builds are simulated (see simulatedBuilds.ts). */
  readonly runBuilds?: boolean;
  /** Seconds a simulated build takes. Default $SLIPWAY_SIMULATED_BUILD_SECONDS, else 5. */
  readonly simulatedBuildSeconds?: number;
  /**
   * A folder put first on the PATH of builds run with `runBuilds`: `BUILD_TOOL_STAND_INS` stands in for `aws` and
   * `docker` where there is no Docker engine (the scenario of `recordScenarioCalls`). Default none.
   */
  readonly buildTools?: string;
  /**
   * Multiplies the waits GitHub asks the inspector for (SLIPWAY_GITHUB_WAIT_SCALE): the fault tests set 0.01 so a
   * 60-second secondary limit takes 0.6 s. Default 1, as in AWS.
   */
  readonly githubWaitScale?: number;
  /**
   * Keep DynamoDB Local's tables in memory (`-inMemory`, as the tests run it) instead of in the state folder: faster,
   * but nothing survives a stop or a restart of the jar. The benchmark's choice; `npm start` keeps them on disk.
   */
  readonly dynamodbInMemory?: boolean;
  /** Every DynamoDB request the functions make, once answered (`npm run bench`'s critical path). */
  readonly onDynamoDbExchange?: (exchange: {
    operation: string;
    /** The role that asked (undefined: the platform's administrator). */
    role?: string;
    startedAt: number;
    endedAt: number;
  }) => void;
  /** Told when a build ends (run for real or simulated). */
  readonly onBuildOutcome?: (outcome: BuildOutcome | SimulatedBuildOutcome) => void;
  /** Told of slow start-up steps a person should know about (building the function archives). */
  readonly onProgress?: (message: string) => void;
  /** Waits before Lambda's asynchronous retries of EventBridge deliveries. Default AWS's (1 min, 2 min). */
  readonly asyncRetryDelaysMs?: readonly number[];
  /** Run scheduled rules (the reconciler) on their timers. Default true. */
  readonly schedules?: boolean;
  /** Function output, line by line. Default: dropped (the deployment watcher tells what matters). */
  readonly onFunctionLog?: (functionName: string, line: string) => void;
  /** Lines a person should see about the platform itself (DynamoDB Local died and came back). Default: logger.warn. */
  readonly notify?: (line: string) => void;
  /**
   * Stack config on top of the local defaults, e.g. `{ "slipway:deploymentsPerUserPerMinute": "2" }` or
   * `{ "slipway:maxConcurrentBuildsPerUser": "1" }`.
   */
  readonly stackConfig?: Readonly<Record<string, string>>;
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
  /** The default event bus with the stack's rules: CodeBuild's events and the schedules reach the functions here. */
  readonly eventBridge: LocalEventBridge;
  /** Runs builds as CodeBuild would, with `runBuilds`. */
  readonly buildRunner?: BuildRunner;
  /** With `runBuilds` and no `buildTools`: the sealed stand-ins for `aws` and `docker`, and this machine's Docker. */
  readonly sealedBuildTools?: SealedBuildTools;
  /** The platform's own (administrator) access to DynamoDB Local, for seeding and inspection. */
  readonly documents: DynamoDBDocumentClient;
  /** DynamoDB Local itself (no IAM proxy): the administrator's endpoint. */
  readonly dynamodbEndpoint: string;
  /** The supervised DynamoDB Local: its process and how often it was restarted. */
  readonly dynamodbLocal: DynamoDbLocal;
  readonly tables: {
    deployments: string;
    installations: string;
    idempotency: string;
    rateLimits: string;
    buildSlots: string;
  };
  /** A bearer token the local authorizer accepts for this user. */
  token(userId: string, options?: { audience?: string; issuer?: string; expiresInSeconds?: number }): Promise<string>;
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
  onboarding?: { clientId: string; clientSecret: string; webhookSecret: string };
}): Record<string, string> {
  return {
    ...(settings.onboarding
      ? {
          "slipway:githubAppClientId": settings.onboarding.clientId,
          "slipway:githubAppClientSecret": settings.onboarding.clientSecret,
          "slipway:githubWebhookSecret": settings.onboarding.webhookSecret,
        }
      : {}),
    "aws:region": REGION,
    "slipway:githubAppId": settings.appId,
    "slipway:githubAppPrivateKey": settings.privateKeyPem,
    "slipway:githubApiUrl": settings.githubApiUrl,
    "slipway:githubAppInstallUrl": settings.installUrl,
    "slipway:jwtIssuer": LOCAL_ISSUER,
    "slipway:jwtAudience": JSON.stringify([LOCAL_AUDIENCE]),
    "slipway:corsAllowOrigins": JSON.stringify(settings.corsAllowOrigins),
    // Locally the HTTP API serves the dashboard itself (local/platform/dashboardSite.ts), not CloudFront.
    "slipway:dashboard": "false",
    "slipway:logRetentionDays": "7",
    "slipway:deletionProtection": "false",
    "slipway:pointInTimeRecovery": "false",
    "slipway:forceDestroy": "true",
  };
}

const LOCAL_APP_ID = "100001";
/** The emulated App's slug and OAuth client id (public values, as on GitHub). */
export const LOCAL_APP_SLUG = "slipway-local";
const LOCAL_CLIENT_ID = "Iv1.slipwaylocal0001";
/** Where the emulator sends the user after installing (setup URL = callback URL): the dashboard's page. */
export const LOCAL_SETUP_PATH = "/settings/github/setup";

/**
 * Runs the whole platform on this machine: the stack (`index.ts`) under the mock monitor, each resource provisioned
 * as a local equivalent, then the functions, the HTTP API and the event sources started, and the repositories'
 * owners registered as users with their installations.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const logger = options.logger ?? createLogger((line) => process.stderr.write(line + "\n"));
  if (options.fresh) clearState(options.stateDir);
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
    // Supervised: if the jar dies it is started again on the same port with the same tables, and a person is told.
    const notify = options.notify ?? ((line: string) => logger.warn(line));
    const dynamodb: DynamoDbLocal = await startDynamoDbLocal({
      ...(options.dynamodbInMemory ? {} : { dbPath: ensureDir(path.join(options.stateDir, "dynamodb")) }),
      supervise: {
        onExit: ({ code, signal }) =>
          notify(`DynamoDB Local stopped (${signal ? `signal ${signal}` : `exit code ${code}`}); restarting it`),
        onRestart: ({ downMs }) => notify(`DynamoDB Local is back after ${(downMs / 1000).toFixed(1)} s`),
        onRestartFailed: ({ error, retryInMs }) =>
          notify(`DynamoDB Local did not start (${error.split("\n")[0]}); trying again in ${retryInMs / 1000} s`),
      },
    });
    stopping.push(() => dynamodb.stop());
    const proxy: DynamoDbProxy = await startDynamoDbProxy({
      target: dynamodb.endpoint,
      authorize: (accessKeyId, action, resource) => iam.authorize(accessKeyId, action, resource),
      resolveTableArn: dynamoDbLocalTableArn,
      logger,
      ...(options.onDynamoDbExchange
        ? {
            onExchange: ({ accessKeyId, ...exchange }: DynamoDbExchange) => {
              const role = accessKeyId === undefined ? undefined : iam.roleForAccessKey(accessKeyId);
              options.onDynamoDbExchange!({ ...exchange, ...(role ? { role } : {}) });
            },
          }
        : {}),
    });
    stopping.push(() => proxy.close());
    const aws = await startAws({
      region: REGION,
      accountId: ACCOUNT_ID,
      authorize: emulatorAuthorize(iam, logger),
      // ECR's tags live in the local registry's folder, which the sealed `docker push` of --run-builds writes too.
      registryDir: path.join(options.stateDir, "registry"),
    });
    stopping.push(() => aws.close());

    const port = options.port || (await freePort());
    const apiUrl = `http://127.0.0.1:${port}`;
    const reposDir = options.realGitHub ? undefined : path.resolve(options.reposDir ?? DEFAULT_REPOS_DIR);
    let github: GitHubEmulator | undefined;
    let app: { appId: string; privateKeyPem: string; apiUrl: string };
    // The emulated App's OAuth client secret and webhook secret: new each start, shared by the emulator and the stack.
    const appSecrets = {
      clientSecret: randomBytes(20).toString("hex"),
      webhookSecret: randomBytes(32).toString("hex"),
    };
    if (options.realGitHub) {
      app = { ...options.realGitHub, apiUrl: options.realGitHub.apiUrl ?? "https://api.github.com" };
    } else {
      const key = loadOrCreateAppKey(options.stateDir);
      github = await startGitHub({
        appId: LOCAL_APP_ID,
        appPublicKey: key.publicKeyPem,
        root: reposDir!,
        app: {
          slug: LOCAL_APP_SLUG,
          clientId: LOCAL_CLIENT_ID,
          ...appSecrets,
          webhookUrl: `${apiUrl}/github/webhooks`,
          setupUrl: `${apiUrl}${LOCAL_SETUP_PATH}`,
          startUninstalled: options.unlinked ?? false,
          ...(options.onWebhookDelivery ? { onDelivery: options.onWebhookDelivery } : {}),
        },
      });
      stopping.push(() => github!.close());
      app = { appId: LOCAL_APP_ID, privateKeyPem: key.privateKeyPem, apiUrl: github.url };
    }
    const admin = new DynamoDBClient({ endpoint: dynamodb.endpoint, ...LOCAL_AWS });
    const functionArchives = await ensureFunctionArchives({ onBuild: options.onProgress });
    // The functions run these archives (the provisioner copies them); the program need not serialize them again.
    setFunctionCodeSource(archivedFunctionCode(functionArchives));
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
      config: {
        ...localStackConfig({
          appId: app.appId,
          privateKeyPem: app.privateKeyPem,
          githubApiUrl: app.apiUrl,
          installUrl: github
            ? `${github.url}/apps/${LOCAL_APP_SLUG}/installations/new`
            : "https://github.com/settings/installations",
          corsAllowOrigins: options.corsAllowOrigins ?? ["http://localhost:5173"],
          // The install flow, projects and webhooks, against the emulated App (not with GitHub itself: its App's
          // OAuth client and webhook secret are not known here).
          ...(github && options.onboarding !== false
            ? { onboarding: { clientId: LOCAL_CLIENT_ID, ...appSecrets } }
            : {}),
        }),
        ...options.stackConfig,
      },
      secretKeys: ["slipway:githubAppPrivateKey", "slipway:githubAppClientSecret", "slipway:githubWebhookSecret"],
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
      ...(options.githubWaitScale !== undefined ? { [ENV.githubWaitScale]: String(options.githubWaitScale) } : {}),
      [ENV.ecrEndpoint]: aws.url,
      [ENV.logsEndpoint]: aws.url,
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

    const issuerKey = await loadOrCreateIssuerKey(options.stateDir);
    const issuer = await startLocalIssuer({ key: issuerKey });
    stopping.push(() => issuer.close());
    const corsOrigins = options.corsAllowOrigins ?? ["http://localhost:5173"];
    const api: HttpApi = await startHttpApi({
      fallback: createDashboardSite({
        config: () => ({
          apiUrl: "",
          issuer: LOCAL_ISSUER,
          clientId: LOCAL_AUDIENCE,
          authorizationEndpoint: `${apiUrl}${LOCAL_SIGN_IN_PATHS.authorize}`,
          tokenEndpoint: `${apiUrl}${LOCAL_SIGN_IN_PATHS.token}`,
        }),
        signIn: createLocalSignIn({
          privateKeyPem: issuerKey.privateKeyPem,
          users: () => (reposDir ? repositoryOwners(reposDir) : []),
          redirectOrigins: () => [apiUrl, `http://localhost:${port}`, ...corsOrigins],
        }),
      }),
      port,
      routes: apiRoutes(resources, functions),
      authorizer: authorizerOf(resources, issuer.issuerFetch),
      ...(resources.api.cors ? { cors: resources.api.cors as never } : {}),
      ...(resources.api.throttling ? { throttling: resources.api.throttling } : {}),
      accountId: ACCOUNT_ID,
      logger: (entry) => {
        // The access log, as API Gateway writes it; a 5xx is a line a person should see, the rest is for debugging.
        if (entry.status >= 500) logger.error("api request failed", { ...entry });
        else logger.info("api request", { ...entry });
      },
    });
    stopping.push(() => api.close());

    const tables = tableNames(stackOutputs);
    const forget = writeRunningPlatform(options.stateDir, {
      apiUrl,
      dynamodbEndpoint: dynamodb.endpoint,
      region: REGION,
      tables,
      pid: process.pid,
    });
    stopping.push(async () => forget());
    const documents = DynamoDBDocumentClient.from(admin, { marshallOptions: { removeUndefinedValues: true } });
    if (github && reposDir && !options.unlinked) {
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

    const eventBridge = startEventBridge({
      resources,
      functions,
      queues: eventSources.queues,
      iam,
      region: REGION,
      accountId: ACCOUNT_ID,
      logger,
      ...(options.asyncRetryDelaysMs ? { asyncRetryDelaysMs: options.asyncRetryDelaysMs } : {}),
      ...(options.schedules !== undefined ? { schedules: options.schedules } : {}),
    });
    stopping.push(() => eventBridge.stop());
    const stopEvents = aws.onCodeBuild({ onEvent: (event) => eventBridge.put(event) });
    stopping.push(async () => stopEvents());

    let buildRunner: BuildRunner | undefined;
    let sealedBuildTools: SealedBuildTools | undefined;
    if (options.runBuilds) {
      // Builds never run this machine's aws and docker: the audit scenario's stand-ins, or the sealed ones.
      if (!options.buildTools) sealedBuildTools = await prepareSealedBuildTools({ stateDir: options.stateDir });
      const runner = (buildRunner = startBuildRunner({
        aws,
        projects: resources.projects,
        repositories: resources.repositories,
        ...(sealedBuildTools ? { sealedTools: sealedBuildTools } : {}),
        iam,
        stateDir: options.stateDir,
        region: REGION,
        accountId: ACCOUNT_ID,
        logger,
        ...(options.buildTools ? { toolsDir: options.buildTools } : {}),
        ...(options.onBuildOutcome ? { onOutcome: options.onBuildOutcome } : {}),
      }));
      stopping.push(() => runner.stop());
    } else {
      const simulated = startSimulatedBuilds({
        aws,
        seconds: options.simulatedBuildSeconds ?? simulatedBuildSecondsFromEnvironment(),
        logger,
        ...(options.onBuildOutcome ? { onOutcome: options.onBuildOutcome } : {}),
      });
      stopping.push(() => simulated.stop());
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
      eventBridge,
      ...(buildRunner ? { buildRunner } : {}),
      ...(sealedBuildTools ? { sealedBuildTools } : {}),
      documents,
      dynamodbEndpoint: dynamodb.endpoint,
      dynamodbLocal: dynamodb,
      tables,
      token: (userId, tokenOptions = {}) =>
        mintToken({ privateKeyPem: issuerKey.privateKeyPem, sub: userId, ...tokenOptions }),
      async idle() {
        await eventSources.idle();
        await eventBridge.idle();
      },
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
    rateLimits: String(outputs.rateLimitsTableName),
    buildSlots: String(outputs.buildSlotsTableName),
  };
}

/** `SLIPWAY_SIMULATED_BUILD_SECONDS` (a number ≥ 0), else 5. */
export function simulatedBuildSecondsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLIPWAY_SIMULATED_BUILD_SECONDS;
  if (raw === undefined || raw === "") return 5;
  const seconds = Number(raw);
  if (!(seconds >= 0)) throw new Error(`SLIPWAY_SIMULATED_BUILD_SECONDS must be a number of seconds, not "${raw}"`);
  return seconds;
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

/** The stack's JWT authorizer, reaching the local issuer for its discovery document and keys. */
function authorizerOf(resources: LocalResources, issuerFetch: typeof fetch) {
  const [authorizer] = resources.api.authorizers.values();
  return authorizer ? { issuer: authorizer.issuer, audiences: authorizer.audiences, fetch: issuerFetch } : undefined;
}
