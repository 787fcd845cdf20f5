import { createHash } from "node:crypto";
import anyTest, { type TestFn } from "ava";
import { CodeBuildClient, StartBuildCommand } from "@aws-sdk/client-codebuild";
import type { CodeBuildEvent } from "../local/emulators/aws";
import { createCancelDeploymentHandler, createDeploymentLogsHandler } from "../runtime/api/handlers";
import type { Deployment } from "../runtime/deployment";
import { ENV } from "../runtime/environment";
import { createInspectorHandler } from "../runtime/inspect/handlers";
import { observationFromEvent } from "../runtime/lifecycle/buildObservation";
import { BuildSlots } from "../runtime/lifecycle/buildSlots";
import { createBuildEventsHandler, createReconcilerHandler } from "../runtime/lifecycle/handlers";
import { apiEvent, responseJson } from "./helpers/apiEvents";
import { awsClientConfig, manualClock } from "./helpers/emulators";
import { withDependencies } from "./helpers/fakeRepo";
import {
  insertRecord,
  inspectorEnvironment,
  pendingDeployment,
  startInspectorWorld,
  streamEvent,
  stores,
  type InspectorWorld,
} from "./helpers/inspectorWorld";
import { localDocumentClient } from "./helpers/tables";

/*
 * The build lifecycle against real peers: DynamoDB Local, the AWS emulator (CodeBuild with its events, ECR, CloudWatch
 * Logs) and the GitHub emulator, with the functions' real handlers built from the environment the stack gives them.
 * Events are collected from the local CodeBuild and delivered by the tests, in order, out of order, twice or never.
 * Serial: the emulators are shared.
 */
const test = anyTest as TestFn<{ world: InspectorWorld; events: CodeBuildEvent[] }>;

const REPOSITORY = "slipway-images";
const awsClock = manualClock();

test.before(async (t) => {
  const world = await startInspectorWorld(
    {
      "acme/web": {
        files: { "package.json": withDependencies(["express"], { scripts: { start: "node index.js" } }) },
      },
    },
    { awsClock: awsClock.now },
  );
  world.aws.createRepository(REPOSITORY, { imageTagMutability: "IMMUTABLE" });
  world.aws.createLogGroup("/aws/codebuild/slipway-node");
  const events: CodeBuildEvent[] = [];
  world.aws.onCodeBuild({ onEvent: (event) => events.push(event) });
  t.context = { world, events };
});
test.after.always(async (t) => {
  await t.context.world?.stop();
});

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

