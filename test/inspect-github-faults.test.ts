/**
 * The inspector against GitHub as GitHub behaves (issue 13's gaps 1–10) and within Lambda's limits (issue 7, part 4):
 * each test drives the inspector's real handler, or its GitHub client, against the emulators, with the emulator
 * doing what GitHub documents or has been seen doing. Time is moved by hand where GitHub asks for long waits.
 */
import { randomBytes } from "node:crypto";
import anyTest, { type ExecutionContext, type TestFn } from "ava";
import {
  graphqlRateLimited,
  graphqlResourceLimits,
  graphqlTimeout,
  secondaryRateLimit,
  startGitHub,
  type GitHubEmulator,
} from "../local/emulators/github";
import { readZip } from "./helpers/zipEntries";
import { createInstallationTokens } from "../runtime/github/installationTokens";
import { createRepositoryClient } from "../runtime/github/repositoryClient";
import { request as octokitRequest } from "@octokit/request";
import { createInspectorHandler, inspectionConcurrency } from "../runtime/inspect/handlers";
import { createRepositorySessions } from "../runtime/inspect/repositorySessions";
import { processStreamBatch } from "../runtime/inspect/streamBatch";
import { generateAppKeys, manualClock } from "./helpers/emulators";
import { withDependencies } from "./helpers/fakeRepo";
import {
  APP_ID,
  insertRecord,
  inspectorEnvironment,
  pendingDeployment,
  SOURCE_BUCKET,
  startInspectorWorld,
  streamEvent,
  stores,
  type InspectorWorld,
} from "./helpers/inspectorWorld";

const test = anyTest as TestFn<{ world: InspectorWorld }>;

const NEXT = withDependencies(["next", "react", "react-dom"], {
  scripts: { build: "next build", start: "next start" },
});
/** A package.json past GraphQL's 512,000-byte text limit: the framework is only known from the whole file. */
const HUGE_PACKAGE_JSON = JSON.stringify(
  {
    name: "huge",
    keywords: Array.from({ length: 60_000 }, (_, i) => `keyword-${i}`),
    dependencies: { next: "^15.0.0", react: "^19.0.0", "react-dom": "^19.0.0" },
    scripts: { build: "next build", start: "next start" },
  },
  null,
  2,
);
const LARGE_FILE = randomBytes(12 * 1024 * 1024);

test.before(async (t) => {
  t.context.world = await startInspectorWorld({
    "acme/web": { files: { "package.json": NEXT, "pages/index.js": "export default () => null;\n" } },
    "acme/mono": {
      files: {
        "apps/web/package.json": NEXT,
        "apps/web/pages/index.js": "export default () => null;\n",
        "package.json": withDependencies(["express"], { scripts: { start: "node server.js" } }),
        "server.js": "require('express')().listen(3000);\n",
      },
    },
    "acme/huge": { files: { "package.json": HUGE_PACKAGE_JSON } },
    "acme/assets": { files: { "package.json": NEXT, "public/video.bin": LARGE_FILE } },
  });
});
test.after.always(async (t) => {
  await t.context.world?.stop();
});
test.afterEach.always((t) => {
  t.context.world.github.reset();
  t.context.world.github.configure({ maxTreeEntries: 100_000 });
  t.context.world.aws.reset();
});

/** A clock and sleep the handler uses: sleeping moves the clock at once, and every sleep is recorded. */
function handTime() {
  let now = Date.now();
  const slept: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    slept,
  };
}

/** What Lambda hands the handler: its remaining time. */
const lambdaContext = (remainingMs: number, start = Date.now()) => ({
  getRemainingTimeInMillis: () => Math.max(0, remainingMs - (Date.now() - start)),
});

async function setUp(world: InspectorWorld, overrides: Parameters<typeof createInspectorHandler>[1] = {}) {
  const { env, tables } = await inspectorEnvironment(world);
  const { deployments, installations } = stores(world, tables);
  await installations.put({ userId: "alice", installationId: world.github.installationIdFor("acme") });
  const handler = createInspectorHandler(env, overrides);
  const deploy = async (repository: string, fields: Record<string, unknown> = {}) => {
    const deployment = pendingDeployment({ userId: "alice", repository, ...fields });
    await deployments.create(deployment);
    return { deployment, record: insertRecord(deployment) };
  };
  const buildsFor = (id: string) =>
    world.aws
      .builds()
      .filter((b) => b.environmentVariablesOverride?.some((v) => v.name === "DEPLOYMENT_ID" && v.value === id));
  return { env, handler, deployments, deploy, buildsFor };
}

