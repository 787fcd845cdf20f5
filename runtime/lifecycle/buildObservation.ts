import type { Build } from "@aws-sdk/client-codebuild";

/**
 * What Slipway learns about a build, from either source: an EventBridge event (`CodeBuild Build State Change` or
 * `CodeBuild Build Phase Change`) or CodeBuild's own record (BatchGetBuilds, which the reconciler reads). One shape,
 * so one state machine (`settleDeployment`) decides for both.
 *
 * Event shapes: https://docs.aws.amazon.com/codebuild/latest/userguide/sample-build-notifications.html#sample-build-notifications-ref
 * (detail: build-status / completed-phase, project-name, build-id as an ARN, additional-information with environment,
 * logs, phases; times like "Sep 1, 2017 4:12:29 PM").
 */
export interface BuildObservation {
  /** CodeBuild's build id, `<project>:<uuid>` (events carry the build ARN; it is reduced to this). */
  readonly buildId: string;
  readonly projectName: string;
  /** The build's DEPLOYMENT_ID variable, when the source carried the build's variables. */
  readonly deploymentId?: string;
  /**
   * The build's status when known: IN_PROGRESS or a final one (SUCCEEDED, FAILED, FAULT, TIMED_OUT, STOPPED).
   * Phase change events carry none: they only ever tell progress.
   */
  readonly buildStatus?: string;
  /** The phase the build is in now. */
  readonly currentPhase?: string;
  /** Every phase so far, in order, with its status once complete and CodeBuild's context messages. */
  readonly phases: readonly ObservedPhase[];
  /** When the source saw this (the event's time, or when BatchGetBuilds answered): orders observations of one rank. */
  readonly observedAt: string;
  /** The CloudWatch console link to the build's log stream. */
  readonly logsUrl?: string;
  readonly timeoutInMinutes?: number;
}

export interface ObservedPhase {
  readonly type: string;
  readonly status?: string;
  readonly contexts: readonly string[];
}

/** CodeBuild's phases in the order a build goes through them; a phase's index is its rank. */
export const PHASE_ORDER = [
  "SUBMITTED",
  "QUEUED",
  "PROVISIONING",
  "DOWNLOAD_SOURCE",
  "INSTALL",
  "PRE_BUILD",
  "BUILD",
  "POST_BUILD",
  "UPLOAD_ARTIFACTS",
  "FINALIZING",
  "COMPLETED",
] as const;

export const FINAL_BUILD_STATUSES: readonly string[] = ["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"];

/** A phase's rank (unknown phases rank before all known ones, so they never move a known phase back). */
export function phaseRank(phase: string | undefined): number {
  return PHASE_ORDER.indexOf(phase as (typeof PHASE_ORDER)[number]);
}

export const isFinalBuildStatus = (status: string | undefined): boolean =>
  status !== undefined && FINAL_BUILD_STATUSES.includes(status);

/** `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>` (or already `<project>:<uuid>`) → `<project>:<uuid>`. */
export function buildIdOf(buildIdOrArn: string): string {
  const marker = ":build/";
  const at = buildIdOrArn.indexOf(marker);
  return at >= 0 ? buildIdOrArn.slice(at + marker.length) : buildIdOrArn;
}

/** The variable the inspector sets on every build (runtime/build/buildStarter.ts). */
const DEPLOYMENT_ID_VARIABLE = "DEPLOYMENT_ID";

type EventPhase = { "phase-type"?: unknown; "phase-status"?: unknown; "phase-context"?: unknown };
type EventDetail = Record<string, unknown> & {
  "additional-information"?: {
    environment?: { "environment-variables"?: { name?: unknown; value?: unknown }[] };
    logs?: { "deep-link"?: unknown };
    phases?: EventPhase[];
    "timeout-in-minutes"?: unknown;
  };
};

export interface CodeBuildEvent {
  readonly "detail-type": string;
  readonly source: string;
  readonly time: string;
  readonly detail: EventDetail;
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** An EventBridge event from CodeBuild as an observation; undefined for any other event (nothing to act on). */
export function observationFromEvent(event: CodeBuildEvent): BuildObservation | undefined {
  if (event.source !== "aws.codebuild") return undefined;
  const detail = event.detail ?? {};
  const buildArn = text(detail["build-id"]);
  const projectName = text(detail["project-name"]);
  if (!buildArn || !projectName) return undefined;
  const info = detail["additional-information"] ?? {};
  const phases: ObservedPhase[] = (info.phases ?? []).map((phase) => ({
    type: String(phase["phase-type"]),
    ...(text(phase["phase-status"]) ? { status: String(phase["phase-status"]) } : {}),
    contexts: Array.isArray(phase["phase-context"]) ? phase["phase-context"].map(String) : [],
  }));
  const deploymentId = text(
    (info.environment?.["environment-variables"] ?? []).find((v) => v.name === DEPLOYMENT_ID_VARIABLE)?.value,
  );
  const common = {
    buildId: buildIdOf(buildArn),
    projectName,
    phases,
    observedAt: new Date(event.time).toISOString(),
    ...(deploymentId ? { deploymentId } : {}),
    ...(text(info.logs?.["deep-link"]) ? { logsUrl: String(info.logs!["deep-link"]) } : {}),
    ...(typeof info["timeout-in-minutes"] === "number" ? { timeoutInMinutes: info["timeout-in-minutes"] } : {}),
  };
  if (event["detail-type"] === "CodeBuild Build State Change") {
    const buildStatus = text(detail["build-status"]);
    const currentPhase = text(detail["current-phase"]);
    return {
      ...common,
      ...(buildStatus ? { buildStatus } : {}),
      ...(currentPhase ? { currentPhase } : {}),
    };
  }
  if (event["detail-type"] === "CodeBuild Build Phase Change") {
    return { ...common, currentPhase: currentPhaseAfter(text(detail["completed-phase"]), phases) };
  }
  return undefined;
}

/**
 * The phase a build is in after a phase change: the last listed phase that has not ended, or else the one after the
 * completed phase in CodeBuild's order.
 */
function currentPhaseAfter(completed: string | undefined, phases: readonly ObservedPhase[]): string | undefined {
  const last = phases[phases.length - 1];
  if (last && last.status === undefined) return last.type;
  const rank = phaseRank(completed);
  return rank >= 0 ? PHASE_ORDER[Math.min(rank + 1, PHASE_ORDER.length - 1)] : undefined;
}

/** CodeBuild's record of a build (BatchGetBuilds) as an observation made at `now`. */
export function observationFromBuild(build: Build, now: Date): BuildObservation | undefined {
  if (!build.id || !build.projectName) return undefined;
  const deploymentId = build.environment?.environmentVariables?.find((v) => v.name === DEPLOYMENT_ID_VARIABLE)?.value;
  return {
    buildId: build.id,
    projectName: build.projectName,
    phases: (build.phases ?? []).map((phase) => ({
      type: String(phase.phaseType),
      ...(phase.phaseStatus ? { status: phase.phaseStatus } : {}),
      contexts: (phase.contexts ?? []).map((context) =>
        [context.statusCode, context.message].filter((part) => part).join(": "),
      ),
    })),
    observedAt: now.toISOString(),
    ...(deploymentId ? { deploymentId } : {}),
    ...(build.buildStatus ? { buildStatus: build.buildStatus } : {}),
    ...(build.currentPhase ? { currentPhase: build.currentPhase } : {}),
    ...(build.logs?.deepLink ? { logsUrl: build.logs.deepLink } : {}),
    ...(build.timeoutInMinutes !== undefined ? { timeoutInMinutes: build.timeoutInMinutes } : {}),
  };
}
