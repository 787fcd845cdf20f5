import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import anyTest, { type TestFn } from "ava";
import { BUILDERS } from "../runtime/builders";
import { ENV } from "../runtime/environment";
import { withDependencies } from "./helpers/fakeRepo";
import {
  insertRecord,
  pendingDeployment,
  startInspectorWorld,
  streamEvent,
  stores,
  type InspectorWorld,
} from "./helpers/inspectorWorld";
import { LAMBDA_RUNTIME } from "../components/functionBundle";
import { ensureFunctionArchives } from "../local/platform/archives/functionArchives";
import { lambdaNodeFlags } from "../local/platform/lambda/lambdaNodeFlags";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { findResource } from "./helpers/pulumiMocks";
import { loadStack } from "./helpers/stack";
import { createTables } from "./helpers/tables";

/**
 * The inspector as Lambda runs it: the archive `pulumi up` builds (Pulumi's ts-node compile, the callback serialized
 * and bundled), under Lambda's Node.js flags, beside only the runtime's AWS SDK, in its own Node process, with the
 * environment the stack gives it — pointed at local peers — handling a stream event end to end.
 */
const test = anyTest as TestFn<{ world: InspectorWorld; dir: string; variables: Record<string, string> }>;

test.before(async (t) => {
  const stack = await loadStack(undefined, { functionCode: "archives" }); // its environment; the code is the archive
  const inspector = findResource(stack.resources, "aws:lambda/function:Function", "slipway-inspector");
  const archives = await ensureFunctionArchives();
  t.context.dir = mkdtempSync(path.join(tmpdir(), "slipway-inspector-"));
  cpSync(archives.codeDir("slipway-inspector"), path.join(t.context.dir, "task"), { recursive: true });
  lambdaRuntimeModules(path.resolve(__dirname, ".."), path.join(t.context.dir, "runtime"));
  t.context.variables = inspector.inputs.environment.variables;
  t.context.world = await startInspectorWorld(
    {
      "acme/shop": {
        files: {
          "package.json": withDependencies(["express"], { scripts: { start: "node server.js" } }),
          "server.js": "",
        },
      },
    },
    { appId: t.context.variables[ENV.githubAppId]! },
  );
});

test.after.always(async (t) => {
  await t.context.world?.stop();
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
});

/** Runs the archive's `handler` on one event in a fresh Node process (a cold Lambda container). */
function invokeSerializedHandler(dir: string, environment: Record<string, string>, event: unknown): Promise<unknown> {
  const script = `
    const { handler } = require(${JSON.stringify(path.join(dir, "task", "__index.js"))});
    let input = "";
    process.stdin.on("data", (chunk) => (input += chunk)).on("end", async () => {
      const result = await handler(JSON.parse(input));
      process.stdout.write("\\n@@RESULT@@" + JSON.stringify(result));
    });`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [...lambdaNodeFlags(LAMBDA_RUNTIME), "-e", script],
      {
        cwd: path.join(dir, "task"),
        env: { ...environment, NODE_PATH: path.join(dir, "runtime", "node_modules"), PATH: process.env.PATH ?? "" },
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        const marker = stdout.lastIndexOf("@@RESULT@@");
        if (marker < 0) return reject(new Error(`no result; stdout: ${stdout}\nstderr: ${stderr}`));
        resolve(JSON.parse(stdout.slice(marker + "@@RESULT@@".length)));
      },
    );
    child.stdin!.end(JSON.stringify(event));
  });
}

test("the serialized inspector takes a pending deployment to BUILDING", async (t) => {
  const { world, variables, dir } = t.context;
  // Local peers named exactly as the stack named the real ones, so the function runs with its own environment.
  const tables = await createTables(world.dynamodb.endpoint, {
    deployments: variables[ENV.deploymentsTable],
    installations: variables[ENV.installationsTable],
    buildSlots: variables[ENV.buildSlotsTable],
  });
  world.aws.createBucket(variables[ENV.sourceBucket]!);
  const projects = JSON.parse(variables[ENV.buildProjects]!) as Record<string, string>;
  t.deepEqual(Object.keys(projects).sort(), [...BUILDERS].sort());
  for (const name of Object.values(projects)) world.aws.defineProject(name);
  const secretArn = world.aws.putSecret(variables[ENV.githubAppPrivateKeyArn]!, world.appKeys.privateKey);
  t.is(secretArn, variables[ENV.githubAppPrivateKeyArn]!);

  const { deployments, installations } = stores(world, tables);
  await installations.put({ userId: "alice", installationId: world.github.installationIdFor("acme") });
  const deployment = pendingDeployment({ userId: "alice", repository: "acme/shop" });
  await deployments.create(deployment);

  const result = await invokeSerializedHandler(
    dir,
    {
      ...variables,
      [ENV.githubApiUrl]: world.github.url,
      [ENV.dynamodbEndpoint]: world.dynamodb.endpoint,
      [ENV.secretsManagerEndpoint]: world.aws.url,
      [ENV.codebuildEndpoint]: world.aws.url,
      [ENV.s3Endpoint]: world.aws.url,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDINSPECTOR",
      AWS_SECRET_ACCESS_KEY: "not-a-secret",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    streamEvent(insertRecord(deployment)),
  );

  t.deepEqual(result, { batchItemFailures: [] });
  const stored = (await deployments.get(deployment.id))!;
  t.is(stored.status, "BUILDING", JSON.stringify(stored.statusReason ?? stored.lastError));
  t.is(stored.framework, "express");
  t.is(stored.builder, "node");
  const [build] = world.aws.builds();
  t.is(build!.projectName, projects.node!);
  t.is(stored.buildId, build!.id);
});
