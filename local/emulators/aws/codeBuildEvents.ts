import { randomUUID } from "node:crypto";

/**
 * The EventBridge events CodeBuild sends to the default bus, field for field as AWS documents them in "Build
 * notifications input format reference":
 * https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html#sample-build-notifications-ref
 * (test/emulators-codebuild-events.test.ts holds the documented samples' shape and compares these events with it,
 * field for field).
 *
 * Worth knowing from the samples: the envelope's `time` has whole seconds; `build-id` is the build's ARN; times inside
 * `additional-information` are written like "Sep 1, 2017 4:12:29 PM" (UTC); `current-phase-context` and
 * `completed-phase-context` are strings ("[]"), while each phase's `phase-context` is an array; the phase in progress
 * is listed last, with only its start time and type.
 */
export interface CodeBuildEvent {
  readonly version: "0";
  readonly id: string;
  readonly "detail-type": "CodeBuild Build State Change" | "CodeBuild Build Phase Change";
  readonly source: "aws.codebuild";
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

/** A phase as the emulator keeps it (times in ms since the epoch). */
export interface EventPhase {
  readonly phaseType: string;
  readonly phaseStatus?: string;
  readonly startTime: number;
  readonly endTime?: number;
  /** "<statusCode>: <message>" lines. */
  readonly contexts: readonly string[];
}

/** The facts of a build the events carry. */
export interface EventBuild {
  readonly arn: string;
  readonly projectName: string;
  readonly buildNumber: number;
  readonly buildStatus: string;
  readonly currentPhase: string;
  readonly buildComplete: boolean;
  readonly startTime: number;
  readonly initiator: string;
  readonly timeoutInMinutes: number;
  readonly environment: {
    readonly image: string;
    readonly privilegedMode: boolean;
    readonly computeType: string;
    readonly type: string;
    readonly variables: readonly { name: string; value: string; type: string }[];
  };
  readonly source: { readonly type: string; readonly location?: string };
  readonly logs: { readonly groupName: string; readonly streamName: string; readonly deepLink: string };
  readonly phases: readonly EventPhase[];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Sep 1, 2017 4:12:29 PM", in UTC: how the events write times inside `additional-information`. */
export function eventTime(ms: number): string {
  const date = new Date(ms);
  const hours = date.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()} ` +
    `${hours % 12 === 0 ? 12 : hours % 12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${hours < 12 ? "AM" : "PM"}`
  );
}

/** The envelope's time: ISO-8601 with whole seconds ("2017-09-01T16:14:28Z"). */
const envelopeTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

function additionalInformation(build: EventBuild): Record<string, unknown> {
  return {
    // Slipway's projects have no artifacts (NO_ARTIFACTS): CodeBuild reports an empty location and no checksums.
    artifact: { location: "" },
    environment: {
      image: build.environment.image,
      "privileged-mode": build.environment.privilegedMode,
      "compute-type": build.environment.computeType,
      type: build.environment.type,
      "environment-variables": build.environment.variables.map((v) => ({ name: v.name, type: v.type, value: v.value })),
    },
    "timeout-in-minutes": build.timeoutInMinutes,
    "build-complete": build.buildComplete,
    initiator: build.initiator,
    "build-start-time": eventTime(build.startTime),
    source: {
      ...(build.source.location !== undefined ? { location: build.source.location } : {}),
      type: build.source.type,
    },
    logs: {
      "group-name": build.logs.groupName,
      "stream-name": build.logs.streamName,
      "deep-link": build.logs.deepLink,
    },
    phases: build.phases.map((phase) =>
      phase.endTime === undefined
        ? { "start-time": eventTime(phase.startTime), "phase-type": phase.phaseType }
        : {
            "phase-context": [...phase.contexts],
            "start-time": eventTime(phase.startTime),
            "end-time": eventTime(phase.endTime),
            "duration-in-seconds": Math.round((phase.endTime - phase.startTime) / 1000),
            "phase-type": phase.phaseType,
            "phase-status": phase.phaseStatus ?? "SUCCEEDED",
          },
    ),
  };
}

interface EventContext {
  readonly region: string;
  readonly accountId: string;
  /** When the event is sent (ms). */
  readonly now: number;
}

const envelope = (
  detailType: CodeBuildEvent["detail-type"],
  build: EventBuild,
  context: EventContext,
  detail: Record<string, unknown>,
): CodeBuildEvent => ({
  version: "0",
  id: randomUUID(),
  "detail-type": detailType,
  source: "aws.codebuild",
  account: context.accountId,
  time: envelopeTime(context.now),
  region: context.region,
  resources: [build.arn],
  detail,
});

/** `CodeBuild Build State Change`: the build started (IN_PROGRESS) or ended (its final status). */
export function buildStateChangeEvent(build: EventBuild, context: EventContext): CodeBuildEvent {
  return envelope("CodeBuild Build State Change", build, context, {
    "build-status": build.buildStatus,
    "project-name": build.projectName,
    "build-id": build.arn,
    "additional-information": additionalInformation(build),
    "current-phase": build.currentPhase,
    "current-phase-context": "[]",
    version: "1",
  });
}

/** `CodeBuild Build Phase Change`: `completedPhase` ended (its status, duration and context are in `build.phases`). */
export function buildPhaseChangeEvent(
  build: EventBuild,
  completedPhase: string,
  context: EventContext,
): CodeBuildEvent {
  const phase = build.phases.find((p) => p.phaseType === completedPhase && p.endTime !== undefined)!;
  return envelope("CodeBuild Build Phase Change", build, context, {
    "completed-phase": completedPhase,
    "project-name": build.projectName,
    "build-id": build.arn,
    "completed-phase-context": JSON.stringify(phase.contexts),
    "additional-information": additionalInformation(build),
    "completed-phase-status": phase.phaseStatus ?? "SUCCEEDED",
    "completed-phase-duration-seconds": Math.round((phase.endTime! - phase.startTime) / 1000),
    version: "1",
    "completed-phase-start": eventTime(phase.startTime),
    "completed-phase-end": eventTime(phase.endTime!),
  });
}
