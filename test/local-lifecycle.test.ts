import anyTest, { type TestFn } from "ava";
import type { Platform } from "../local/platform/platform";
import { syntheticDigest } from "../local/platform/simulatedBuilds";
import { api, bootPlatform, reaches, repositoriesFolder } from "./helpers/localPlatform";

/**
 * After BUILDING, on `npm start`'s platform: simulated builds (a fraction of a second here) walk CodeBuild's phases;
 * the local CodeBuild's events go through the stack's EventBridge rules to the build events function, which moves the
 * deployment; the logs and cancel routes answer over HTTP. The per-user limit is 1, so a user's second deployment
 * waits QUEUED. Each test deploys as its own user (each repository owner is one).
 */
const test = anyTest as TestFn<{ platform: Platform & { cleanUp(): Promise<void> } }>;

const STATIC_SITE = { "index.html": "<h1>hello</h1>\n" };
const EXPRESS = {
  "package.json": JSON.stringify({ dependencies: { express: "4.21.1" }, scripts: { start: "node index.js" } }),
  "index.js": "require('express')().listen(process.env.PORT);\n",
};

test.before(async (t) => {
  t.timeout(10 * 60_000, "booting the platform on a loaded machine");
  const repos = repositoriesFolder("alice", {
    "bob/broken": { ...EXPRESS, ".slipway/simulate-failure": "" },
    "erin/half-built": { ...EXPRESS, ".slipway/simulate-failure": "pre_build\n" },
    "carol/site-a": { ...STATIC_SITE, ".slipway/simulate-seconds": "120" },
    "carol/site-b": STATIC_SITE,
    "dave/slow": { ...STATIC_SITE, ".slipway/simulate-seconds": "120" },
    "frank/site": STATIC_SITE,
  });
  t.context.platform = await bootPlatform(repos, {
    simulatedBuildSeconds: 0.5,
    stackConfig: { "slipway:maxConcurrentBuildsPerUser": "1" },
  });
});
test.after.always(async (t) => {
  await t.context.platform?.cleanUp();
});

const FINAL = ["SUCCEEDED", "FAILED", "CANCELED"];

async function deploy(platform: Platform, user: string, repository: string) {
  const token = await platform.token(user);
  const answer = await api(platform, "POST", "/deployments", { token, body: { repository } });
  return { token, id: answer.body.id as string };
}

const buildsOf = (platform: Platform, id: string) =>
  platform.aws.builds().filter((b) => b.environmentVariablesOverride?.some((v) => v.value === id));

test.serial("a deployment reaches SUCCEEDED with its image, and its log is read through the API", async (t) => {
  const { platform } = t.context;
  const { token, id } = await deploy(platform, "alice", "alice/landing");
  const done = await reaches(platform, token, id, FINAL);
  t.is(done.status, "SUCCEEDED", JSON.stringify(done.statusReason));
  const [build] = buildsOf(platform, id);
  t.is(done.buildId, build!.id);
  t.deepEqual(done.image, {
    uri: `000000000000.dkr.ecr.us-east-1.localhost/${String(platform.stackOutputs.imageRepositoryUrl).split("/")[1]}@${syntheticDigest(build!.id)}`,
    digest: syntheticDigest(build!.id),
  });
  t.is(done.phase, "COMPLETED");
  t.truthy(done.finishedAt);
  const { groupName, streamName } = platform.aws.buildLogs(build!.id);
  t.is(
    done.logsUrl,
    `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=${groupName};stream=${streamName}`,
  );
  t.regex(groupName, /^\/slipway\/local\/codebuild\/slipway-static-/, "the project's own log group");

  const page = await api(platform, "GET", `/deployments/${id}/logs?limit=1000`, { token });
  t.is(page.status, 200);
  const lines = page.body.events.map((e: { message: string }) => e.message);
  t.regex(lines[0], /^\[Container\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} This build is SIMULATED/);
  t.true(lines.some((line: string) => /Phase complete: BUILD State: SUCCEEDED/.test(line)));
  t.true(lines.some((line: string) => line.includes(`@${syntheticDigest(build!.id)}`)));
  const end = await api(platform, "GET", `/deployments/${id}/logs?cursor=${encodeURIComponent(page.body.nextCursor)}`, {
    token,
  });
  t.deepEqual(end.body, { events: [] }, "read to its end");
  t.is((await api(platform, "GET", `/deployments/${id}/logs`, { token: await platform.token("bob") })).status, 404);
});

test.serial("a repository with .slipway/simulate-failure ends FAILED with BUILD_FAILED and its phase", async (t) => {
  const { platform } = t.context;
  for (const [user, repository, phase] of [
    ["bob", "bob/broken", "BUILD"],
    ["erin", "erin/half-built", "PRE_BUILD"],
  ] as const) {
    const { token, id } = await deploy(platform, user, repository);
    const failed = await reaches(platform, token, id, FINAL);
    t.is(failed.status, "FAILED");
    t.is(failed.statusReason.code, "BUILD_FAILED");
    t.is(failed.statusReason.phase, phase);
    t.regex(failed.statusReason.message, new RegExp(`failed in its ${phase} phase .*simulate-failure`));
    t.is(failed.image, undefined);
  }
});

