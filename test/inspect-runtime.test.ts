import { readZip } from "./helpers/zipEntries";
import anyTest, { type TestFn } from "ava";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from "@aws-sdk/client-dynamodb-streams";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Deployment } from "../runtime/deployment";
import { awsJsonError } from "../local/emulators/aws";
import { secondaryRateLimit } from "../local/emulators/github";
import { DeploymentStore } from "../runtime/deployments/store";
import { createInspectorHandler } from "../runtime/inspect/handlers";
import { inspectDeployment } from "../runtime/inspect/inspectDeployment";
import { LOCAL_AWS } from "./helpers/dynamodbLocal";
import { generateAppKeys, manualClock } from "./helpers/emulators";
import { pomXml, withDependencies } from "./helpers/fakeRepo";
import {
  INSTALL_URL,
  insertRecord,
  inspectorEnvironment,
  pendingDeployment,
  SOURCE_BUCKET,
  startInspectorWorld,
  streamEvent,
  stores,
  type InspectorWorld,
} from "./helpers/inspectorWorld";

// One world (DynamoDB Local + AWS and GitHub emulators) per file; each test gets fresh tables. Serial: the emulators'
// fault injections and request logs are shared, and so is @octokit/auth-app's in-flight token de-duplication.
const test = anyTest as TestFn<{ world: InspectorWorld }>;

const PETCLINIC = {
  "pom.xml": pomXml({
    parent: "org.springframework.boot:spring-boot-starter-parent",
    dependencies: ["org.springframework.boot:spring-boot-starter-web"],
    plugins: ["org.springframework.boot:spring-boot-maven-plugin"],
  }),
  "src/main/java/com/example/App.java": "class App {}",
};
const WEB = {
  "package.json": withDependencies(["next", "react", "react-dom"], {
    scripts: { build: "next build", start: "next start" },
  }),
};

const awsClock = manualClock();

test.before(async (t) => {
  t.context.world = await startInspectorWorld(
    {
      "acme/petclinic": { files: PETCLINIC, tags: { "v1.0.0": "main" } },
      "acme/web": { files: WEB },
      "acme/notes": { files: { "README.md": "# just notes\n", "docs/intro.md": "hello" } },
    },
    { awsClock: awsClock.now },
  );
});
test.after.always(async (t) => {
  await t.context.world?.stop();
});
test.afterEach.always((t) => {
  t.context.world.github.reset();
  t.context.world.aws.reset();
});

/** Fresh tables, alice registered for acme's installation, and the inspector's real handler built from its environment. */
async function setUp(world: InspectorWorld) {
  const { env, tables } = await inspectorEnvironment(world);
  const { deployments, installations } = stores(world, tables);
  await installations.put({
    userId: "alice",
    installationId: world.github.installationIdFor("acme"),
    accountLogin: "acme",
  });
  const handler = createInspectorHandler(env);
  const deploy = async (repository: string, fields: Record<string, unknown> = {}) => {
    const deployment = pendingDeployment({ userId: "alice", repository, ...fields });
    await deployments.create(deployment);
    return deployment;
  };
  const buildsFor = (id: string) =>
    world.aws
      .builds()
      .filter((b) => b.environmentVariablesOverride?.some((v) => v.name === "DEPLOYMENT_ID" && v.value === id));
  return { handler, deployments, installations, deploy, buildsFor, tables, env };
}

test.serial(
  "a Spring Boot repository goes PENDING → BUILDING on the maven project, at the resolved commit, from staged source",
  async (t) => {
    const { world } = t.context;
    const { handler, deployments, deploy, buildsFor } = await setUp(world);
    const deployment = await deploy("acme/petclinic", { ref: "v1.0.0" });

    const response = await handler(streamEvent(insertRecord(deployment)));

    t.deepEqual(response.batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "BUILDING");
    t.is(stored.framework, "spring-boot");
    t.is(stored.builder, "maven");
    t.is(stored.rootDirectory, "");
    t.regex(stored.commitSha!, /^[0-9a-f]{40}$/);
    const [build, ...others] = buildsFor(deployment.id);
    t.deepEqual(others, []);
    t.is(stored.buildId, build!.id);
    t.is(build!.projectName, "slipway-maven");
    t.is(build!.sourceTypeOverride, "S3");
    t.is(build!.sourceLocationOverride, `${SOURCE_BUCKET}/sources/${deployment.id}.zip`);
    const variables = Object.fromEntries(build!.environmentVariablesOverride!.map((v) => [v.name, v.value]));
    t.is(variables.COMMIT_SHA, stored.commitSha);
    t.is(variables.REPOSITORY, "acme/petclinic");
    t.is(variables.FRAMEWORK, "spring-boot");
    t.false(JSON.stringify(variables).includes("ghs_"), "no GitHub token reaches the build");
    const staged = world.aws.getObject(SOURCE_BUCKET, `sources/${deployment.id}.zip`)!;
    const entries = readZip(Buffer.from(staged.body)).entries.map((entry) => entry.path);
    t.true(
      entries.some((name) => name.endsWith("/pom.xml")),
      entries.join(", "),
    );
    t.true(entries.every((name) => name.startsWith(`acme-petclinic-${stored.commitSha!.slice(0, 7)}/`)));
  },
);

