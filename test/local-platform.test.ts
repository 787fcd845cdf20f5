import { readZip } from "./helpers/zipEntries";
import anyTest, { type TestFn } from "ava";
import type { Platform } from "../local/platform/platform";
import { api, bootPlatform, repositoriesFolder, settled } from "./helpers/localPlatform";

/**
 * `npm start`'s platform, booted for real: the stack run under the provisioning mock monitor, DynamoDB Local, the
 * functions in their own processes with their own roles, the HTTP API with its JWT authorizer, the stream mapping,
 * the failure queue. Everything below goes through HTTP requests, as the front end's would.
 */
const test = anyTest as TestFn<{ platform: Platform & { cleanUp(): Promise<void> } }>;

test.before(async (t) => {
  const repos = repositoriesFolder("alice", {
    "bob/secret-api": {
      "package.json": JSON.stringify({ dependencies: { express: "4.21.1" }, scripts: { start: "node index.js" } }),
    },
  });
  // Builds here stay BUILDING (simulated for an hour) and the per-user limits are out of the way: these tests are about
  // reaching the build; test/local-lifecycle.test.ts follows builds to their end, test/security the limits.
  t.context.platform = await bootPlatform(repos, {
    simulatedBuildSeconds: 3600,
    stackConfig: { "slipway:maxConcurrentBuildsPerUser": "100", "slipway:deploymentsPerUserPerMinute": "1000" },
  });
});
test.after.always(async (t) => {
  await t.context.platform?.cleanUp();
});

const FRAMEWORKS = [
  { repository: "alice/petclinic", framework: "spring-boot", builder: "maven" },
  { repository: "alice/storefront", framework: "nextjs", builder: "node" },
  { repository: "alice/blog", framework: "django", builder: "python" },
  { repository: "alice/inventory-api", framework: "gin", builder: "go" },
  { repository: "alice/notes-api", framework: "express", builder: "node" },
  { repository: "alice/landing", framework: "static", builder: "static" },
];

test.serial(
  "six example repositories reach BUILDING on the right CodeBuild project, at their commit, from staged source",
  async (t) => {
    const { platform } = t.context;
    const token = await platform.token("alice");
    // One after another, as a person presses Deploy: six at once would be six cold starts of the deploy function,
    // which on a loaded two-core machine can pass API Gateway's 30 s (a 503, as AWS would answer).
    const created: { expected: (typeof FRAMEWORKS)[number]; id: string }[] = [];
    for (const expected of FRAMEWORKS) {
      const answer = await api(platform, "POST", "/deployments", { token, body: { repository: expected.repository } });
      t.is(answer.status, 202);
      t.is(answer.headers.get("location"), `/deployments/${answer.body.id}`);
      created.push({ expected, id: answer.body.id as string });
    }
    for (const { expected, id } of created) {
      const deployment = await settled(platform, token, id);
      t.is(deployment.status, "BUILDING", `${expected.repository}: ${JSON.stringify(deployment.statusReason)}`);
      t.is(deployment.framework, expected.framework);
      t.is(deployment.builder, expected.builder);
      const build = platform.aws.builds().find((b) => b.id === deployment.buildId)!;
      t.is(build.projectName, `slipway-${expected.builder}`);
      const variables = Object.fromEntries(build.environmentVariablesOverride!.map((v) => [v.name, v.value]));
      t.is(variables.COMMIT_SHA, deployment.commitSha);
      t.is(variables.DEPLOYMENT_ID, id);
      const [bucket, ...key] = build.sourceLocationOverride!.split("/");
      const source = platform.aws.getObject(bucket!, key.join("/"))!;
      const top = readZip(Buffer.from(source.body)).entries[0]!.path.split("/")[0];
      t.is(top, `${expected.repository.replace("/", "-")}-${deployment.commitSha.slice(0, 7)}`);
    }
  },
);

test.serial("alice cannot deploy bob's repository or read bob's deployments", async (t) => {
  const { platform } = t.context;
  const alice = await platform.token("alice");
  const bob = await platform.token("bob");
  const intrusion = await api(platform, "POST", "/deployments", {
    token: alice,
    body: { repository: "bob/secret-api" },
  });
  const failed = await settled(platform, alice, intrusion.body.id);
  t.is(failed.status, "FAILED");
  // Alice's only installation is on her own account: none of hers covers bob's repositories.
  t.is(failed.statusReason.code, "GITHUB_APP_NOT_INSTALLED");
  t.regex(failed.statusReason.message, /Install it on bob/);
  t.false(platform.aws.builds().some((b) => b.environmentVariablesOverride?.some((v) => v.value === "bob/secret-api")));

  const own = await api(platform, "POST", "/deployments", { token: bob, body: { repository: "bob/secret-api" } });
  const bobs = await settled(platform, bob, own.body.id);
  t.is(bobs.status, "BUILDING");
  t.is(bobs.rootDirectory, "");
  t.is((await api(platform, "GET", `/deployments/${own.body.id}`, { token: alice })).status, 404);
  const list = await api(platform, "GET", "/deployments?limit=100", { token: alice });
  t.false(list.body.items.some((d: { id: string }) => d.id === own.body.id));
});

test.serial("tokens for another audience, expired, or missing are 401", async (t) => {
  const { platform } = t.context;
  const route = "/deployments";
  t.is((await api(platform, "GET", route)).status, 401);
  t.is(
    (await api(platform, "GET", route, { token: await platform.token("alice", { audience: "someone-else" }) })).status,
    401,
  );
  t.is(
    (await api(platform, "GET", route, { token: await platform.token("alice", { expiresInSeconds: -120 }) })).status,
    401,
  );
  t.is((await api(platform, "GET", route, { token: await platform.token("alice") })).status, 200);
});

