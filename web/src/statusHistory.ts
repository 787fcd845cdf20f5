import type { Deployment } from "./types";

/** One line of a deployment's status history, as the page shows it. */
export interface HistoryLine {
  readonly status: string;
  /** It repeats the status before (the inspector resuming after a failed attempt). */
  readonly again: boolean;
  readonly at: string;
  /** Time since the line before, "+2.4 s", "+3 min"; absent on the first. */
  readonly after?: string;
  readonly reasonCode?: string;
}

/**
 * The history GET /deployments/{id} returns, oldest first, as lines; undefined for a deployment stored before the
 * API kept one (the page then says so instead of showing an empty list).
 */
export function historyLines(deployment: Pick<Deployment, "history">): HistoryLine[] | undefined {
  const history = deployment.history;
  if (!history || history.length === 0) return undefined;
  return history.map((entry, index) => {
    const previous = index > 0 ? history[index - 1] : undefined;
    return {
      status: entry.status,
      again: previous?.status === entry.status,
      at: entry.at,
      ...(previous ? { after: elapsed(Date.parse(entry.at) - Date.parse(previous.at)) } : {}),
      ...(entry.reasonCode ? { reasonCode: entry.reasonCode } : {}),
    };
  });
}

/** "+0.4 s", "+12 s", "+3 min", "+2 h": short enough for a line, precise where builds spend their time. */
export function elapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  const seconds = ms / 1000;
  if (seconds < 10) return `+${seconds.toFixed(1)} s`;
  if (seconds < 90) return `+${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `+${Math.round(seconds / 60)} min`;
  return `+${Math.round(seconds / 3600)} h`;
}