/** Every version of one deployment the table's stream recorded, oldest first: one per write that changed it. */
async function versionsOf(world: InspectorWorld, table: string, id: string): Promise<Deployment[]> {
  const { Table } = await new DynamoDBClient({ endpoint: world.dynamodb.endpoint, ...LOCAL_AWS }).send(
    new DescribeTableCommand({ TableName: table }),
  );
  const streams = new DynamoDBStreamsClient({ endpoint: world.dynamodb.endpoint, ...LOCAL_AWS });
  const streamArn = Table!.LatestStreamArn!;
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const versions: { sequence: bigint; deployment: Deployment }[] = [];
  for (const shard of StreamDescription!.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: "TRIM_HORIZON" }),
    );
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const record of page.Records ?? []) {
        const image = record.dynamodb?.NewImage;
        const deployment = image ? (unmarshall(image as never) as Deployment) : undefined;
        if (deployment?.id === id) versions.push({ sequence: BigInt(record.dynamodb!.SequenceNumber!), deployment });
      }
      // An open shard answers an empty page at its end, with an iterator for what comes later.
      iterator = (page.Records ?? []).length > 0 ? page.NextShardIterator : undefined;
    }
  }
  return versions.sort((a, b) => (a.sequence < b.sequence ? -1 : 1)).map((version) => version.deployment);
}

test.serial(
  "PENDING → BUILDING writes the deployment three times: the claim, the plan with the start, BUILDING",
  async (t) => {
    const { world } = t.context;
    const { handler, deploy, tables } = await setUp(world);
    const deployment = await deploy("acme/web");

    t.deepEqual((await handler(streamEvent(insertRecord(deployment)))).batchItemFailures, []);

    const versions = await versionsOf(world, tables.deployments, deployment.id);
    t.deepEqual(
      versions.map((version) => version.status),
      ["PENDING", "PROCESSING", "PROCESSING", "BUILDING"],
    );
    const started = versions[2]!;
    t.truthy(started.buildRequestedAt, "the start is recorded before StartBuild");
    t.like(started, { framework: "nextjs", builder: "node", rootDirectory: "" }, "with the plan, in the same write");
    t.regex(started.commitSha ?? "", /^[0-9a-f]{40}$/);
    t.is(started.buildId, undefined);
  },
);

test.serial("a duplicate delivery, in one batch or later, starts one build", async (t) => {
  const { handler, deployments, deploy, buildsFor } = await setUp(t.context.world);
  const deployment = await deploy("acme/web");
  const record = insertRecord(deployment);

  const first = await handler(streamEvent(record, record));
  const again = await handler(streamEvent(record));

  t.deepEqual(first.batchItemFailures, []);
  t.deepEqual(again.batchItemFailures, []);
  t.is(buildsFor(deployment.id).length, 1);
  const stored = (await deployments.get(deployment.id))!;
  t.is(stored.status, "BUILDING");
  t.is(stored.framework, "nextjs");
  t.is(stored.builder, "node");
});