const COMMITS = "GET /repos/{owner}/{repo}/commits/{ref}";
const GRAPHQL = "POST /graphql";
const MINT = "POST /app/installations/{installation_id}/access_tokens";
const CODELOAD = "GET /{owner}/{repo}/legacy.zip/{sha}";

// ---- 1. a rate-limit wait longer than the invocation is honoured by the next attempt, not burned --------------

test.serial(
  "1: a 60 s secondary limit that outlasts the invocation is recorded as notBefore, and the next attempt waits it out",
  async (t) => {
    const { world } = t.context;
    const time = handTime();
    const { handler, deployments, deploy, buildsFor } = await setUp(world, { now: time.now, sleep: time.sleep });
    world.github.inject({ operation: COMMITS, ...secondaryRateLimit({ retryAfterSeconds: 60 }), times: 1 });
    const { deployment, record } = await deploy("acme/web");

    const first = await handler(streamEvent(record), lambdaContext(30_000));

    t.deepEqual(first.batchItemFailures, [{ itemIdentifier: record.dynamodb!.SequenceNumber! }]);
    const waiting = (await deployments.get(deployment.id))!;
    t.is(waiting.status, "PROCESSING");
    t.is(waiting.lastError!.code, "GITHUB_RATE_LIMITED");
    t.is(Date.parse(waiting.notBefore!), time.now() + 60_000, "the wait GitHub asked for, from when it asked");
    t.false(
      time.slept.some((ms) => ms >= 60_000),
      "not slept past the invocation's time",
    );

    // The stream redelivers at once; that attempt sleeps until notBefore before asking GitHub again.
    const lookupsBefore = world.github.requests().filter((r) => r.operation === COMMITS).length;
    const second = await handler(streamEvent(record), lambdaContext(300_000));
    t.deepEqual(second.batchItemFailures, []);
    t.true(time.slept.includes(60_000), `slept ${time.slept.join(", ")}`);
    t.is(world.github.requests().filter((r) => r.operation === COMMITS).length, lookupsBefore + 1);
    t.is((await deployments.get(deployment.id))!.status, "BUILDING");
    t.is(buildsFor(deployment.id).length, 1);
  },
);

// ---- 2. a secondary limit without retry-after is a wait of a minute, wherever it is met -----------------------

for (const operation of [COMMITS, GRAPHQL, MINT]) {
  test.serial(`2: a secondary limit without retry-after on ${operation} waits a minute, then builds`, async (t) => {
    const { world } = t.context;
    const time = handTime();
    const { handler, deployments, deploy } = await setUp(world, { now: time.now, sleep: time.sleep });
    world.github.inject({ operation, ...secondaryRateLimit({ retryAfterSeconds: null }), times: 1 });
    const { deployment, record } = await deploy("acme/web");

    const response = await handler(streamEvent(record), lambdaContext(300_000));

    t.deepEqual(response.batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "BUILDING", JSON.stringify(stored.statusReason));
    t.true(time.slept.includes(60_000), `slept ${time.slept.join(", ")}`);
  });
}

// ---- 3. GraphQL errors classified ------------------------------------------------------------------------------

const graphqlFaults = [
  { name: "a timeout (data: null)", fault: (_now: number) => graphqlTimeout() },
  { name: "RESOURCE_LIMITS_EXCEEDED", fault: (_now: number) => graphqlResourceLimits() },
  {
    name: "RATE_LIMITED (200)",
    fault: (now: number) => graphqlRateLimited("RATE_LIMITED", { resetInSeconds: 30, now }),
    waits: true,
  },
  {
    name: "RATE_LIMIT / graphql_rate_limit (403)",
    fault: (now: number) => graphqlRateLimited("RATE_LIMIT", { resetInSeconds: 30, now }),
    waits: true,
  },
];
for (const { name, fault, waits } of graphqlFaults) {
  test.serial(
    `3: GraphQL ${name} is retried (smaller batch or after the wait), not taken for a missing repository`,
    async (t) => {
      const { world } = t.context;
      const time = handTime();
      const { handler, deployments, deploy } = await setUp(world, { now: time.now, sleep: time.sleep });
      world.github.inject({ operation: GRAPHQL, ...fault(time.now()), times: 1 });
      const { deployment, record } = await deploy("acme/web");

      t.deepEqual((await handler(streamEvent(record), lambdaContext(300_000))).batchItemFailures, []);
      const stored = (await deployments.get(deployment.id))!;
      t.is(stored.status, "BUILDING", JSON.stringify(stored.statusReason));
      t.is(stored.framework, "nextjs");
      if (waits)
        t.true(
          time.slept.some((ms) => ms >= 25_000 && ms <= 31_000),
          `slept ${time.slept.join(", ")}`,
        );
    },
  );
}

