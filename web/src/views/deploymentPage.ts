import { isMissingRoute } from "../api";
import { startPolling } from "../backoff";
import { announce, h, render } from "../h";
import { statusDisplay } from "../status";
import { suggestedActions } from "../suggestedActions";
import type { Deployment } from "../types";
import type { PageContext } from "./context";
import { deployNow } from "./deployDialog";
import { shortSha, statusBadge, timeAgo } from "./statusBadge";

/**
 * One deployment: its status (polled until final), the reason and the actions it suggests, the build log followed
 * with its cursor, and Cancel. The log and Cancel appear only where the API has those routes (a 404 from the gateway
 * for the route hides them).
 */
export function deploymentPage(root: HTMLElement, context: PageContext, id: string): void {
  let deployment: Deployment | undefined;
  let logsSupported: boolean | undefined;
  let logCursor: string | undefined;
  const summary = h("section", { "aria-labelledby": "summary-title" });
  const reason = h("section", { class: "reason", "aria-live": "polite" });
  const log = h("pre", { class: "log", tabindex: "0", "aria-label": "Build log" });
  const logSection = h("section", { hidden: true, "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Build log"), log);
  const actionError = h("p", { class: "form-error", role: "alert" });
  const cancel = h("button", { type: "button", hidden: true, class: "danger" }, "Cancel deployment");

  render(root, h("p", {}, h("a", { href: "/" }, "← All deployments")), summary, cancel, actionError, reason, logSection);

  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    context.api
      .cancelDeployment(id)
      .then((updated) => {
        deployment = updated;
        draw();
        statusPoller.poke();
      })
      .catch((e: unknown) => {
        if (isMissingRoute(e)) cancel.hidden = true;
        else render(actionError, e instanceof Error ? e.message : String(e));
      })
      .finally(() => (cancel.disabled = false));
  });

  function draw(): void {
    if (!deployment) return;
    const d = deployment;
    const display = statusDisplay(d.status);
    document.title = `${d.repository} · ${display.label} · Slipway`;
    const rows: [string, Node | string][] = [
      ["Status", statusBadge(d.status, d.phase)],
      ["Ref", d.ref ?? "default branch"],
      ["Commit", h("code", {}, shortSha(d.commitSha))],
      ["Root directory", d.rootDirectory || "repository root"],
      ["Framework", d.framework ?? "—"],
      ["Builder", d.builder ?? "—"],
      ["Created", timeAgo(d.createdAt)],
      ["Updated", timeAgo(d.updatedAt)],
    ];
    if (d.finishedAt) rows.push(["Finished", timeAgo(d.finishedAt)]);
    if (d.image) rows.push(["Image", h("code", { class: "wrap" }, `${d.image.uri}@${d.image.digest}`)]);
    if (d.buildId) rows.push(["Build", h("code", { class: "wrap" }, d.buildId)]);
    if (d.logsUrl) rows.push(["Logs", h("a", { href: d.logsUrl, target: "_blank", rel: "noopener" }, "CloudWatch")]);
    render(
      summary,
      h("h1", { id: "summary-title" }, d.repository),
      h("dl", { class: "facts" }, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    );
    cancel.hidden = display.final || logsSupported !== true;

    if (!d.statusReason) {
      render(reason);
      return;
    }
    const actions = suggestedActions(d.statusReason);
    render(
      reason,
      h("h2", {}, display.final ? "Why it stopped" : "Status"),
      h("p", { class: `reason-message tone-${display.tone}` }, h("strong", {}, d.statusReason.code), ": ", d.statusReason.message),
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

  const statusPoller = startPolling(async (signal) => {
    const fresh = await context.api.getDeployment(id, signal).catch((e: unknown) => {
      if (!signal.aborted) render(summary, h("h1", {}, "Deployment"), h("p", { role: "alert" }, e instanceof Error ? e.message : String(e)));
      throw e;
    });
    const changed = fresh.updatedAt !== deployment?.updatedAt || fresh.status !== deployment?.status;
    if (changed && deployment) announce(`Status: ${statusDisplay(fresh.status).label}`);
    deployment = fresh;
    if (changed) draw();
    return statusDisplay(fresh.status).final ? "stop" : changed ? "changed" : "unchanged";
  });

  // The log: follow the cursor until the deployment is final and a page comes back empty.
  const logPoller = startPolling(async (signal) => {
    let page;
    try {
      page = await context.api.getLogs(id, logCursor, signal);
    } catch (e) {
      if (isMissingRoute(e)) {
        logsSupported = false;
        logSection.hidden = true;
        draw();
        return "stop";
      }
      throw e;
    }
    if (logsSupported !== true) {
      logsSupported = true;
      logSection.hidden = false;
      draw();
    }
    if (page.nextCursor !== undefined) logCursor = page.nextCursor;
    if (page.events.length > 0) {
      const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      log.append(page.events.map((e) => e.message.replace(/\n?$/, "\n")).join(""));
      if (follow) log.scrollTop = log.scrollHeight;
      return "changed";
    }
    return deployment && statusDisplay(deployment.status).final ? "stop" : "unchanged";
  });

  context.onLeave(() => {
    statusPoller.stop();
    logPoller.stop();
  });
}