test.serial("a crash while asking CodeBuild is resumed by the retry, with one build", async (t) => {
  const { world } = t.context;
  const { env, deployments, deploy, buildsFor } = await setUp(world);
  const deployment = await deploy("acme/petclinic");
  // First attempt: StartBuild never answers (the container is lost with the request in flight).
  world.aws.inject({ operation: "codebuild:StartBuild", hang: true, times: 1 });
  const firstAttempt = createInspectorHandler(env)(streamEvent(insertRecord(deployment)));
  void firstAttempt.catch(() => undefined);
  for (let i = 0; i < 100 && !world.aws.requests().some((r) => r.operation === "codebuild:StartBuild"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const midway = (await deployments.get(deployment.id))!;
  t.is(midway.status, "PROCESSING");
  t.truthy(midway.buildRequestedAt, "the attempt to build was recorded first");

  // The stream's retry, in a fresh container, resumes the deployment.
  const retry = await createInspectorHandler(env)(streamEvent(insertRecord(deployment)));
  t.deepEqual(retry.batchItemFailures, []);
  const stored = (await deployments.get(deployment.id))!;
  t.is(stored.status, "BUILDING");
  t.is(stored.attempts, 2);
  t.is(buildsFor(deployment.id).length, 1);
});

test.serial(
  "a build started before a crash is found on resume, even after CodeBuild's 5-minute idempotency window",
  async (t) => {
    const { world } = t.context;
    const { env, deployments, deploy, buildsFor, tables } = await setUp(world);
    const deployment = await deploy("acme/web");
    // The first attempt got as far as starting the build (recorded by CodeBuild) and died before writing BUILDING:
    // run the real steps, but with a store whose BUILDING write crashes.
    const handler = createInspectorHandler(env);
    const realStore = stores(world, tables).deployments;
    let crashed = false;
    const original = DeploymentStore.prototype.transition;
    DeploymentStore.prototype.transition = async function (this: DeploymentStore, id, to, fields, options) {
      if (to === "BUILDING" && !crashed) {
        crashed = true;
        throw new Error("container killed");
      }
      return original.call(this, id, to, fields, options);
    };
    try {
      const first = await handler(streamEvent(insertRecord(deployment)));
      t.is(first.batchItemFailures.length, 1, "the crash fails the record, so the stream retries it");
    } finally {
      DeploymentStore.prototype.transition = original;
    }
    t.is((await realStore.get(deployment.id))!.status, "PROCESSING");
    t.is(buildsFor(deployment.id).length, 1);
    // The retry comes after the idempotency token expired: only looking for the build prevents a second one.
    awsClock.advance(6 * 60_000);

    const retry = await createInspectorHandler(env)(streamEvent(insertRecord(deployment)));
    t.deepEqual(retry.batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "BUILDING");
    t.is(buildsFor(deployment.id).length, 1, "still one build");
    t.is(stored.buildId, buildsFor(deployment.id)[0]!.id);
  },
);

test.serial("a user without a GitHub App installation gets FAILED with how to install it", async (t) => {
  const { handler, deployments, buildsFor } = await setUp(t.context.world);
  const deployment = pendingDeployment({ userId: "nobody", repository: "acme/web" });
  await deployments.create(deployment);

  const response = await handler(streamEvent(insertRecord(deployment)));

  t.deepEqual(response.batchItemFailures, []);
  const stored = (await deployments.get(deployment.id))!;
  t.is(stored.status, "FAILED");
  t.is(stored.statusReason!.code, "GITHUB_APP_NOT_INSTALLED");
  t.true(stored.statusReason!.message.includes(INSTALL_URL));
  t.is(buildsFor(deployment.id).length, 0);
});

const failureCases = [
  { repository: "acme/missing", code: "REPOSITORY_NOT_ACCESSIBLE", ref: undefined },
  { repository: "acme/petclinic", code: "REF_NOT_FOUND", ref: "no-such-branch" },
  { repository: "acme/notes", code: "NO_FRAMEWORK", ref: undefined },
];
for (const { repository, code, ref } of failureCases) {
  test.serial(`${repository}${ref ? `@${ref}` : ""} ends FAILED with ${code}`, async (t) => {
    const { handler, deployments, deploy, buildsFor } = await setUp(t.context.world);
    const deployment = await deploy(repository, ref ? { ref } : {});
    const response = await handler(streamEvent(insertRecord(deployment)));
    t.deepEqual(response.batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "FAILED");
    t.is(stored.statusReason!.code, code);
    t.true(stored.statusReason!.message.length > 20, stored.statusReason!.message);
    t.is(buildsFor(deployment.id).length, 0);
  });
}

test.serial("GitHub rejecting the App's key (401) ends FAILED with a message for the platform team", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  const other = generateAppKeys();
  world.aws.putSecret(world.privateKeySecretArn, other.privateKey);
  try {
    const deployment = await deploy("acme/web");
    await handler(streamEvent(insertRecord(deployment)));
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "FAILED");
    t.is(stored.statusReason!.code, "GITHUB_APP_AUTH_FAILED");
  } finally {
    world.aws.putSecret(world.privateKeySecretArn, world.appKeys.privateKey);
  }
});

