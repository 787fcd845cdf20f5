import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CodeBuildClient, StartBuildCommand } from "@aws-sdk/client-codebuild";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { awsJsonError } from "../emulators/aws";
import { BUILDERS } from "../../runtime/builders";
import { silentLogger, type Logger } from "../../runtime/log";
import { BUILD_TOOL_STAND_INS } from "./buildRunner";
import type { NamedPolicy } from "./iam/policySimulator";
import type { RecordedCall } from "./iam/principals";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform } from "./platform";

/** What the scenario recorded: each role's calls and policies, and what each step ended as. */
export interface ScenarioRecording {
  /** Every distinct call each role made (allowed or not), by role name. */
  readonly callsByRole: Record<string, RecordedCall[]>;
  /** Each role's inline policies as the stack declared them, by role name. */
  readonly policiesByRole: Record<string, NamedPolicy[]>;
  /** Whose role it is, by role name: a function or a build project, by its name on the local platform. */
  readonly roleOwners: Record<string, RoleOwner>;
  /** Each step and how it ended (a deployment's final status and reason, a build's outcome…). */
  readonly steps: readonly ScenarioStep[];
}

export interface RoleOwner {
  readonly kind: "function" | "build project";
  readonly name: string;
}

export interface ScenarioStep {
  readonly name: string;
  /** What the step expects, and what happened: they differ when the platform misbehaved. */
  readonly expected: string;
  readonly actual: string;
}

export interface ScenarioOptions {
  /** Platform diagnostics. Default silent. */
  readonly logger?: Logger;
  /** How long one deployment or build may take to settle. Default 120 s. */
  readonly settleTimeoutMs?: number;
  /** The functions' output, line by line (diagnosing a scenario that does not settle). Default dropped. */
  readonly onFunctionLog?: (functionName: string, line: string) => void;
}

const OWNER = "demo";

/**
 * Repositories for the builders the examples do not cover, so every CodeBuild project (and its role) runs a build.
 * Each is the least a detection rule recognizes.
 */
const EXTRA_REPOSITORIES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "gradle-api": {
    "build.gradle":
      "plugins {\n  id 'org.springframework.boot' version '3.3.4'\n  id 'java'\n}\n" +
      "dependencies { implementation 'org.springframework.boot:spring-boot-starter-web' }\n",
  },
  "axum-api": {
    "Cargo.toml": '[package]\nname = "api"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\naxum = "0.7"\n',
    "src/main.rs": "fn main() {}\n",
  },
  "rails-app": { Gemfile: 'source "https://rubygems.org"\ngem "rails", "~> 7.1"\n' },
  "laravel-app": { "composer.json": '{"require":{"laravel/framework":"^11.0"}}\n', artisan: "" },
  dockerized: { Dockerfile: 'FROM public.ecr.aws/docker/library/alpine:3.20\nCMD ["echo", "hi"]\n' },
};

/** One deployment per builder, each expected to reach BUILDING and its build to succeed. */
const BUILDS: Readonly<Record<(typeof BUILDERS)[number], string>> = {
  maven: "petclinic",
  node: "storefront",
  python: "blog",
  go: "inventory-api",
  static: "landing",
  gradle: "gradle-api",
  rust: "axum-api",
  ruby: "rails-app",
  php: "laravel-app",
  docker: "dockerized",
};

/**
 * Runs a representative end-to-end scenario on the local platform (`npm start`'s, with `--run-builds` and the
 * `aws`/`docker` stand-ins) and returns every AWS call each role made, with the roles' policies:
 * - a deployment per builder, each to BUILDING, its build run with the project's service role (source download,
 *   logs, ECR Public and ECR logins, the push);
 * - a create with an Idempotency-Key and its replay; a read and a paged list of the user's deployments;
 * - a repository with nothing to build (NO_FRAMEWORK);
 * - a deployment whose builds CodeBuild keeps refusing with 500s: each retry of the stream looks for the build it
 *   may have started (ListBuildsForProject, BatchGetBuilds), then the mapping gives up, sends the batch to the
 *   failure queue, and the queue's consumer fails the deployment (INSPECTION_ABANDONED);
 * - after the builds (runSteps' lifecycle part): a build's log read through the API; a cancel while a build runs;
 *   a build that starts for a deployment already canceled (stopped by its first event); ECR failing as a build ends
 *   (the event goes to the dead-letter queue, the reconciler settles the deployment); a queued start interrupted
 *   long ago (the reconciler looks for its build before starting it). The per-user limit (2) queues the ten first
 *   deployments, so the build events function starts queued builds as slots free.
 * Needs Java (DynamoDB Local) and a free minute or two; leaves nothing behind.
 */
