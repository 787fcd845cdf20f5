import { h } from "../h";
import { relativeTime } from "../relativeTime";
import { statusDisplay } from "../status";

export function statusBadge(status: string, phase?: string): HTMLElement {
  const { label, tone } = statusDisplay(status);
  return h("span", { class: `badge badge-${tone}` }, phase && status === "BUILDING" ? `${label} · ${phase}` : label);
}

/** A <time> with the relative form as text and the exact time as its datetime and tooltip. */
export function timeAgo(iso: string, now = Date.now()): HTMLElement {
  return h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, relativeTime(iso, now));
}

export function shortSha(sha: string | undefined): string {
  return sha ? sha.slice(0, 7) : "—";
}