async function setUp(
  t: { context: { world: InspectorWorld; events: CodeBuildEvent[] }; is(a: unknown, b: unknown): void },
  options: { limit?: number } = {},
) {
  const { world, events } = t.context;
  const { env: inspectorEnv, tables } = await inspectorEnvironment(world, { maxBuildsPerUser: options.limit ?? 10 });
  const env: NodeJS.ProcessEnv = {
    ...inspectorEnv,
    [ENV.imageRepositoryUrl]: `000000000000.dkr.ecr.us-east-1.localhost/${REPOSITORY}`,
    [ENV.ecrEndpoint]: world.aws.url,
    [ENV.logsEndpoint]: world.aws.url,
    [ENV.buildLogGroups]: JSON.stringify({ "slipway-node": "/aws/codebuild/slipway-node" }),
  };
  const { deployments, installations } = stores(world, tables);
  await installations.put({
    userId: "alice",
    installationId: world.github.installationIdFor("acme"),
    accountLogin: "acme",
  });
  const slots = new BuildSlots({ client: localDocumentClient(world.dynamodb.endpoint), table: tables.buildSlots });
  const inspector = createInspectorHandler(env);
  const onEvent = createBuildEventsHandler(env);
  const reconcile = createReconcilerHandler({ ...env, [ENV.staleBuildMinutes]: "0" });
  const cancelHandler = createCancelDeploymentHandler(env);
  const logsHandler = createDeploymentLogsHandler(env);

  const deploy = async (): Promise<Deployment> => {
    const deployment = pendingDeployment({ userId: "alice", repository: "acme/web" });
    await deployments.create(deployment);
    return deployment;
  };
  const inspect = async (deployment: Deployment) => {
    t.is(
      ((await inspector(streamEvent(insertRecord(deployment)))) as { batchItemFailures: unknown[] }).batchItemFailures
        .length,
      0,
    );
    return (await deployments.get(deployment.id, { consistent: true }))!;
  };
  const buildOf = (id: string) =>
    world.aws
      .builds()
      .find((b) => b.environmentVariablesOverride?.some((v) => v.name === "DEPLOYMENT_ID" && v.value === id));
  /** The events of one build so far (they are sent right after CodeBuild's answers). */
  const eventsOf = async (buildId: string) => {
    await nextTick();
    return events.filter((event) => String(event.detail["build-id"]).endsWith(`:build/${buildId}`));
  };
  const deliver = async (...batch: CodeBuildEvent[]) => {
    for (const event of batch) await onEvent(event as never);
  };
  /** Walks the build to its end (failing in `failIn`), pushing its image on success as the buildspec would. */
  const runBuild = async (buildId: string, failIn?: string) => {
    let phase = world.aws.builds().find((b) => b.id === buildId)!.currentPhase;
    while (phase !== "COMPLETED") {
      phase = world.aws.advanceBuild(
        buildId,
        phase === failIn
          ? {
              status: "FAILED",
              context: {
                statusCode: "COMMAND_EXECUTION_ERROR",
                message: "Error while executing command: npm run build. Reason: exit status 1",
              },
            }
          : {},
      );
      if (phase === "UPLOAD_ARTIFACTS" && !failIn) {
        const deploymentId = world.aws
          .builds()
          .find((b) => b.id === buildId)!
          .environmentVariablesOverride!.find((v) => v.name === "DEPLOYMENT_ID")!.value;
        world.aws.putImage(REPOSITORY, deploymentId, `sha256:${createHash("sha256").update(buildId).digest("hex")}`);
      }
    }
    return eventsOf(buildId);
  };
  const get = async (id: string) => (await deployments.get(id, { consistent: true }))!;
  const cancel = async (id: string, userId = "alice") => {
    const result = await cancelHandler(
      apiEvent("POST", `/deployments/${id}/cancel`, "/deployments/{id}/cancel", { userId, pathParameters: { id } }),
    );
    return { status: result.statusCode, body: responseJson<any>(result) };
  };
  const logs = async (id: string, query: Record<string, string> = {}, userId = "alice") => {
    const result = await logsHandler(
      apiEvent("GET", `/deployments/${id}/logs`, "/deployments/{id}/logs", {
        userId,
        pathParameters: { id },
        ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      }),
    );
    return { status: result.statusCode, body: responseJson<any>(result) };
  };
  return {
    env,
    tables,
    deployments,
    slots,
    deploy,
    inspect,
    buildOf,
    eventsOf,
    deliver,
    runBuild,
    get,
    reconcile,
    cancel,
    logs,
  };
}

const phaseOf = (event: CodeBuildEvent) => observationFromEvent(event as never)?.currentPhase;

test.serial(
  "events in order: BUILDING shows each phase, then SUCCEEDED with the pushed image's digest and the logs link",
  async (t) => {
    const s = await setUp(t);
    const deployment = await s.inspect(await s.deploy());
    t.is(deployment.status, "BUILDING");
    const events = await s.runBuild(deployment.buildId!);
    const seen: string[] = [];
    for (const event of events) {
      await s.deliver(event);
      const now = await s.get(deployment.id);
      seen.push(now.status === "BUILDING" ? `BUILDING ${now.phase}` : now.status);
    }
    t.deepEqual(seen, [
      "BUILDING SUBMITTED",
      "BUILDING QUEUED",
      "BUILDING PROVISIONING",
      "BUILDING DOWNLOAD_SOURCE",
      "BUILDING INSTALL",
      "BUILDING PRE_BUILD",
      "BUILDING BUILD",
      "BUILDING POST_BUILD",
      "BUILDING UPLOAD_ARTIFACTS",
      "BUILDING FINALIZING",
      "BUILDING COMPLETED",
      "SUCCEEDED",
    ]);
    const done = await s.get(deployment.id);
    const digest = `sha256:${createHash("sha256").update(deployment.buildId!).digest("hex")}`;
    t.deepEqual(done.image, { uri: `000000000000.dkr.ecr.us-east-1.localhost/${REPOSITORY}@${digest}`, digest });
    t.truthy(done.finishedAt);
    t.is(
      done.logsUrl,
      `https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEvent:group=/aws/codebuild/slipway-node;stream=${deployment.buildId!.split(":")[1]}`,
    );
    t.is(done.activeStatus, undefined, "out of the active index");
    t.deepEqual(await s.slots.holders(), [], "the slot went back");
  },
);