export async function recordScenarioCalls(options: ScenarioOptions = {}): Promise<ScenarioRecording> {
  const timeoutMs = options.settleTimeoutMs ?? 120_000;
  const reposDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-audit-repos-"));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-audit-state-"));
  let platform: Platform | undefined;
  try {
    fs.cpSync(path.join(DEFAULT_REPOS_DIR, "demo"), path.join(reposDir, OWNER), { recursive: true });
    for (const [name, files] of Object.entries(EXTRA_REPOSITORIES)) {
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(reposDir, OWNER, name, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
      }
    }
    platform = await startPlatform({
      port: 0,
      stateDir,
      fresh: true,
      reposDir,
      runBuilds: true,
      buildTools: BUILD_TOOL_STAND_INS,
      // The reconciler is run by the steps (not on a timer) and looks at every active deployment when it runs;
      // Lambda's asynchronous retries wait milliseconds, not minutes.
      schedules: false,
      // The onboarding functions (install flow, projects, webhooks) are not in this scenario yet: without them the
      // audit covers exactly the roles the scenario exercises.
      onboarding: false,
      // One user makes every request here; the per-user limit on deployments is not what this audits.
      stackConfig: { "slipway:reconcileAfterMinutes": "0", "slipway:deploymentsPerUserPerMinute": "1000" },
      asyncRetryDelaysMs: [200, 400],
      logger: options.logger ?? silentLogger,
      ...(options.onFunctionLog ? { onFunctionLog: options.onFunctionLog } : {}),
    });
    const steps = await runSteps(platform, timeoutMs);
    await platform.idle();
    await platform.buildRunner?.idle();
    return { ...collect(platform), steps };
  } finally {
    await platform?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
    fs.rmSync(reposDir, { recursive: true, force: true });
  }
}

async function runSteps(platform: Platform, timeoutMs: number): Promise<ScenarioStep[]> {
  const token = await platform.token(OWNER);
  const call = (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) =>
    apiCall(platform, token, method, route, body, headers);
  const steps: ScenarioStep[] = [];

  const builds = await Promise.all(
    Object.entries(BUILDS).map(async ([builder, name]) => {
      const created = await call("POST", "/deployments", { repository: `${OWNER}/${name}` });
      return { builder, name, id: String(created.body?.id) };
    }),
  );
  for (const { builder, name, id } of builds) {
    const deployment = await settled(platform, token, id, timeoutMs);
    const started = deployment.status === "BUILDING" || deployment.status === "SUCCEEDED";
    steps.push({
      name: `${OWNER}/${name} deploys on the ${builder} builder`,
      expected: `build started on ${builder}`,
      actual: `${started ? "build started" : deployment.status} on ${deployment.builder ?? deployment.statusReason?.code ?? ""}`,
    });
  }
  await platform.buildRunner?.idle();
  for (const { name, id } of builds) {
    const deployment = (await call("GET", `/deployments/${id}`)).body;
    const build = platform.aws.builds().find((candidate) => candidate.id === deployment.buildId);
    steps.push({ name: `${OWNER}/${name}'s build runs`, expected: "SUCCEEDED", actual: build?.buildStatus ?? "none" });
  }

  // Lambda delivers a stream record at least once: one delivered again after its deployment moved on is skipped,
  // once the inspector has read where the deployment is (its GetItem). Sent as Lambda would send it.
  const again = builds[0]!;
  const inspector = platform.functions.get("slipway-inspector")!;
  const beforeRedelivery = (await call("GET", `/deployments/${again.id}`)).body;
  const redelivery = await inspector.invoke({
    Records: [
      {
        eventID: "redelivered",
        eventName: "INSERT",
        eventSource: "aws:dynamodb",
        awsRegion: "us-east-1",
        dynamodb: {
          Keys: { id: { S: again.id } },
          NewImage: { id: { S: again.id }, userId: { S: OWNER }, status: { S: "PENDING" } },
          SequenceNumber: "1",
        },
      },
    ],
  });
  const afterRedelivery = (await call("GET", `/deployments/${again.id}`)).body;
  steps.push({
    name: "a stream record delivered again after its deployment moved on is skipped",
    expected: `no failures, still ${beforeRedelivery.status}`,
    actual: `${redelivery.ok && (redelivery.result as { batchItemFailures?: unknown[] }).batchItemFailures?.length === 0 ? "no failures" : JSON.stringify(redelivery)}, still ${afterRedelivery.status}`,
  });

  const keyed = { repository: `${OWNER}/landing`, ref: "main" };
  const first = await call("POST", "/deployments", keyed, { "idempotency-key": "audit-scenario-1" });
  const replay = await call("POST", "/deployments", keyed, { "idempotency-key": "audit-scenario-1" });
  steps.push({
    name: "a create with an Idempotency-Key is replayed",
    expected: `${first.body?.id} replayed`,
    actual: `${replay.body?.id} ${replay.headers.get("idempotent-replayed") === "true" ? "replayed" : "not replayed"}`,
  });
  await settled(platform, token, String(first.body?.id), timeoutMs);

  const page = await call("GET", "/deployments?limit=2");
  const next = await call("GET", `/deployments?limit=2&cursor=${encodeURIComponent(String(page.body?.nextCursor))}`);
  steps.push({
    name: "the user's deployments are listed a page at a time",
    expected: "2 + 2",
    actual: `${page.body?.items?.length} + ${next.body?.items?.length}`,
  });

  const docs = await call("POST", "/deployments", { repository: `${OWNER}/docs` });
  const nothing = await settled(platform, token, String(docs.body?.id), timeoutMs);
  steps.push({
    name: "a repository with nothing to build fails",
    expected: "FAILED NO_FRAMEWORK",
    actual: `${nothing.status} ${nothing.statusReason?.code ?? ""}`,
  });

  platform.aws.inject({
    operation: "codebuild:StartBuild",
    ...awsJsonError("InternalFailure", "CodeBuild could not start the build.", 500),
    times: Infinity,
  });
  try {
    const flaky = await call("POST", "/deployments", { repository: `${OWNER}/notes-api` });
    const abandoned = await settled(platform, token, String(flaky.body?.id), timeoutMs * 2);
    steps.push({
      name: "a deployment CodeBuild keeps refusing is given up on and failed by the failure queue's consumer",
      expected: "FAILED INSPECTION_ABANDONED",
      actual: `${abandoned.status} ${abandoned.statusReason?.code ?? ""}`,
    });
  } finally {
    platform.aws.reset();
  }
  steps.push(...(await lifecycleSteps(platform, token, builds[0]!.id, timeoutMs)));
  return steps;
}