test.serial("a short secondary rate limit (403 + retry-after) is waited out and the deployment builds", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  world.github.inject({
    path: /\/git\/trees\//,
    ...secondaryRateLimit({ retryAfterSeconds: 1, status: 403 }),
    times: 1,
  });
  const deployment = await deploy("acme/web");

  const started = Date.now();
  const response = await handler(streamEvent(insertRecord(deployment)));

  t.deepEqual(response.batchItemFailures, []);
  t.true(Date.now() - started >= 1000, "it waited as GitHub asked");
  t.is((await deployments.get(deployment.id))!.status, "BUILDING");
});

test.serial(
  "a rate limit longer than Slipway holds a deployment (reset in 30 min) ends FAILED with when to deploy again",
  async (t) => {
    const { world } = t.context;
    const { handler, deployments, deploy, buildsFor } = await setUp(world);
    const reset = Math.floor(Date.now() / 1000) + 1800;
    world.github.inject({
      path: /\/commits\//,
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      body: { message: "API rate limit exceeded for installation." },
      times: 1,
    });
    const deployment = await deploy("acme/web");
    const record = insertRecord(deployment);

    const response = await handler(streamEvent(record));

    t.deepEqual(response.batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "FAILED");
    t.is(stored.statusReason!.code, "GITHUB_RATE_LIMITED");
    t.regex(stored.statusReason!.message, /until \d\d:\d\d UTC \(30 min\)\. Deploy again after that time/);
    t.is(buildsFor(deployment.id).length, 0);
  },
);

test.serial("GitHub 5xx is retried with backoff; a lasting outage fails the record, not the deployment", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  world.github.inject({ path: /\/graphql/, status: 502, body: { message: "Server Error" }, times: 2 });
  const brief = await deploy("acme/web");
  t.deepEqual((await handler(streamEvent(insertRecord(brief)))).batchItemFailures, []);
  t.is((await deployments.get(brief.id))!.status, "BUILDING");

  world.github.inject({ path: /\/zipball\//, status: 503, body: { message: "Unavailable" }, times: 10 });
  const lasting = await deploy("acme/web");
  const response = await handler(streamEvent(insertRecord(lasting)));
  t.is(response.batchItemFailures.length, 1);
  const stored = (await deployments.get(lasting.id))!;
  t.is(stored.status, "PROCESSING");
  t.is(stored.lastError!.code, "GITHUB_UNAVAILABLE");
});

test.serial("CodeBuild throttling fails the record for retry; the retry starts exactly one build", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy, buildsFor } = await setUp(world);
  world.aws.inject({
    operation: "codebuild:StartBuild",
    ...awsJsonError("ThrottlingException", "Rate exceeded"),
    times: 10,
  });
  const deployment = await deploy("acme/petclinic");
  const record = insertRecord(deployment);

  // Lambda's context bounds the SDK's retries of the throttled StartBuild (8 s left, 5 s of it kept to answer).
  const endsAt = Date.now() + 8000;
  const throttled = await handler(streamEvent(record), { getRemainingTimeInMillis: () => endsAt - Date.now() });
  t.is(throttled.batchItemFailures.length, 1);
  const midway = (await deployments.get(deployment.id))!;
  t.is(midway.status, "PROCESSING");
  t.is(midway.lastError!.code, "CODEBUILD_THROTTLED");

  world.aws.reset();
  t.deepEqual((await handler(streamEvent(record))).batchItemFailures, []);
  t.is((await deployments.get(deployment.id))!.status, "BUILDING");
  t.is(buildsFor(deployment.id).length, 1);
});

test.serial("records that are not pending inserts are ignored", async (t) => {
  const { handler, deploy, buildsFor } = await setUp(t.context.world);
  const deployment = await deploy("acme/web");
  const modify = { ...insertRecord(deployment), eventName: "MODIFY" as const };
  t.deepEqual((await handler(streamEvent(modify))).batchItemFailures, []);
  t.is(buildsFor(deployment.id).length, 0);
});

test.serial("inspectDeployment skips a deployment already past PROCESSING", async (t) => {
  const { deployments, deploy } = await setUp(t.context.world);
  const deployment = await deploy("acme/web");
  await deployments.transition(deployment.id, "FAILED", { statusReason: { code: "X", message: "cancelled" } });
  const outcome = await inspectDeployment(deployment.id, {
    deployments,
    installations: { listForUser: async () => [] },
    openRepository: async () => {
      throw new Error("must not open the repository");
    },
    sources: { stage: async () => "" },
    builds: { start: async () => "", findExisting: async () => undefined },
    buildGate: {
      claim: async () => {
        throw new Error("must not claim a build");
      },
    },
    buildProjects: {},
    logger: { info() {}, warn() {}, error() {} },
  });
  t.deepEqual(outcome, { result: "skipped", status: "FAILED" });
});