test.serial("events out of order and twice: the phase never moves back, the outcome is decided once", async (t) => {
  const s = await setUp(t);
  const deployment = await s.inspect(await s.deploy());
  const events = await s.runBuild(deployment.buildId!);
  const byPhase = (phase: string) => events.find((e) => e.detail["completed-phase"] === phase)!;
  await s.deliver(byPhase("PRE_BUILD")); // now in BUILD
  await s.deliver(byPhase("QUEUED"), byPhase("INSTALL"), events[0]!); // older: ignored
  t.is((await s.get(deployment.id)).phase, "BUILD");
  const final = events[events.length - 1]!;
  await s.deliver(final, final);
  await s.deliver(byPhase("POST_BUILD")); // a phase after the end: ignored
  const done = await s.get(deployment.id);
  t.is(done.status, "SUCCEEDED");
  t.is(done.phase, "COMPLETED");
  // Every event again, shuffled: nothing changes.
  const before = JSON.stringify(done);
  await s.deliver(...[...events].reverse(), ...events);
  t.is(JSON.stringify(await s.get(deployment.id)), before);
  t.true(events.slice(0, -1).every((e) => phaseOf(e) !== undefined));
});

test.serial("a failing build ends FAILED with BUILD_FAILED, the phase and CodeBuild's reason", async (t) => {
  const s = await setUp(t);
  const deployment = await s.inspect(await s.deploy());
  await s.deliver(...(await s.runBuild(deployment.buildId!, "BUILD")));
  const failed = await s.get(deployment.id);
  t.is(failed.status, "FAILED");
  t.is(failed.statusReason?.code, "BUILD_FAILED");
  t.is(failed.statusReason?.phase, "BUILD");
  t.regex(failed.statusReason!.message, /failed in its BUILD phase \(COMMAND_EXECUTION_ERROR: .*exit status 1\)/);
  t.regex(failed.statusReason!.message, new RegExp(`GET /deployments/${deployment.id}/logs`));
  t.is(failed.image, undefined);
});

test.serial(
  "TIMED_OUT, FAULT and a build stopped outside Slipway have their own codes; a success without an image is IMAGE_NOT_FOUND",
  async (t) => {
    const s = await setUp(t);
    const outcomes: Record<string, string> = {};
    for (const status of ["TIMED_OUT", "FAULT", "STOPPED", "SUCCEEDED"]) {
      const deployment = await s.inspect(await s.deploy());
      t.context.world.aws.finishBuild(deployment.buildId!, status); // no image pushed
      await s.deliver(...(await s.eventsOf(deployment.buildId!)));
      const ended = await s.get(deployment.id);
      outcomes[status] = `${ended.status} ${ended.statusReason?.code}`;
    }
    t.deepEqual(outcomes, {
      TIMED_OUT: "FAILED BUILD_TIMED_OUT",
      FAULT: "FAILED BUILD_FAULT",
      STOPPED: "CANCELED BUILD_STOPPED",
      SUCCEEDED: "FAILED IMAGE_NOT_FOUND",
    });
  },
);

test.serial(
  "a build event that overtakes the inspector's write adopts the build: PROCESSING → BUILDING → SUCCEEDED; the inspector's late write changes nothing",
  async (t) => {
    const s = await setUp(t);
    const { deployments } = s;
    const deployment = await s.deploy();
    await deployments.transition(deployment.id, "PROCESSING", {}, { incrementAttempts: true });
    await deployments.update(
      deployment.id,
      { buildRequestedAt: new Date().toISOString() },
      { whenStatus: "PROCESSING" },
    );
    const codebuild = new CodeBuildClient(awsClientConfig(t.context.world.aws.url));
    const { build } = await codebuild.send(
      new StartBuildCommand({
        projectName: "slipway-node",
        idempotencyToken: deployment.id,
        environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: deployment.id, type: "PLAINTEXT" }],
      }),
    );
    const events = await s.runBuild(build!.id!);
    await s.deliver(events[events.length - 1]!);
    const done = await s.get(deployment.id);
    t.is(done.status, "SUCCEEDED");
    t.is(done.buildId, build!.id);
    t.is(await deployments.transition(deployment.id, "BUILDING", { buildId: build!.id! }), undefined);
  },
);