test.serial(
  "3: an error on one aliased file is read again, and if it persists fails the read, never the plan",
  async (t) => {
    const { world } = t.context;
    const { handler, deployments, deploy, buildsFor } = await setUp(world);
    world.github.failObjects({ expression: /:package\.json$/, times: 1 });
    const once = await deploy("acme/web");
    t.deepEqual((await handler(streamEvent(once.record))).batchItemFailures, []);
    t.like(await deployments.get(once.deployment.id), { status: "BUILDING", framework: "nextjs" });

    world.github.failObjects({ expression: /:package\.json$/, times: 100 });
    const always = await deploy("acme/web");
    const response = await handler(streamEvent(always.record));
    t.is(response.batchItemFailures.length, 1, "the record fails for a retry");
    const stored = (await deployments.get(always.deployment.id))!;
    t.is(stored.status, "PROCESSING");
    t.is(stored.lastError!.code, "GITHUB_READ_FAILED");
    t.is(buildsFor(always.deployment.id).length, 0);
  },
);

// ---- 4. a broken download never becomes a source ------------------------------------------------------------

test.serial("4: a zipball that breaks off mid-transfer is downloaded again; the staged archive is whole", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  world.github.inject({ operation: CODELOAD, cutBody: { afterBytes: 200, announce: "none" }, times: 1 });
  const { deployment, record } = await deploy("acme/web");

  t.deepEqual((await handler(streamEvent(record))).batchItemFailures, []);
  t.is((await deployments.get(deployment.id))!.status, "BUILDING");
  const staged = world.aws.getObject(SOURCE_BUCKET, `sources/${deployment.id}.zip`)!;
  t.true(readZip(Buffer.from(staged.body)).entries.some((entry) => entry.path.endsWith("/package.json")));
  t.is(world.github.requests().filter((r) => r.operation === CODELOAD).length, 2);
});

for (const announce of ["full", "cut"] as const) {
  test.serial(
    `4: a zipball cut short (${announce === "full" ? "connection lost" : "a whole HTTP answer of part of the ZIP"}) fails the record: nothing staged, no build`,
    async (t) => {
      const { world } = t.context;
      const { handler, deployments, deploy, buildsFor } = await setUp(world);
      world.github.inject({ operation: CODELOAD, cutBody: { afterBytes: 300, announce }, times: 10 });
      const { deployment, record } = await deploy("acme/web");

      t.is((await handler(streamEvent(record))).batchItemFailures.length, 1);
      const stored = (await deployments.get(deployment.id))!;
      t.is(stored.status, "PROCESSING");
      t.is(stored.lastError!.code, "SOURCE_DOWNLOAD_INCOMPLETE");
      t.is(world.aws.getObject(SOURCE_BUCKET, `sources/${deployment.id}.zip`), undefined);
      t.is(buildsFor(deployment.id).length, 0);
    },
  );
}

// ---- 5. a truncated tree is never planned from ----------------------------------------------------------------

test.serial(
  "5: a truncated listing fails with how to proceed instead of planning from part of the repository",
  async (t) => {
    const { world } = t.context;
    const { handler, deployments, deploy, buildsFor } = await setUp(world);
    // Sorted, the first entries are apps/…: the root's own package.json (an Express app) falls past the cut.
    world.github.configure({ maxTreeEntries: 4 });
    const whole = await deploy("acme/mono");
    t.deepEqual((await handler(streamEvent(whole.record))).batchItemFailures, []);
    const failed = (await deployments.get(whole.deployment.id))!;
    t.is(failed.status, "FAILED");
    t.is(failed.statusReason!.code, "REPOSITORY_TOO_LARGE_TO_SEARCH");
    t.regex(failed.statusReason!.message, /rootDirectory/);
    t.is(buildsFor(whole.deployment.id).length, 0);

    // With the folder named, that folder alone is listed and planned.
    const named = await deploy("acme/mono", { rootDirectory: "apps/web", rootDirectoryRequested: true });
    t.deepEqual((await handler(streamEvent(named.record))).batchItemFailures, []);
    t.like(await deployments.get(named.deployment.id), {
      status: "BUILDING",
      framework: "nextjs",
      rootDirectory: "apps/web",
    });
  },
);