/** After BUILDING: logs, cancel, an orphan build, a lost outcome, an interrupted queued start. */
async function lifecycleSteps(
  platform: Platform,
  token: string,
  builtId: string,
  timeoutMs: number,
): Promise<ScenarioStep[]> {
  const call = (method: string, route: string, body?: unknown) => apiCall(platform, token, method, route, body);
  const steps: ScenarioStep[] = [];
  const statusOf = async (id: string) => (await call("GET", `/deployments/${id}`)).body ?? {};
  const until = async (id: string, statuses: readonly string[]) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const deployment = await statusOf(id);
      if (statuses.includes(deployment.status) || Date.now() > deadline) return deployment;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const FINAL = ["SUCCEEDED", "FAILED", "CANCELED"];
  const reconcile = async () => {
    await platform.buildRunner?.idle();
    await platform.idle();
    platform.eventBridge.runSchedule("slipway-reconcile");
    await platform.idle();
  };
  // CodeBuild's source download waits 8 s, so a build stays in PROVISIONING long enough to act on it.
  const slowDownload = (times: number) => platform.aws.inject({ operation: "s3:GetObject", delayMs: 8000, times });

  const log = await call("GET", `/deployments/${builtId}/logs`);
  steps.push({
    name: "a build's log is read through the API",
    expected: "200 with lines",
    actual: `${log.status} ${log.body?.events?.length > 0 ? "with lines" : "without lines"}`,
  });

  slowDownload(1);
  const slow = String((await call("POST", "/deployments", { repository: `${OWNER}/landing` })).body?.id);
  await until(slow, ["BUILDING", ...FINAL]);
  const cancel = await call("POST", `/deployments/${slow}/cancel`);
  steps.push({
    name: "a deployment canceled while it builds has its build stopped and ends CANCELED",
    expected: "202 CANCELED",
    actual: `${cancel.status} ${(await until(slow, FINAL)).status}`,
  });
  platform.aws.reset();

  const late = String((await call("POST", "/deployments", { repository: `${OWNER}/landing` })).body?.id);
  await call("POST", `/deployments/${late}/cancel`);
  await until(late, FINAL);
  await platform.idle();
  // Its StartBuild arrives after the cancel (sent by the platform's administrator, as the inspector's late call).
  const staged = platform.aws.builds().find((build) => build.sourceLocationOverride)!;
  slowDownload(1);
  const codebuild = new CodeBuildClient({
    endpoint: platform.aws.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDAUDITSCENARIO", secretAccessKey: "administrator" },
  });
  const { build: orphan } = await codebuild.send(
    new StartBuildCommand({
      projectName: staged.projectName,
      sourceTypeOverride: "S3",
      sourceLocationOverride: staged.sourceLocationOverride!,
      environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: late, type: "PLAINTEXT" }],
    }),
  );
  codebuild.destroy();
  await platform.buildRunner?.idle();
  await platform.idle();
  steps.push({
    name: "a build that starts for a deployment already canceled is stopped by its first event",
    expected: "STOPPED CANCELED",
    actual: `${platform.aws.builds().find((build) => build.id === orphan?.id)?.buildStatus} ${(await statusOf(late)).status}`,
  });
  platform.aws.reset();

  platform.aws.inject({
    operation: "ecr:DescribeImages",
    ...awsJsonError("ServerException", "ECR is not answering.", 500),
    times: Infinity,
  });
  const unlucky = String((await call("POST", "/deployments", { repository: `${OWNER}/landing` })).body?.id);
  await until(unlucky, ["BUILDING", ...FINAL]);
  await platform.buildRunner?.idle();
  await platform.idle();
  const deadLetters = platform.eventSources.queues.get(deadLetterQueueArn(platform))?.counts().visible ?? 0;
  platform.aws.reset();
  await reconcile();
  steps.push({
    name: "ECR failing as a build ends: the event goes to the dead-letter queue, the reconciler settles it",
    expected: "1 dead letter, SUCCEEDED",
    actual: `${deadLetters} dead letter, ${(await statusOf(unlucky)).status}`,
  });

  slowDownload(2);
  const three = await Promise.all(
    [0, 1, 2].map(async () =>
      String((await call("POST", "/deployments", { repository: `${OWNER}/landing` })).body?.id),
    ),
  );
  const statuses = await Promise.all(three.map((id) => until(id, ["BUILDING", "QUEUED", ...FINAL])));
  const queued = three[statuses.findIndex((deployment) => deployment.status === "QUEUED")];
  if (queued) {
    // Its start was marked ten minutes ago and then interrupted (a crash): past CodeBuild's idempotency window.
    await platform.documents.send(
      new UpdateCommand({
        TableName: platform.tables.deployments,
        Key: { id: queued },
        UpdateExpression: "SET buildRequestedAt = :then",
        ExpressionAttributeValues: { ":then": new Date(Date.now() - 10 * 60_000).toISOString() },
      }),
    );
  }
  await reconcile();
  await reconcile();
  steps.push({
    name: "a queued start interrupted long ago is resumed by the reconciler, which looks for its build first",
    expected: "BUILDING+BUILDING+QUEUED → all SUCCEEDED",
    actual: `${statuses
      .map((d) => d.status)
      .sort()
      .join("+")} → ${
      (await Promise.all(three.map((id) => until(id, FINAL)))).every((d) => d.status === "SUCCEEDED")
        ? "all SUCCEEDED"
        : "not all SUCCEEDED"
    }`,
  });
  platform.aws.reset();
  return steps;
}