test.serial("cancel before the inspector runs: CANCELED at once, and the inspector starts no build", async (t) => {
  const s = await setUp(t);
  const deployment = await s.deploy();
  const answer = await s.cancel(deployment.id);
  t.is(answer.status, 202);
  t.is(answer.body.status, "CANCELED");
  t.is(answer.body.statusReason.code, "CANCELED");
  t.truthy(answer.body.finishedAt);
  t.is((await s.inspect(deployment)).status, "CANCELED");
  t.is(s.buildOf(deployment.id), undefined);
  const again = await s.cancel(deployment.id);
  t.is(again.status, 202, "idempotent");
  t.deepEqual(again.body, answer.body);
});

test.serial("cancel while the inspector is half-way (source download hanging): no build is started", async (t) => {
  const s = await setUp(t);
  const { github } = t.context.world;
  const deployment = await s.deploy();
  github.reset();
  // The download answers only once the cancel has landed, however slow the machine.
  let releaseDownload!: () => void;
  github.inject({ operation: /zipball/, holdUntil: new Promise<void>((r) => (releaseDownload = r)), times: 1 });
  const inspecting = s.inspect(deployment);
  while (!github.requests().some((r) => /zipball/.test(r.path))) await new Promise((r) => setTimeout(r, 20));
  t.is((await s.get(deployment.id)).status, "PROCESSING");
  t.is((await s.cancel(deployment.id)).body.status, "CANCELED");
  releaseDownload();
  t.is((await inspecting).status, "CANCELED");
  t.is(s.buildOf(deployment.id), undefined, "the conditional start refused");
  t.deepEqual(await s.slots.holders(), [], "no slot kept");
  github.reset();
});

test.serial(
  "cancel after StartBuild but before BUILDING was written: the build's first event stops the orphan",
  async (t) => {
    const s = await setUp(t);
    const deployment = await s.deploy();
    await s.deployments.transition(deployment.id, "PROCESSING", {}, { incrementAttempts: true });
    const codebuild = new CodeBuildClient(awsClientConfig(t.context.world.aws.url));
    const { build } = await codebuild.send(
      new StartBuildCommand({
        projectName: "slipway-node",
        environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: deployment.id, type: "PLAINTEXT" }],
      }),
    );
    t.is((await s.cancel(deployment.id)).body.status, "CANCELED");
    const [started] = await s.eventsOf(build!.id!);
    await s.deliver(started!);
    await nextTick();
    t.is(t.context.world.aws.builds().find((b) => b.id === build!.id)!.buildStatus, "STOPPED");
    t.is((await s.get(deployment.id)).status, "CANCELED");
    const stopped = (await s.eventsOf(build!.id!)).filter((e) => e.detail["build-status"] === "STOPPED");
    await s.deliver(...stopped);
    t.is((await s.get(deployment.id)).statusReason?.code, "CANCELED", "the canceled deployment keeps its own reason");
  },
);

test.serial(
  "cancel while BUILDING stops the build; the STOPPED event ends it CANCELED; a second cancel stops nothing more",
  async (t) => {
    const s = await setUp(t);
    const deployment = await s.inspect(await s.deploy());
    const { world } = t.context;
    world.aws.reset();
    world.aws.advanceBuild(deployment.buildId!);
    world.aws.advanceBuild(deployment.buildId!);
    const first = await s.cancel(deployment.id);
    t.is(first.status, 202);
    t.is(first.body.status, "BUILDING", "still building: CodeBuild is stopping it");
    t.truthy(first.body.cancelRequestedAt);
    const second = await s.cancel(deployment.id);
    t.is(second.body.cancelRequestedAt, first.body.cancelRequestedAt);
    await nextTick();
    t.is(world.aws.requests().filter((r) => r.operation === "codebuild:StopBuild").length, 2);
    t.is(world.aws.builds().find((b) => b.id === deployment.buildId)!.buildStatus, "STOPPED");
    await s.deliver(...(await s.eventsOf(deployment.buildId!)));
    const canceled = await s.get(deployment.id);
    t.is(canceled.status, "CANCELED");
    t.is(canceled.statusReason?.code, "CANCELED");
    const after = await s.cancel(deployment.id);
    t.is(after.status, 202);
    t.is(after.body.status, "CANCELED");
  },
);

