import type { StatusReason } from "../deployment";
import type { DeploymentStatus } from "../schema";
import type { BuildObservation, ObservedPhase } from "./buildObservation";

/** Where a finished build leaves its deployment, and why (nothing for a success: the image says it all). */
export interface BuildOutcome {
  readonly status: Extract<DeploymentStatus, "SUCCEEDED" | "FAILED" | "CANCELED">;
  readonly reason?: StatusReason;
}

/** Phase statuses that end a phase badly (CodeBuild's BuildPhase.phaseStatus values other than SUCCEEDED). */
const BAD_PHASE_STATUSES: readonly string[] = ["FAILED", "FAULT", "TIMED_OUT", "STOPPED", "CLIENT_ERROR"];

/** The first phase that ended badly, if any: where a failure happened. */
export function failedPhase(phases: readonly ObservedPhase[]): ObservedPhase | undefined {
  return phases.find((phase) => phase.status !== undefined && BAD_PHASE_STATUSES.includes(phase.status));
}

const logsHint = (deploymentId: string) => `Its log says why: GET /deployments/${deploymentId}/logs.`;

/** CodeBuild's final build status → the deployment's outcome. A table: each status reads on its own. */
const OUTCOMES: Readonly<
  Record<string, (build: BuildObservation, deploymentId: string, cancelRequested: boolean) => BuildOutcome>
> = {
  SUCCEEDED: () => ({ status: "SUCCEEDED" }),
  FAILED: (build, id) => {
    const phase = failedPhase(build.phases);
    const context = phase?.contexts.find((c) => c.trim() !== "" && c !== "[]");
    return {
      status: "FAILED",
      reason: {
        code: "BUILD_FAILED",
        message:
          `The build failed${phase ? ` in its ${phase.type} phase` : ""}${context ? ` (${context})` : ""}. ` +
          `${logsHint(id)} Fix it and deploy again.`,
        ...(phase ? { phase: phase.type } : {}),
      },
    };
  },
  FAULT: (build, id) => {
    const phase = failedPhase(build.phases);
    return {
      status: "FAILED",
      reason: {
        code: "BUILD_FAULT",
        message:
          `CodeBuild failed on its side while running the build${phase ? ` (${phase.type} phase)` : ""}; ` +
          `your app is not at fault. Deploy again. ${logsHint(id)}`,
        ...(phase ? { phase: phase.type } : {}),
      },
    };
  },
  TIMED_OUT: (build, id) => {
    const phase = failedPhase(build.phases);
    return {
      status: "FAILED",
      reason: {
        code: "BUILD_TIMED_OUT",
        message:
          `The build ran longer than ${build.timeoutInMinutes ?? "its limit of"} minute(s) and was stopped` +
          `${phase ? ` in its ${phase.type} phase` : ""}. ${logsHint(id)} ` +
          "Make the build faster, or ask the platform team to raise buildTimeoutMinutes.",
        ...(phase ? { phase: phase.type } : {}),
      },
    };
  },
  STOPPED: (_build, _id, cancelRequested) => ({
    status: "CANCELED",
    reason: cancelRequested
      ? { code: "CANCELED", message: "Canceled at your request; its build was stopped." }
      : { code: "BUILD_STOPPED", message: "Its build was stopped outside Slipway (in CodeBuild). Deploy again." },
  }),
};

/** The outcome of a build in a final status; undefined while it runs. */
export function buildOutcome(
  build: BuildObservation,
  deploymentId: string,
  cancelRequested: boolean,
): BuildOutcome | undefined {
  const decide = build.buildStatus === undefined ? undefined : OUTCOMES[build.buildStatus];
  return decide?.(build, deploymentId, cancelRequested);
}