// ---- 9. GraphQL cuts Blob.text at 512,000 bytes -------------------------------------------------------------

test.serial("9: a manifest longer than GraphQL's text limit is read whole", async (t) => {
  const { handler, deployments, deploy } = await setUp(t.context.world);
  t.true(HUGE_PACKAGE_JSON.length > 512_000);
  const { deployment, record } = await deploy("acme/huge");
  t.deepEqual((await handler(streamEvent(record))).batchItemFailures, []);
  t.like(await deployments.get(deployment.id), { status: "BUILDING", framework: "nextjs" });
});

// ---- issue 7, part 4: within Lambda's limits --------------------------------------------------------------------

test.serial(
  "7.4: a source over the limit fails SOURCE_TOO_LARGE, with the limit, before anything is downloaded",
  async (t) => {
    const { world } = t.context;
    const { handler, deployments, deploy } = await setUp(world, { maxSourceBytes: 1024 * 1024 });
    const { deployment, record } = await deploy("acme/assets");
    t.deepEqual((await handler(streamEvent(record))).batchItemFailures, []);
    const stored = (await deployments.get(deployment.id))!;
    t.is(stored.status, "FAILED");
    t.is(stored.statusReason!.code, "SOURCE_TOO_LARGE");
    t.regex(stored.statusReason!.message, /up to 1 MiB/);
    t.false(
      world.github.requests().some((r) => /zipball/.test(r.path)),
      "no download was started",
    );
  },
);

test.serial("7.4: a large archive streams to S3 in parts and arrives whole", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  const { deployment, record } = await deploy("acme/assets");
  t.deepEqual((await handler(streamEvent(record))).batchItemFailures, []);
  t.is((await deployments.get(deployment.id))!.status, "BUILDING");
  t.true(world.aws.requests().filter((r) => r.operation === "s3:UploadPart").length >= 2, "a multipart upload");
  const staged = readZip(Buffer.from(world.aws.getObject(SOURCE_BUCKET, `sources/${deployment.id}.zip`)!.body));
  t.true(staged.entries.find((entry) => entry.path.endsWith("/public/video.bin"))!.content.equals(LARGE_FILE));
});

test.serial("7.4: a GitHub that never answers is given up on within the invocation's remaining time", async (t) => {
  const { world } = t.context;
  const { handler, deployments, deploy } = await setUp(world);
  world.github.inject({ operation: COMMITS, hang: true, times: 100 });
  const { deployment, record } = await deploy("acme/web");
  const started = Date.now();
  const response = await handler(streamEvent(record), lambdaContext(8_000, started));
  t.true(Date.now() - started < 8_000, `answered after ${Date.now() - started} ms`);
  t.is(response.batchItemFailures.length, 1);
  t.is((await deployments.get(deployment.id))!.lastError!.code, "GITHUB_UNAVAILABLE");
});

test("7.4: records are inspected at most `concurrency` at once, and the bound follows the function's memory", async (t) => {
  let running = 0;
  let peak = 0;
  const records = Array.from({ length: 7 }, (_, i) =>
    insertRecord(pendingDeployment({ userId: "u", repository: `o/r${i}` })),
  );
  const response = await processStreamBatch(
    streamEvent(...records),
    async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
    },
    { info() {}, warn() {}, error() {} },
    2,
  );
  t.deepEqual(response.batchItemFailures, []);
  t.is(peak, 2);
  t.true(inspectionConcurrency(1024) >= 10, "a batch of ten at once in the stack's 1024 MB");
  t.is(inspectionConcurrency(256), 2);
  t.is(inspectionConcurrency(128), 1);
});

// ---- 6, 7, 8, 10: the GitHub client against GitHub's other behaviours ---------------------------------------------
// Serial: @octokit/auth-app shares an in-flight token request for the same installation id across its instances, and
// every emulator derives the same id for "acme".

