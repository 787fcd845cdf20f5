import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { CodeBuildClient, StartBuildCommand } from "@aws-sdk/client-codebuild";
import { ECRClient } from "@aws-sdk/client-ecr";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { startAws, type CodeBuildEvent } from "../local/emulators/aws";
import { startDynamoDbLocal } from "../local/platform/dynamodbLocal";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform } from "../local/platform/platform";
import { createBuildStarter } from "../runtime/build/buildStarter";
import { DeploymentStore } from "../runtime/deployments/deploymentStore";
import { BuildSlots } from "../runtime/lifecycle/buildSlots";
import { createCodeBuildBuilds } from "../runtime/lifecycle/codeBuildBuilds";
import { createImageRegistry } from "../runtime/lifecycle/imageRegistry";
import { reconcile } from "../runtime/lifecycle/reconcile";
import { silentLogger } from "../runtime/log";
import { createTables, localDocumentClient } from "../test/helpers/tables";

const REPOSITORIES = ["blog", "inventory-api", "landing", "notes-api", "petclinic", "storefront"];
const SIMULATED_SECONDS = 1;
const FINAL = ["SUCCEEDED", "FAILED", "CANCELED"];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const ms = (value: number) => `${value.toFixed(0)} ms`;

async function deploy(platform: Platform, token: string, repository: string): Promise<string> {
  const response = await fetch(`${platform.apiUrl}/deployments`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ repository }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 202 || !body.id) {
    throw new Error(`POST /deployments answered ${response.status}: ${JSON.stringify(body)}`);
  }
  return body.id;
}

