import test from "ava";
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, StopBuildCommand } from "@aws-sdk/client-codebuild";
import type { AwsEmulator, CodeBuildEvent } from "../local/emulators/aws";
import { eventTime } from "../local/emulators/aws/codeBuildEvents";
import { awsClientConfig, startAwsFor } from "./helpers/emulators";

/*
 * The shape of CodeBuild's two EventBridge events, as AWS documents them with a sample of each in "Build
 * notifications input format reference":
 * https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html#sample-build-notifications-ref
 * Written here as a skeleton (each field → its JSON type; arrays hold the shape of their elements), not as the samples'
 * values. The local CodeBuild's events must have exactly these fields, with these types.
 */
type Shape = "string" | "number" | "boolean" | readonly Shape[] | { readonly [field: string]: Shape };

const COMPLETED_PHASE: Shape = {
  "phase-context": ["string"],
  "start-time": "string",
  "end-time": "string",
  "duration-in-seconds": "number",
  "phase-type": "string",
  "phase-status": "string",
};
/** The phase in progress is listed last, with only its start and type (in the samples, COMPLETED). */
const CURRENT_PHASE: Shape = { "start-time": "string", "phase-type": "string" };

const ADDITIONAL_INFORMATION: Shape = {
  // The samples' builds have artifacts (md5sum, sha256sum, location); Slipway's projects have NO_ARTIFACTS, for which
  // CodeBuild reports only an empty location. The one documented difference, checked below.
  artifact: { location: "string" },
  environment: {
    image: "string",
    "privileged-mode": "boolean",
    "compute-type": "string",
    type: "string",
    "environment-variables": [{ name: "string", type: "string", value: "string" }],
  },
  "timeout-in-minutes": "number",
  "build-complete": "boolean",
  initiator: "string",
  "build-start-time": "string",
  source: { location: "string", type: "string" },
  logs: { "group-name": "string", "stream-name": "string", "deep-link": "string" },
  phases: [COMPLETED_PHASE, CURRENT_PHASE],
};

const ENVELOPE = {
  version: "string",
  id: "string",
  "detail-type": "string",
  source: "string",
  account: "string",
  time: "string",
  region: "string",
  resources: ["string"],
} as const;

const STATE_CHANGE: Shape = {
  ...ENVELOPE,
  detail: {
    "build-status": "string",
    "project-name": "string",
    "build-id": "string",
    "additional-information": ADDITIONAL_INFORMATION,
    "current-phase": "string",
    "current-phase-context": "string",
    version: "string",
  },
};

const PHASE_CHANGE: Shape = {
  ...ENVELOPE,
  detail: {
    "completed-phase": "string",
    "project-name": "string",
    "build-id": "string",
    "completed-phase-context": "string",
    "additional-information": ADDITIONAL_INFORMATION,
    "completed-phase-status": "string",
    "completed-phase-duration-seconds": "number",
    version: "string",
    "completed-phase-start": "string",
    "completed-phase-end": "string",
  },
};

/** Every place `value` differs from `shape`: a missing or extra field, or another type. Arrays: each element must match one of the shapes listed. */
function mismatches(value: unknown, shape: Shape, path = "$"): string[] {
  if (typeof shape === "string") return typeof value === shape ? [] : [`${path}: ${typeof value}, expected ${shape}`];
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: not an array`];
    return value.flatMap((element, i) => {
      const options = shape.map((option) => mismatches(element, option, `${path}[${i}]`));
      return options.some((found) => found.length === 0) ? [] : options.sort((a, b) => a.length - b.length)[0]!;
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: not an object`];
  const fields = shape as Record<string, Shape>;
  const actual = value as Record<string, unknown>;
  return [
    ...Object.keys(fields)
      .filter((field) => !(field in actual))
      .map((field) => `${path}.${field}: missing`),
    ...Object.keys(actual)
      .filter((field) => !(field in fields))
      .map((field) => `${path}.${field}: not in AWS's event`),
    ...Object.keys(fields)
      .filter((field) => field in actual)
      .flatMap((field) => mismatches(actual[field], fields[field]!, `${path}.${field}`)),
  ];
}

const AWS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const CODEBUILD_TIME = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d (AM|PM)$/;