async function dedicatedGitHub(t: ExecutionContext, options: Partial<Parameters<typeof startGitHub>[0]> = {}) {
  const keys = generateAppKeys();
  const github: GitHubEmulator = await startGitHub({
    appId: APP_ID,
    appPublicKey: keys.publicKey,
    repositories: { "acme/web": { files: { "package.json": NEXT } } },
    ...options,
  });
  t.teardown(() => github.close());
  const tokens = createInstallationTokens({
    appId: APP_ID,
    loadPrivateKey: async () => keys.privateKey,
    baseUrl: github.url,
  });
  return { github, tokens };
}

test.serial("6: GitHub Enterprise Server's GraphQL endpoint is /api/graphql beside /api/v3", async (t) => {
  const { github, tokens } = await dedicatedGitHub(t, { enterprise: true });
  t.true(github.url.endsWith("/api/v3"));
  const open = createRepositorySessions({ tokens, baseUrl: github.url });
  const session = await open({ userId: "u", installationId: github.installationIdFor("acme") }, "acme", "web");
  const plan = await (await session.snapshot(undefined, undefined)).detect(undefined);
  t.is(plan.framework, "nextjs");
  t.true(github.requests().some((r) => r.path === "/api/graphql" && r.status === 200));
});

test.serial(
  "7: a token refused for permissions the installation lacks is told apart from an inaccessible repository",
  async (t) => {
    const { github, tokens } = await dedicatedGitHub(t, { permissions: { metadata: "read" } });
    const installationId = github.installationIdFor("acme");
    const permissions = await t.throwsAsync(tokens.mint(installationId, "acme", "web"));
    t.like(permissions, { kind: "permanent", code: "GITHUB_APP_PERMISSIONS_MISSING" });
    t.regex(permissions!.message, /accept the App's updated permissions/);
  },
);

test.serial("7: a repository outside the installation is REPOSITORY_NOT_ACCESSIBLE", async (t) => {
  const { github, tokens } = await dedicatedGitHub(t);
  const error = await t.throwsAsync(tokens.mint(github.installationIdFor("acme"), "acme", "nope"));
  t.like(error, { kind: "permanent", code: "REPOSITORY_NOT_ACCESSIBLE" });
});

test.serial(
  "8: a 401 within seconds of minting (GitHub's token replication lag) is retried once; a later 401 is not",
  async (t) => {
    const clock = manualClock();
    const { github, tokens } = await dedicatedGitHub(t, { now: clock.now, tokenReplicationLagMs: 800 });
    const minted = await tokens.mint(github.installationIdFor("acme"), "acme", "web");
    const slept: number[] = [];
    const client = createRepositoryClient({
      request: octokitRequest,
      baseUrl: github.url,
      owner: "acme",
      name: "web",
      token: minted.token,
      tokenCreatedAt: minted.createdAt,
      retry: {
        now: () => minted.createdAt + (clock.now() - minted.createdAt),
        sleep: async (ms) => {
          slept.push(ms);
          clock.advance(ms);
        },
      },
    });
    t.regex((await client.lookupCommit(undefined)).sha, /^[0-9a-f]{40}$/);
    t.deepEqual(slept, [1_000]);
    t.deepEqual(
      github
        .requests()
        .filter((r) => r.operation === COMMITS)
        .map((r) => r.status),
      [401, 200],
    );

    github.uninstall("acme"); // the token stops working long after it was minted
    clock.advance(60_000);
    const error = await t.throwsAsync(client.lookupCommit(undefined));
    t.like(error, { kind: "transient", code: "GITHUB_TOKEN_REJECTED" });
    t.deepEqual(slept, [1_000], "no second wait");
  },
);

test.serial("10: the commit is read whatever charset GitHub names (or none)", async (t) => {
  const { github, tokens } = await dedicatedGitHub(t);
  const { token } = await tokens.mint(github.installationIdFor("acme"), "acme", "web");
  // A fetch that drops `; charset=…` from every answer's content-type, as GitHub may for any media type.
  const noCharset: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const headers = new Headers(response.headers);
    const type = headers.get("content-type");
    if (type) headers.set("content-type", type.replace(/;\s*charset=[^;]+/i, ""));
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
  const client = createRepositoryClient({
    request: octokitRequest.defaults({ request: { fetch: noCharset } }),
    baseUrl: github.url,
    owner: "acme",
    name: "web",
    token,
  });
  t.regex(await client.resolveCommit("main"), /^[0-9a-f]{40}$/);
});
