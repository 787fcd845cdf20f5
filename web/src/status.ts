import type { DeploymentStatus } from "./types";

export type Tone = "neutral" | "progress" | "success" | "danger" | "muted";

/** How each status shows, and whether it can still change (polling stops and Cancel hides on final ones). */
export const STATUS_DISPLAY: Readonly<Record<DeploymentStatus, { label: string; tone: Tone; final: boolean }>> = {
  PENDING: { label: "Pending", tone: "neutral", final: false },
  PROCESSING: { label: "Inspecting", tone: "progress", final: false },
  QUEUED: { label: "Queued", tone: "neutral", final: false },
  BUILDING: { label: "Building", tone: "progress", final: false },
  SUCCEEDED: { label: "Succeeded", tone: "success", final: true },
  FAILED: { label: "Failed", tone: "danger", final: true },
  CANCELED: { label: "Canceled", tone: "muted", final: true },
};

/** Unknown statuses (a newer API) show as they are and are treated as not final, so they keep updating. */
export function statusDisplay(status: string): { label: string; tone: Tone; final: boolean } {
  return STATUS_DISPLAY[status as DeploymentStatus] ?? { label: status, tone: "neutral", final: false };
}

/**
 * What Cancel can do for a deployment: "available" before it ends (the API cancels PENDING/PROCESSING/QUEUED at once
 * and stops a BUILDING one), "requested" once asked while BUILDING (CodeBuild's stop event is on its way), else none.
 */
export function cancelState(deployment: {
  readonly status: string;
  readonly cancelRequestedAt?: string;
}): "available" | "requested" | "none" {
  if (!CANCELABLE.includes(deployment.status)) return "none";
  return deployment.cancelRequestedAt ? "requested" : "available";
}

const CANCELABLE: readonly string[] = ["PENDING", "PROCESSING", "QUEUED", "BUILDING"] satisfies DeploymentStatus[];