async function world(t: Parameters<typeof startAwsFor>[0]) {
  const aws = await startAwsFor(t);
  aws.defineProject("slipway-node-local", {
    environment: { environmentVariables: [{ name: "IMAGE_REPOSITORY_URI", value: "repo" }] },
    timeoutInMinutes: 30,
    logGroupName: "/aws/codebuild/slipway-node-local",
  });
  const events: CodeBuildEvent[] = [];
  let wake = () => {};
  aws.onCodeBuild({
    onEvent: (event) => {
      events.push(event);
      wake();
    },
  });
  const client = new CodeBuildClient(awsClientConfig(aws.url));
  let started = 0;
  const start = async () => {
    const { build } = await client.send(
      new StartBuildCommand({
        projectName: "slipway-node-local",
        idempotencyToken: `d-${++started}`,
        sourceTypeOverride: "S3",
        sourceLocationOverride: "slipway-sources/sources/d-1.zip",
        environmentVariablesOverride: [{ name: "DEPLOYMENT_ID", value: "d-1", type: "PLAINTEXT" }],
      }),
    );
    return build!.id!;
  };
  /** Resolves once the events so far satisfy `predicate` (they are sent after CodeBuild's answers, as in AWS). */
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { aws, client, events, start, until };
}

const phasesOf = (event: CodeBuildEvent) =>
  (
    event.detail["additional-information"] as { phases: { "phase-type": string; "phase-status"?: string }[] }
  ).phases.map((p) => `${p["phase-type"]}${p["phase-status"] ? `:${p["phase-status"]}` : ""}`);

function describe(event: CodeBuildEvent): string {
  return event["detail-type"] === "CodeBuild Build State Change"
    ? `state ${String(event.detail["build-status"])}`
    : `phase ${String(event.detail["completed-phase"])} ${String(event.detail["completed-phase-status"])}`;
}

test("the local CodeBuild's events have exactly the fields and types of AWS's documented samples", async (t) => {
  const { aws, events, start, until } = await world(t);
  const id = await start();
  await until(() => events.length >= 2);
  while (aws.advanceBuild(id) !== "COMPLETED");
  await until(() => events.some((e) => e.detail["build-status"] === "SUCCEEDED"));
  t.true(events.length > 10);
  for (const event of events) {
    const shape = event["detail-type"] === "CodeBuild Build State Change" ? STATE_CHANGE : PHASE_CHANGE;
    t.deepEqual(mismatches(event, shape), [], describe(event));
    t.is(event.version, "0");
    t.is(event.source, "aws.codebuild");
    t.is(event.detail.version, "1");
    t.regex(event.time, AWS_TIME);
    const arn = `arn:aws:codebuild:us-east-1:000000000000:build/${id}`;
    t.is(event.detail["build-id"], arn);
    t.deepEqual(event.resources, [arn]);
    t.is(event.detail["project-name"], "slipway-node-local");
    const info = event.detail["additional-information"] as Record<string, any>;
    t.regex(info["build-start-time"], CODEBUILD_TIME);
    for (const phase of info.phases) {
      t.regex(phase["start-time"], CODEBUILD_TIME);
      if (phase["end-time"]) t.regex(phase["end-time"], CODEBUILD_TIME);
    }
    t.deepEqual(info.logs["group-name"], "/aws/codebuild/slipway-node-local");
    t.is(info.logs["stream-name"], id.split(":")[1]);
    t.true(
      String(info.logs["deep-link"]).includes(`group=/aws/codebuild/slipway-node-local;stream=${id.split(":")[1]}`),
    );
    t.true(
      info.environment["environment-variables"].some(
        (v: { name: string; value: string }) => v.name === "DEPLOYMENT_ID" && v.value === "d-1",
      ),
      "the build's variables, overrides included",
    );
  }
  t.deepEqual(events.map(describe), [
    "state IN_PROGRESS",
    "phase SUBMITTED SUCCEEDED",
    "phase QUEUED SUCCEEDED",
    "phase PROVISIONING SUCCEEDED",
    "phase DOWNLOAD_SOURCE SUCCEEDED",
    "phase INSTALL SUCCEEDED",
    "phase PRE_BUILD SUCCEEDED",
    "phase BUILD SUCCEEDED",
    "phase POST_BUILD SUCCEEDED",
    "phase UPLOAD_ARTIFACTS SUCCEEDED",
    "phase FINALIZING SUCCEEDED",
    "state SUCCEEDED",
  ]);
  const final = events[events.length - 1]!;
  t.is(final.detail["current-phase"], "COMPLETED");
  t.true((final.detail["additional-information"] as { "build-complete": boolean })["build-complete"]);
  t.deepEqual(phasesOf(final).slice(-2), ["FINALIZING:SUCCEEDED", "COMPLETED"]);
});

