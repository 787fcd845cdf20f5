import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
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
  /** Whose role it is: `function <name>` or `build project <name>`, by role name. */
  readonly roleOwners: Record<string, string>;
  /** Each step and how it ended (a deployment's final status and reason, a build's outcome…). */
  readonly steps: readonly ScenarioStep[];
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
 *   failure queue, and the queue's consumer fails the deployment (INSPECTION_ABANDONED).
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
      logger: options.logger ?? silentLogger,
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
  const token = platform.token(OWNER);
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
    steps.push({
      name: `${OWNER}/${name} deploys on the ${builder} builder`,
      expected: `BUILDING ${builder}`,
      actual: `${deployment.status} ${deployment.builder ?? deployment.statusReason?.code ?? ""}`,
    });
  }
  await platform.buildRunner?.idle();
  for (const { name, id } of builds) {
    const deployment = (await call("GET", `/deployments/${id}`)).body;
    const build = platform.aws.builds().find((candidate) => candidate.id === deployment.buildId);
    steps.push({ name: `${OWNER}/${name}'s build runs`, expected: "SUCCEEDED", actual: build?.buildStatus ?? "none" });
  }

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
  return steps;
}

function collect(platform: Platform): Omit<ScenarioRecording, "steps"> {
  const callsByRole: Record<string, RecordedCall[]> = {};
  for (const { role, action, resource, context } of platform.iam.calls()) {
    (callsByRole[role] ??= []).push({ action, resource, ...(context ? { context } : {}) });
  }
  const roleOwners: Record<string, string> = {};
  for (const declared of platform.resources.functions.values())
    roleOwners[declared.roleName] = `function ${declared.name}`;
  for (const [name, project] of platform.resources.projects) {
    const roleArn = String(project.serviceRole ?? "");
    roleOwners[roleArn.slice(roleArn.lastIndexOf("/") + 1)] = `build project ${name}`;
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

/** GET /deployments/{id} until it leaves PENDING/PROCESSING, or the time runs out (then as it was). */
async function settled(platform: Platform, token: string, id: string, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await apiCall(platform, token, "GET", `/deployments/${id}`);
    if (body?.status === "BUILDING" || body?.status === "FAILED" || Date.now() > deadline) return body ?? {};
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