test.serial("cancel before a build exists: CANCELED, and no build is ever started for it", async (t) => {
  const { platform } = t.context;
  // The source download is held until the cancel has answered, so the cancel lands while the inspector works
  // (whenever it gets there: a delay would be overrun on a loaded machine, and the build would start first).
  let releaseDownload!: () => void;
  const held = new Promise<void>((resolve) => (releaseDownload = resolve));
  platform.github!.inject({ operation: /zipball/, holdUntil: held, times: 1 });
  const { token, id } = await deploy(platform, "frank", "frank/site");
  const canceled = await api(platform, "POST", `/deployments/${id}/cancel`, { token });
  releaseDownload();
  t.is(canceled.status, 202);
  t.is(canceled.body.status, "CANCELED");
  await platform.idle();
  t.is((await api(platform, "GET", `/deployments/${id}`, { token })).body.status, "CANCELED");
  t.deepEqual(buildsOf(platform, id), []);
  const again = await api(platform, "POST", `/deployments/${id}/cancel`, { token });
  t.is(again.status, 202, "idempotent");
  platform.github!.reset();
});

test.serial("cancel during the build: the log follows it while it runs, StopBuild, then CANCELED", async (t) => {
  const { platform } = t.context;
  const { token, id } = await deploy(platform, "dave", "dave/slow");
  const building = await reaches(platform, token, id, ["BUILDING", ...FINAL]);
  t.is(building.status, "BUILDING");
  let page = await api(platform, "GET", `/deployments/${id}/logs`, { token });
  while (page.body.events.length === 0) page = await api(platform, "GET", `/deployments/${id}/logs`, { token });
  t.regex(page.body.events[0].message, /SIMULATED/);
  t.truthy(page.body.nextCursor, "a running build's log goes on");

  const answer = await api(platform, "POST", `/deployments/${id}/cancel`, { token });
  t.is(answer.status, 202);
  t.truthy(answer.body.cancelRequestedAt);
  const canceled = await reaches(platform, token, id, FINAL);
  t.is(canceled.status, "CANCELED");
  t.is(canceled.statusReason.code, "CANCELED");
  t.is(buildsOf(platform, id)[0]!.buildStatus, "STOPPED");
  let rest = await api(platform, "GET", `/deployments/${id}/logs?cursor=${encodeURIComponent(page.body.nextCursor)}`, {
    token,
  });
  const later: string[] = [];
  while (rest.body.nextCursor) {
    later.push(...rest.body.events.map((e: { message: string }) => e.message));
    rest = await api(platform, "GET", `/deployments/${id}/logs?cursor=${encodeURIComponent(rest.body.nextCursor)}`, {
      token,
    });
  }
  t.true(
    later.some((line) => /Stop requested/.test(line)),
    later.join("\n"),
  );
  const late = await api(platform, "POST", `/deployments/${id}/cancel`, { token });
  t.is(late.status, 202, "CANCELED again is the same answer");
});

test.serial("at the limit of one build per user, the second deployment waits QUEUED, then builds", async (t) => {
  const { platform } = t.context;
  // The first build is a long one (.slipway/simulate-seconds): it holds carol's one slot until it is canceled.
  const first = await deploy(platform, "carol", "carol/site-a");
  await reaches(platform, first.token, first.id, ["BUILDING", ...FINAL]);
  const second = await deploy(platform, "carol", "carol/site-b");
  const waiting = await reaches(platform, second.token, second.id, ["QUEUED", "BUILDING", ...FINAL]);
  t.is(waiting.status, "QUEUED", "the first build still runs");
  t.deepEqual(buildsOf(platform, second.id), []);

  t.is((await api(platform, "POST", `/deployments/${first.id}/cancel`, { token: first.token })).status, 202);
  const a = await reaches(platform, first.token, first.id, FINAL);
  t.is(a.status, "CANCELED");
  const b = await reaches(platform, second.token, second.id, FINAL);
  t.is(b.status, "SUCCEEDED", JSON.stringify(b.statusReason));
  const [secondBuild] = buildsOf(platform, second.id);
  t.true(secondBuild!.startTime.getTime() >= new Date(a.finishedAt).getTime() - 1000, "started when the slot freed");
});

test.serial("the reconciler runs through its schedule rule with its own role, and fails nothing", async (t) => {
  const { platform } = t.context;
  const before = platform.eventBridge.stats();
  platform.eventBridge.runSchedule("slipway-reconcile");
  await platform.idle();
  const after = platform.eventBridge.stats();
  t.is(
    (after.succeededByRule["slipway-reconcile"] ?? 0) - (before.succeededByRule["slipway-reconcile"] ?? 0),
    1,
    "the reconciler ran once, with its role's permissions",
  );
  t.is(after.failedAttempts, 0);
  t.is(after.deadLettered, 0);
});