test("eventTime writes CodeBuild's format in UTC", (t) => {
  t.is(eventTime(Date.UTC(2017, 8, 1, 16, 12, 29)), "Sep 1, 2017 4:12:29 PM");
  t.is(eventTime(Date.UTC(2024, 0, 9, 0, 5, 7)), "Jan 9, 2024 12:05:07 AM");
  t.is(eventTime(Date.UTC(2024, 11, 31, 12, 0, 0)), "Dec 31, 2024 12:00:00 PM");
});

test("phase transitions: BUILD failing still runs POST_BUILD; PRE_BUILD failing goes to FINALIZING; the build FAILED", async (t) => {
  const { aws, client, events, start, until } = await world(t);
  const walk = async (failIn: string) => {
    const id = await start();
    await until(() =>
      events.some((e) => e.detail["build-id"] === `arn:aws:codebuild:us-east-1:000000000000:build/${id}`),
    );
    const entered: string[] = [];
    let phase = aws.builds().find((b) => b.id === id)!.currentPhase;
    while (phase !== "COMPLETED") {
      const failing = phase === failIn;
      phase = aws.advanceBuild(
        id,
        failing
          ? { status: "FAILED", context: { statusCode: "COMMAND_EXECUTION_ERROR", message: "exit status 1" } }
          : {},
      );
      entered.push(phase);
    }
    const { builds } = await client.send(new BatchGetBuildsCommand({ ids: [id] }));
    return { entered, build: builds![0]! };
  };
  const afterBuild = await walk("BUILD");
  t.deepEqual(afterBuild.entered.slice(-5), ["BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"]);
  t.is(afterBuild.build.buildStatus, "FAILED");
  const failed = afterBuild.build.phases!.find((p) => p.phaseStatus === "FAILED")!;
  t.is(failed.phaseType, "BUILD");
  t.deepEqual(failed.contexts, [{ statusCode: "COMMAND_EXECUTION_ERROR", message: "exit status 1" }]);

  // Wait for the next build's first event in a fresh list.
  events.length = 0;
  const afterPreBuild = await walk("PRE_BUILD");
  t.deepEqual(afterPreBuild.entered.slice(-3), ["PRE_BUILD", "FINALIZING", "COMPLETED"]);
  t.is(afterPreBuild.build.buildStatus, "FAILED");
  await until(() => events.some((e) => e.detail["build-status"] === "FAILED"));
  const phaseEvent = events.find((e) => e.detail["completed-phase"] === "PRE_BUILD")!;
  t.is(phaseEvent.detail["completed-phase-status"], "FAILED");
  t.is(phaseEvent.detail["completed-phase-context"], JSON.stringify(["COMMAND_EXECUTION_ERROR: exit status 1"]));
});

test("StopBuild answers IN_PROGRESS, then the build stops: the phase STOPPED, FINALIZING, state STOPPED; a finished build stays as it ended", async (t) => {
  const { aws, client, events, start, until } = await world(t);
  let stopRequested = "";
  aws.onCodeBuild({ onStopRequested: (build) => (stopRequested = build.id) });
  const id = await start();
  await until(() => events.length >= 2);
  aws.advanceBuild(id); // QUEUED → PROVISIONING
  aws.advanceBuild(id); // → DOWNLOAD_SOURCE
  const { build } = await client.send(new StopBuildCommand({ id }));
  t.is(build?.buildStatus, "IN_PROGRESS");
  t.is(stopRequested, id);
  await until(() => events.some((e) => e.detail["build-status"] === "STOPPED"));
  const stopped = events.find((e) => e.detail["build-status"] === "STOPPED")!;
  t.deepEqual(phasesOf(stopped).slice(-3), ["DOWNLOAD_SOURCE:STOPPED", "FINALIZING:SUCCEEDED", "COMPLETED"]);
  t.throws(() => aws.advanceBuild(id), { message: /already ended/ });

  const again = await client.send(new StopBuildCommand({ id }));
  t.is(again.build?.buildStatus, "STOPPED");
  const unknown = await client.send(new StopBuildCommand({ id: "slipway-node-local:nope" })).catch((e: Error) => e);
  t.is((unknown as Error).name, "ResourceNotFoundException");
});

test("StopBuild is authorized on the build's project", async (t) => {
  const aws: AwsEmulator = await startAwsFor(t, {
    authorize: (_key, action, resource) =>
      action !== "codebuild:StopBuild" || resource === "arn:aws:codebuild:us-east-1:000000000000:project/allowed",
  });
  aws.defineProject("other");
  const client = new CodeBuildClient(awsClientConfig(aws.url));
  const { build } = await client.send(new StartBuildCommand({ projectName: "other" }));
  const denied = await client.send(new StopBuildCommand({ id: build!.id! })).catch((e: Error) => e);
  t.is((denied as Error).name, "AccessDeniedException");
});