/** The build events function's on-failure destination, as the stack declared it. */
function deadLetterQueueArn(platform: Platform): string {
  const [config] = [...platform.resources.invokeConfigs.values()];
  return String(config?.destinationConfig?.onFailure?.destination);
}

function collect(platform: Platform): Omit<ScenarioRecording, "steps"> {
  const callsByRole: Record<string, RecordedCall[]> = {};
  for (const { role, action, resource, context } of platform.iam.calls()) {
    (callsByRole[role] ??= []).push({ action, resource, ...(context ? { context } : {}) });
  }
  const roleOwners: Record<string, RoleOwner> = {};
  for (const declared of platform.resources.functions.values()) {
    roleOwners[declared.roleName] = { kind: "function", name: declared.name };
  }
  for (const [name, project] of platform.resources.projects) {
    const roleArn = String(project.serviceRole ?? "");
    roleOwners[roleArn.slice(roleArn.lastIndexOf("/") + 1)] = { kind: "build project", name };
  }
  const policiesByRole = Object.fromEntries(
    platform.iam.roleNames().map((role) => [role, platform.iam.policiesOf(role)]),
  );
  return { callsByRole, policiesByRole, roleOwners };
}

async function apiCall(
  platform: Platform,
  token: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${platform.apiUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Where a deployment waits for the inspector or for a build slot. */
const WAITING = ["PENDING", "PROCESSING", "QUEUED"];

/**
 * GET /deployments/{id} until it has a build or an outcome (BUILDING, SUCCEEDED, FAILED, CANCELED), or the time runs
 * out (then as it was).
 */
async function settled(platform: Platform, token: string, id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await apiCall(platform, token, "GET", `/deployments/${id}`);
    if ((body?.status && !WAITING.includes(body.status)) || Date.now() > deadline) return body ?? {};
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