test.serial("bad request bodies are 400 naming the field, and write nothing", async (t) => {
  const { platform } = t.context;
  const token = await platform.token("carol");
  const answer = await api(platform, "POST", "/deployments", { token, body: { repository: "not a repo" } });
  t.is(answer.status, 400);
  t.is(answer.body.error.field, "repository");
  t.deepEqual((await api(platform, "GET", "/deployments", { token })).body.items, []);
});

test.serial(
  "GitHub latency, 5xx and a 403 rate limit with retry-after are ridden out: BUILDING, one build each",
  async (t) => {
    const { platform } = t.context;
    const github = platform.github!;
    const token = await platform.token("alice");
    const faults = [
      { operation: "GET /repos/{owner}/{repo}/git/trees/{tree_sha}", delayMs: 400, times: 1 },
      { operation: "POST /graphql", status: 502, body: { message: "Server Error" }, times: 2 },
      {
        operation: "GET /repos/{owner}/{repo}/commits/{ref}",
        status: 403,
        headers: { "retry-after": "1" },
        body: { message: "You have exceeded a secondary rate limit." },
        times: 1,
      },
    ];
    for (const fault of faults) {
      github.reset();
      github.inject(fault);
      const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/notes-api" } });
      const deployment = await settled(platform, token, body.id);
      t.is(deployment.status, "BUILDING", `${JSON.stringify(fault)}: ${JSON.stringify(deployment.statusReason)}`);
      t.is(
        platform.aws.builds().filter((b) => b.environmentVariablesOverride?.some((v) => v.value === body.id)).length,
        1,
      );
    }
    github.reset();
  },
);

test.serial("a GitHub request that never answers times out and is retried: BUILDING", async (t) => {
  const { platform } = t.context;
  const token = await platform.token("alice");
  platform.github!.inject({ operation: "GET /repos/{owner}/{repo}/commits/{ref}", hang: true, times: 1 });
  const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/inventory-api" } });
  const deployment = await settled(platform, token, body.id, 60_000);
  t.is(deployment.status, "BUILDING");
  const resolutions = platform
    .github!.requests()
    .filter((r) => r.operation === "GET /repos/{owner}/{repo}/commits/{ref}");
  t.true(resolutions.length >= 2, "the hung request was abandoned and asked again");
  platform.github!.reset();
});

test.serial(
  "a build started whose answer was lost is found again after the stream redelivers the record: one build",
  async (t) => {
    const { platform } = t.context;
    const token = await platform.token("alice");
    // CodeBuild starts the build every time but no answer comes back: the SDK retries with the same idempotency
    // token, so however many answers are lost, one build is started and the deployment points at it.
    platform.aws.inject({ operation: "codebuild:StartBuild", dropResponse: true, times: 3 });
    const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/petclinic" } });
    const deployment = await settled(platform, token, body.id, 60_000);
    t.is(deployment.status, "BUILDING", JSON.stringify(deployment.statusReason));
    const builds = platform.aws
      .builds()
      .filter((b) => b.environmentVariablesOverride?.some((v) => v.value === body.id));
    t.is(builds.length, 1);
    t.is(deployment.buildId, builds[0]!.id);
    t.true(platform.aws.requests().filter((r) => r.operation === "codebuild:StartBuild").length >= 3);
    platform.aws.reset();
  },
);

test.serial("an inspector killed half-way is retried by the stream: BUILDING, never two builds", async (t) => {
  const { platform } = t.context;
  const token = await platform.token("alice");
  const inspector = platform.functions.get("slipway-inspector")!;
  // The zipball hangs, so the inspector is mid-way (PROCESSING, source not staged) when its container is killed.
  platform.github!.reset();
  platform.github!.inject({ operation: /zipball/, hang: true, times: 1 });
  const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/blog" } });
  for (let i = 0; i < 200 && !platform.github!.requests().some((r) => /zipball/.test(r.path)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is((await api(platform, "GET", `/deployments/${body.id}`, { token })).body.status, "PROCESSING");
  for (const pid of inspector.pids()) process.kill(pid, "SIGKILL");

  const deployment = await settled(platform, token, body.id);
  t.is(deployment.status, "BUILDING");
  t.is(platform.aws.builds().filter((b) => b.environmentVariablesOverride?.some((v) => v.value === body.id)).length, 1);
  platform.github!.reset();
});

test.serial(
  "a role missing a permission fails as in AWS: retried, given up, then FAILED with the reason",
  async (t) => {
    const { platform } = t.context;
    const token = await platform.token("alice");
    const declared = platform.resources.rolePolicies.get("slipway-inspector")!;
    const original = JSON.parse(declared.document);
    // The platform team forgot StartBuild on the build projects.
    const withoutStartBuild = {
      ...original,
      Statement: original.Statement.map((s: { Action: string[] }) => ({
        ...s,
        Action: s.Action.filter((a) => a !== "codebuild:StartBuild"),
      })),
    };
    platform.iam.putRolePolicy(declared.roleName, "slipway-inspector", withoutStartBuild);
    try {
      const { body } = await api(platform, "POST", "/deployments", { token, body: { repository: "alice/landing" } });
      const deployment = await settled(platform, token, body.id, 90_000);
      t.is(deployment.status, "FAILED");
      t.is(deployment.statusReason.code, "INSPECTION_ABANDONED");
      t.regex(deployment.statusReason.message, /not authorized to perform: codebuild:StartBuild|AccessDenied/);
      t.false(platform.aws.builds().some((b) => b.environmentVariablesOverride?.some((v) => v.value === body.id)));
    } finally {
      platform.iam.putRolePolicy(declared.roleName, "slipway-inspector", original);
    }
  },
);