/** Reads the item every 5 ms as the platform's administrator until its status is final; when it first saw it. */
async function untilFinal(
  platform: Platform,
  id: string,
  timeoutMs = 180_000,
): Promise<{ status: string; at: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { Item } = await platform.documents.send(
      new GetCommand({ TableName: platform.tables.deployments, Key: { id }, ConsistentRead: true }),
    );
    const status = String(Item?.status);
    if (FINAL.includes(status) || performance.now() > deadline) return { status, at: performance.now() };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * POST → SUCCEEDED on the local platform with simulated builds (each 1 s), one deployment at a time, and the
 * latency from CodeBuild's final state change event (sent by the local CodeBuild) to the deployment's final status
 * (the local EventBridge, the build events function, its conditional write, the ECR lookup).
 */
async function endToEnd(): Promise<void> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-bench-lifecycle-"));
  const platform = await startPlatform({
    port: 0,
    stateDir,
    fresh: true,
    reposDir: DEFAULT_REPOS_DIR,
    simulatedBuildSeconds: SIMULATED_SECONDS,
    schedules: false,
    // One user deploys 30 times here: the per-user limit (10 a minute) would measure the limit.
    stackConfig: { "slipway:deploymentsPerUserPerMinute": "1000" },
    logger: silentLogger,
  });
  const finalEventAt = new Map<string, number>();
  platform.aws.onCodeBuild({
    onEvent: (event: CodeBuildEvent) => {
      const status = event.detail["build-status"];
      if (typeof status === "string" && status !== "IN_PROGRESS") {
        finalEventAt.set(String(event.detail["build-id"]).split(":build/")[1]!, performance.now());
      }
    },
  });
  try {
    const token = await platform.token("demo");
    const totals: number[] = [];
    const eventToStatus: number[] = [];
    let notSucceeded = 0;
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const id = await deploy(platform, token, `demo/${REPOSITORIES[i % REPOSITORIES.length]}`);
      const { status, at } = await untilFinal(platform, id);
      totals.push(at - started);
      if (status !== "SUCCEEDED") notSucceeded++;
      const build = platform.aws
        .builds()
        .find((b) => b.environmentVariablesOverride?.some((v) => v.name === "DEPLOYMENT_ID" && v.value === id));
      const emitted = build ? finalEventAt.get(build.id) : undefined;
      if (emitted !== undefined) eventToStatus.push(at - emitted);
    }
    console.log(
      `POST → SUCCEEDED, 30 sequential deployments with ${SIMULATED_SECONDS} s simulated builds: ` +
        `p50 ${ms(percentile(totals, 50))}, p95 ${ms(percentile(totals, 95))}, max ${ms(Math.max(...totals))} ` +
        `(of which the build itself: ${SIMULATED_SECONDS * 1000} ms; ${notSucceeded} not SUCCEEDED)`,
    );
    console.log(
      `final build event → deployment status: p50 ${ms(percentile(eventToStatus, 50))}, ` +
        `p95 ${ms(percentile(eventToStatus, 95))}, max ${ms(Math.max(...eventToStatus))} over ${eventToStatus.length} builds`,
    );
  } finally {
    await platform.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * The reconciler's cost: 1,000 deployments stuck BUILDING (their builds ended, every event lost), settled by one
 * run of the real reconcile() against DynamoDB Local and the AWS emulator. Counts every request it makes, by
 * operation, and its time.
 */
async function reconcilerCost(): Promise<void> {
  const STUCK = 1000;
  const dynamodb = await startDynamoDbLocal();
  const aws = await startAws();
  try {
    const client = localDocumentClient(dynamodb.endpoint);
    const tables = await createTables(dynamodb.endpoint);
    const store = new DeploymentStore({ client, deploymentsTable: tables.deployments });
    const project = "slipway-static";
    aws.defineProject(project);
    aws.createRepository("slipway-images", { imageTagMutability: "IMMUTABLE" });
    const credentials = { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" };
    const codebuild = new CodeBuildClient({ endpoint: aws.url, region: "us-east-1", credentials });
    const started = performance.now();
    for (let batch = 0; batch < STUCK / 50; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const id = randomUUID();
          const now = new Date().toISOString();
          await store.create({
            id,
            userId: `user-${id.slice(0, 2)}`,
            repository: "demo/landing",
            status: "PROCESSING",
            createdAt: now,
            updatedAt: now,
          });
          const { build } = await codebuild.send(
            new StartBuildCommand({
              projectName: project,
              environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: id, type: "PLAINTEXT" }],
            }),
          );
          await store.transition(id, "BUILDING", { buildId: build!.id! });
          aws.finishBuild(build!.id!, "SUCCEEDED");
          aws.putImage("slipway-images", id, `sha256:${id.replace(/-/g, "").padEnd(64, "0")}`);
        }),
      );
    }
    console.log(`(set up ${STUCK} stuck deployments in ${((performance.now() - started) / 1000).toFixed(1)} s)`);

    let dynamodbRequests = 0;
    const byOperation = new Map<string, number>();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        dynamodbRequests++;
        const name = `dynamodb:${String(context.commandName).replace(/Command$/, "")}`;
        byOperation.set(name, (byOperation.get(name) ?? 0) + 1);
        return next(args);
      },
      { step: "initialize", name: "countRequests" },
    );
    aws.reset();
    const ecr = new ECRClient({ endpoint: aws.url, region: "us-east-1", credentials });
    const began = performance.now();
    const report = await reconcile({
      deployments: store,
      slots: new BuildSlots({ client, table: tables.buildSlots }),
      builds: createBuildStarter(codebuild),
      codebuild: createCodeBuildBuilds(codebuild),
      images: createImageRegistry(ecr, "000000000000.dkr.ecr.us-east-1.localhost/slipway-images"),
      maxBuildsPerUser: 2,
      staleAfterMs: 0,
      queuedAfterMs: 0,
      logger: silentLogger,
    });
    const seconds = (performance.now() - began) / 1000;
    for (const record of aws.requests()) {
      const name = record.operation ?? "?";
      byOperation.set(name, (byOperation.get(name) ?? 0) + 1);
    }
    const awsRequests = aws.requests().length;
    const total = dynamodbRequests + awsRequests;
    console.log(
      `reconciler, one run over ${STUCK} stuck deployments: settled ${report.settled}, ${report.errors} errors, ` +
        `${seconds.toFixed(1)} s; ${total} requests = ${(total / STUCK).toFixed(2)} per deployment ` +
        `(${dynamodbRequests} DynamoDB, ${awsRequests} CodeBuild/ECR)`,
    );
    console.log(
      `  by operation: ${[...byOperation]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => `${name} ${count}`)
        .join(", ")}`,
    );
    ecr.destroy();
    codebuild.destroy();
    client.destroy();
  } finally {
    await aws.close();
    await dynamodb.stop();
  }
}

/** The build lifecycle on the local platform: end to end, event latency, and what the reconciler costs. */
export async function runLifecycleBench(): Promise<void> {
  await endToEnd();
  await reconcilerCost();
}