test.serial(
  "cancel racing the build's end: the build finished first, so it ends SUCCEEDED, and cancel is then 409",
  async (t) => {
    const s = await setUp(t);
    const deployment = await s.inspect(await s.deploy());
    const events = await s.runBuild(deployment.buildId!); // done in CodeBuild, the events not yet delivered
    const answer = await s.cancel(deployment.id);
    t.is(answer.status, 202);
    t.is(answer.body.status, "BUILDING");
    await s.deliver(...events);
    t.is((await s.get(deployment.id)).status, "SUCCEEDED");
    const late = await s.cancel(deployment.id);
    t.is(late.status, 409);
    t.deepEqual(late.body.error, {
      code: "DEPLOYMENT_FINISHED",
      message: "This deployment already ended SUCCEEDED; there is nothing to cancel.",
    });
    t.is((await s.cancel(deployment.id, "mallory")).status, 404, "another user's deployment does not exist for them");
  },
);

test.serial("the reconciler settles a deployment whose final event was lost, from BatchGetBuilds", async (t) => {
  const s = await setUp(t);
  const deployment = await s.inspect(await s.deploy());
  await s.runBuild(deployment.buildId!, "POST_BUILD"); // no event delivered at all
  t.is((await s.get(deployment.id)).status, "BUILDING");
  const report = await s.reconcile();
  t.like(report, { checked: 1, settled: 1, errors: 0 });
  const failed = await s.get(deployment.id);
  t.is(failed.status, "FAILED");
  t.is(failed.statusReason?.phase, "POST_BUILD");
  t.like(await s.reconcile(), { checked: 0, settled: 0 });
});

test.serial("the reconciler refreshes a running build's phase, and fails one CodeBuild has no record of", async (t) => {
  const s = await setUp(t);
  const running = await s.inspect(await s.deploy());
  t.context.world.aws.advanceBuild(running.buildId!);
  const lost = await s.inspect(await s.deploy());
  await s.deployments.transition(lost.id, "FAILED"); // make room to fake a BUILDING with an unknown build
  const ghost = await s.deploy();
  await s.deployments.transition(ghost.id, "PROCESSING");
  await s.deployments.transition(ghost.id, "BUILDING", { buildId: "slipway-node:never-started" });
  const report = await s.reconcile();
  t.like(report, { checked: 2, settled: 1, errors: 0 });
  t.is((await s.get(running.id)).phase, "PROVISIONING");
  t.is((await s.get(ghost.id)).statusReason?.code, "BUILD_NOT_FOUND");
});

test.serial("at the per-user limit, deployments wait QUEUED and start oldest first as slots free", async (t) => {
  const s = await setUp(t, { limit: 1 });
  const first = await s.inspect(await s.deploy());
  const second = await s.inspect(await s.deploy());
  const third = await s.inspect(await s.deploy());
  t.deepEqual([first.status, second.status, third.status], ["BUILDING", "QUEUED", "QUEUED"]);
  t.truthy(second.buildRequest?.sourceLocation);
  t.is(s.buildOf(second.id), undefined);

  await s.deliver(...(await s.runBuild(first.buildId!)));
  t.is((await s.get(first.id)).status, "SUCCEEDED");
  const started = await s.get(second.id);
  t.is(started.status, "BUILDING", "the oldest queued one got the slot");
  t.is(started.buildId, s.buildOf(second.id)!.id);
  t.is((await s.get(third.id)).status, "QUEUED");

  t.is((await s.cancel(third.id)).body.status, "CANCELED", "a queued deployment cancels at once");
  await s.deliver(...(await s.runBuild(started.buildId!, "BUILD")));
  t.is((await s.get(second.id)).status, "FAILED");
  t.is(s.buildOf(third.id), undefined, "the canceled one never builds");
  t.deepEqual(await s.slots.holders(), []);
});

