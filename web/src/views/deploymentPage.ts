import { isMissingRoute } from "../api";
import { startPolling, type BackoffSettings } from "../backoff";
import { announce, h, render } from "../h";
import { followLog, isScrolledToBottom, type LogFollow } from "../logFollower";
import { cancelState, statusDisplay } from "../status";
import { historyLines } from "../statusHistory";
import { suggestedActions } from "../suggestedActions";
import type { Deployment } from "../types";
import type { PageContext } from "./context";
import { deployNow } from "./deployDialog";
import { shortSha, statusBadge, timeAgo } from "./statusBadge";

/** The clock time of a history entry, to the second (the list is read within a day of the build, mostly). */
const formatTime = (iso: string): string =>
  new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A person watching one deployment wants to see it move: the waits stay short (a build's phases last seconds). */
const WATCHING: BackoffSettings = { minMs: 1000, maxMs: 5000, factor: 1.5 };

const STATUS_NOTES: Readonly<Record<string, string>> = {
  PENDING: "Waiting to be inspected.",
  PROCESSING: "Reading the repository to decide what to build.",
  QUEUED: "Waiting for one of your running builds to finish (your concurrent build limit).",
};

/**
 * One deployment: its status (polled until final), the build's phase, the image, the reason and the actions it
 * suggests, the build log followed with its cursor to its end, and Cancel while it can be canceled. The log and
 * Cancel are hidden where the API lacks those routes (the gateway's 404 for the route).
 */
export function deploymentPage(root: HTMLElement, context: PageContext, id: string): void {
  let deployment: Deployment | undefined;
  let cancelSupported = true;
  let follow: LogFollow = { done: false };
  const summary = h("section", { "aria-labelledby": "summary-title" });
  const reason = h("section", { class: "reason", "aria-live": "polite" });
  const history = h("section", { "aria-labelledby": "history-title" });
  const log = h("pre", { class: "log", tabindex: "0", role: "log", "aria-label": "Build log" });
  const logState = h("p", { class: "hint", id: "log-state" }, "Waiting for the build to log…");
  const logSection = h(
    "section",
    { hidden: true, "aria-labelledby": "log-title" },
    h("h2", { id: "log-title" }, "Build log"),
    log,
    logState,
  );
  const actionError = h("p", { class: "form-error", role: "alert" });
  const cancel = h("button", { type: "button", hidden: true, class: "danger" }, "Cancel deployment");
  const cancelNote = h("p", { class: "hint", hidden: true }, "Cancel requested: waiting for the build to stop…");

  render(
    root,
    h("p", {}, h("a", { href: "/" }, "← All deployments")),
    summary,
    h("div", { class: "actions start" }, cancel),
    cancelNote,
    actionError,
    reason,
    history,
    logSection,
  );

  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    render(actionError);
    context.api
      .cancelDeployment(id)
      .then((updated) => {
        deployment = updated;
        announce(updated.status === "CANCELED" ? "Deployment canceled" : "Cancel requested");
        draw();
        statusPoller.poke();
      })
      .catch((e: unknown) => {
        if (isMissingRoute(e)) {
          cancelSupported = false;
          draw();
        } else {
          // 409 DEPLOYMENT_FINISHED among others: the API's own words, then the fresh status.
          render(actionError, e instanceof Error ? e.message : String(e));
          statusPoller.poke();
        }
      })
      .finally(() => (cancel.disabled = false));
  });

  function draw(): void {
    if (!deployment) return;
    const d = deployment;
    const display = statusDisplay(d.status);
    document.title = `${d.repository} · ${display.label} · Slipway`;
    const note = STATUS_NOTES[d.status];
    const rows: [string, Node | string][] = [
      ["Status", h("span", {}, statusBadge(d.status, d.phase), note ? h("span", { class: "hint" }, " ", note) : null)],
    ];
    if (d.phase && d.status === "BUILDING") rows.push(["Phase", h("code", {}, d.phase)]);
    rows.push(
      ["Ref", d.ref ?? "default branch"],
      ["Commit", h("code", {}, shortSha(d.commitSha))],
      ["Root directory", d.rootDirectory || "repository root"],
      ["Framework", d.framework ?? "—"],
      ["Builder", d.builder ?? "—"],
    );
    if (d.image) {
      rows.push(
        ["Image", h("code", { class: "wrap", "aria-label": "Image URI" }, d.image.uri)],
        ["Digest", h("code", { class: "wrap", "aria-label": "Image digest" }, d.image.digest)],
      );
    }
    if (d.trigger === "push") rows.push(["Trigger", "push to the project's branch"]);
    rows.push(["Created", timeAgo(d.createdAt)], ["Updated", timeAgo(d.updatedAt)]);
    if (d.finishedAt) rows.push(["Finished", timeAgo(d.finishedAt)]);
    if (d.buildId) rows.push(["Build", h("code", { class: "wrap" }, d.buildId)]);
    if (d.logsUrl) rows.push(["Logs", h("a", { href: d.logsUrl, target: "_blank", rel: "noopener" }, "CloudWatch")]);
    render(
      summary,
      h("h1", { id: "summary-title" }, d.repository),
      h("dl", { class: "facts" }, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    );
    drawHistory(d);
    const canCancel = cancelState(d);
    cancel.hidden = !cancelSupported || canCancel !== "available";
    cancelNote.hidden = canCancel !== "requested";

    if (!d.statusReason) {
      render(reason);
      return;
    }
    const actions = suggestedActions(d.statusReason);
    render(
      reason,
      h("h2", {}, display.final ? "Why it stopped" : "Status"),
      h(
        "p",
        { class: `reason-message tone-${display.tone}` },
        h("strong", {}, d.statusReason.code),
        ": ",
        d.statusReason.message,
        d.statusReason.phase ? ` (in ${d.statusReason.phase})` : "",
      ),
      actions.length > 0
        ? h(
            "ul",
            { class: "suggested", "aria-label": "Suggested actions" },
            ...actions.map((action) =>
              h(
                "li",
                {},
                action.kind === "link"
                  ? h("a", { href: action.href, class: "button", target: "_blank", rel: "noopener" }, action.label)
                  : h(
                      "button",
                      {
                        type: "button",
                        onclick: (event: MouseEvent) => {
                          (event.currentTarget as HTMLButtonElement).disabled = true;
                          deployNow(context, {
                            repository: d.repository,
                            ...(d.ref ? { ref: d.ref } : {}),
                            rootDirectory: action.rootDirectory,
                          })
                            .then((created) => context.navigate(`/deployment/${created.id}`))
                            .catch((e: unknown) => render(actionError, e instanceof Error ? e.message : String(e)));
                        },
                      },
                      action.label,
                    ),
              ),
            ),
          )
        : null,
    );
  }

  /** Every status the deployment entered, oldest first: an ordered list, redrawn with the rest on each change. */
  function drawHistory(d: Deployment): void {
    const lines = historyLines(d);
    render(
      history,
      h("h2", { id: "history-title" }, "Status history"),
      lines
        ? h(
            "ol",
            { class: "history", "aria-labelledby": "history-title" },
            ...lines.map((line) =>
              h(
                "li",
                {},
                statusBadge(line.status),
                line.again ? " again" : "",
                " ",
                h("time", { datetime: line.at, title: new Date(line.at).toLocaleString() }, formatTime(line.at)),
                line.after ? h("span", { class: "hint" }, ` ${line.after}`) : "",
                line.reasonCode ? h("span", {}, " ", h("code", {}, line.reasonCode)) : "",
              ),
            ),
          )
        : h("p", { class: "hint" }, "Not recorded: this deployment was made before Slipway kept status histories."),
    );
  }

  const statusPoller = startPolling(async (signal) => {
    const fresh = await context.api.getDeployment(id, signal).catch((e: unknown) => {
      if (!signal.aborted) {
        render(
          summary,
          h("h1", {}, "Deployment"),
          h("p", { role: "alert" }, e instanceof Error ? e.message : String(e)),
        );
      }
      throw e;
    });
    const changed =
      fresh.updatedAt !== deployment?.updatedAt ||
      fresh.status !== deployment?.status ||
      fresh.phase !== deployment?.phase;
    if (changed && deployment && fresh.status !== deployment.status) {
      announce(`Status: ${statusDisplay(fresh.status).label}`);
    }
    deployment = fresh;
    if (changed) draw();
    const final = statusDisplay(fresh.status).final;
    // The log reads on to its end once the deployment is final: wake it rather than wait out its backoff.
    if (final) logPoller.poke();
    return final ? "stop" : changed ? "changed" : "unchanged";
  }, WATCHING);

  // The log: follow the cursor until the deployment is final and its log read to the end (logFollower.ts).
  const logPoller = startPolling(async (signal) => {
    let page;
    try {
      page = await context.api.getLogs(id, follow.cursor, signal);
    } catch (e) {
      if (isMissingRoute(e)) {
        logSection.hidden = true;
        return "stop";
      }
      throw e;
    }
    logSection.hidden = false;
    const final = deployment !== undefined && statusDisplay(deployment.status).final;
    const step = followLog(follow, page, final);
    follow = step.state;
    if (step.text) {
      const atBottom = isScrolledToBottom(log);
      log.append(step.text);
      if (atBottom) log.scrollTop = log.scrollHeight;
    }
    if (follow.done) {
      render(
        logState,
        log.textContent ? "End of the log." : "This deployment has no build log: it ended before a build started.",
      );
      return "stop";
    }
    render(logState, follow.cursor ? "Following the build…" : "Waiting for the build to log…");
    return step.text ? "changed" : "unchanged";
  }, WATCHING);

  context.onLeave(() => {
    statusPoller.stop();
    logPoller.stop();
  });
}
