import type { LogPage } from "./types";

/** Where a followed build log stands: the cursor to read from next, and whether it has been read to its end. */
export interface LogFollow {
  readonly cursor?: string;
  readonly done: boolean;
}

/**
 * Folds one page of GET /deployments/{id}/logs into the follow state, as the route documents it: `nextCursor` is the
 * place to read on from (a page is empty until more is logged); a page without one after we had one means a finished
 * deployment's log was read to its end; without one from the start, nothing is logged yet, which stays so for good
 * only when the deployment is already final (it ended before a build logged anything).
 */
export function followLog(
  state: LogFollow,
  page: LogPage,
  deploymentFinal: boolean,
): { state: LogFollow; text: string } {
  const text = page.events.map((event) => event.message.replace(/\n?$/, "\n")).join("");
  if (page.nextCursor !== undefined) return { state: { cursor: page.nextCursor, done: false }, text };
  if (state.cursor !== undefined) return { state: { done: true }, text };
  return { state: { done: deploymentFinal && page.events.length === 0 }, text };
}

/** Whether a scrolled box shows its last line (within a few pixels): only then does new text scroll it along. */
export function isScrolledToBottom(box: { scrollTop: number; clientHeight: number; scrollHeight: number }): boolean {
  return box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
}