test.serial(
  "the reconciler starts a queue nobody started, and gives back slots of deployments that ended",
  async (t) => {
    const s = await setUp(t, { limit: 1 });
    const first = await s.inspect(await s.deploy());
    const second = await s.inspect(await s.deploy());
    t.is(second.status, "QUEUED");
    // The first one ends without its slot going back (a crash between the two writes).
    await s.deployments.transition(first.id, "FAILED", { statusReason: { code: "X", message: "x" } });
    const report = await s.reconcile();
    t.like(report, { released: 1, started: 1, errors: 0 });
    t.is((await s.get(second.id)).status, "BUILDING");

    // The second one ends and gives its slot back, but the start of the next was lost: the queue pass starts it.
    const third = await s.inspect(await s.deploy());
    t.is(third.status, "QUEUED");
    await s.deployments.transition(second.id, "FAILED", { statusReason: { code: "X", message: "x" } });
    await s.slots.release("alice", second.id);
    t.like(await s.reconcile(), { queuedUsers: 1, released: 0, started: 1 });
    t.is((await s.get(third.id)).status, "BUILDING");
  },
);

test.serial(
  "two deployments racing for the last slot: exactly one gets it; acquire and release are idempotent",
  async (t) => {
    const s = await setUp(t);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.slots.acquire("bob", `d-${i}`, 1)));
    t.is(results.filter(Boolean).length, 1);
    const winner = `d-${results.indexOf(true)}`;
    t.true(await s.slots.acquire("bob", winner, 1), "the holder asking again keeps its slot");
    await s.slots.release("bob", winner);
    await s.slots.release("bob", winner);
    await s.slots.release("nobody", "d-0");
    t.deepEqual(await s.slots.holders(), []);
    t.true(await s.slots.acquire("bob", "d-x", 1));
  },
);

test.serial(
  "logs: an empty page before the build logs; then pages in order; the cursor follows a running build; 404 for others",
  async (t) => {
    const s = await setUp(t);
    const deployment = await s.deploy();
    t.deepEqual((await s.logs(deployment.id)).body, { events: [] });
    const building = await s.inspect(deployment);
    t.deepEqual((await s.logs(deployment.id)).body, { events: [] }, "the build has not logged yet");
    const { world } = t.context;
    const { groupName, streamName } = world.aws.buildLogs(building.buildId!);
    const write = (...lines: string[]) =>
      world.aws.putLogEvents(
        groupName,
        streamName,
        lines.map((message, i) => ({ timestamp: 1_700_000_000_000 + i, message })),
      );
    write("line 1", "line 2", "line 3");
    const first = await s.logs(deployment.id, { limit: "2" });
    t.deepEqual(
      first.body.events.map((e: { message: string }) => e.message),
      ["line 1", "line 2"],
    );
    t.is(first.body.events[0].timestamp, "2023-11-14T22:13:20.000Z");
    const second = await s.logs(deployment.id, { cursor: first.body.nextCursor, limit: "2" });
    t.deepEqual(
      second.body.events.map((e: { message: string }) => e.message),
      ["line 3"],
    );
    const idle = await s.logs(deployment.id, { cursor: second.body.nextCursor });
    t.deepEqual(idle.body.events, []);
    t.is(idle.body.nextCursor, second.body.nextCursor, "nothing new yet: the same cursor to poll with");
    write("line 4");
    const more = await s.logs(deployment.id, { cursor: idle.body.nextCursor });
    t.deepEqual(
      more.body.events.map((e: { message: string }) => e.message),
      ["line 4"],
    );

    await s.deployments.transition(deployment.id, "SUCCEEDED");
    const end = await s.logs(deployment.id, { cursor: more.body.nextCursor });
    t.deepEqual(end.body, { events: [] }, "a finished deployment read to its end: no cursor");

    t.is((await s.logs(deployment.id, {}, "mallory")).status, 404);
    const bad = await s.logs(deployment.id, { cursor: "nonsense" });
    t.is(bad.status, 400);
    t.is(bad.body.error.field, "cursor");
    t.is((await s.logs(deployment.id, { limit: "0" })).body.error.field, "limit");
    const foreign = await s.logs(deployment.id, { cursor: `f/${"1".repeat(56)}/s` });
    t.is(foreign.status, 400, "a token CloudWatch refuses is the client's mistake");
  },
);
