import { startPolling } from "../backoff";
import { announce, h, render } from "../h";
import { mergeFirstPage } from "../mergeDeployments";
import type { Deployment } from "../types";
import type { PageContext } from "./context";
import { openDeployDialog } from "./deployDialog";
import { shortSha, statusBadge, timeAgo } from "./statusBadge";

/** The caller's deployments, newest first, a page at a time, kept fresh by polling the first page with backoff. */
export function deploymentsPage(root: HTMLElement, context: PageContext): void {
  let items: Deployment[] = [];
  let nextCursor: string | undefined;
  let loaded = false;
  const list = h("div", { class: "list", "aria-busy": "true" }, h("p", {}, "Loading deployments…"));
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const error = h("p", { class: "form-error", role: "alert" });

  render(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Deployments"),
      h("button", { type: "button", class: "primary", onclick: () => openDeployDialog(context) }, "Deploy"),
    ),
    error,
    list,
    more,
  );

  function draw(): void {
    list.setAttribute("aria-busy", "false");
    more.hidden = nextCursor === undefined;
    if (items.length === 0) {
      render(list, h("p", { class: "empty" }, "No deployments yet. Press Deploy to make your first one."));
      return;
    }
    const now = Date.now();
    render(
      list,
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "Your deployments, newest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Repository", "Ref", "Commit", "Framework", "Builder", "Status", "Created"].map((title) =>
              h("th", { scope: "col", class: `col-${title.toLowerCase()}` }, title),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          ...items.map((d) =>
            h(
              "tr",
              {},
              h("td", { class: "col-repository" }, h("a", { href: `/deployment/${d.id}` }, d.repository)),
              h("td", { class: "col-ref" }, d.ref ?? "default branch"),
              h("td", { class: "col-commit" }, h("code", {}, shortSha(d.commitSha))),
              h("td", { class: "col-framework" }, d.framework ?? "—"),
              h("td", { class: "col-builder" }, d.builder ?? "—"),
              h("td", { class: "col-status" }, statusBadge(d.status, d.phase)),
              h("td", { class: "col-created" }, timeAgo(d.createdAt, now)),
            ),
          ),
        ),
      ),
    );
  }

  more.addEventListener("click", () => {
    more.disabled = true;
    context.api
      .listDeployments(nextCursor)
      .then((page) => {
        items = [...items, ...page.items.filter((d) => !items.some((shown) => shown.id === d.id))];
        nextCursor = page.nextCursor;
        draw();
        announce(`${page.items.length} more deployments loaded`);
      })
      .catch((e: unknown) => render(error, e instanceof Error ? e.message : String(e)))
      .finally(() => (more.disabled = false));
  });

  const poller = startPolling(async (signal) => {
    try {
      const page = await context.api.listDeployments(undefined, signal);
      render(error);
      const merged = mergeFirstPage(items, page.items);
      if (!loaded) nextCursor = page.nextCursor;
      const changed = merged.changed || !loaded;
      loaded = true;
      items = merged.items;
      if (changed) draw();
      return changed ? "changed" : "unchanged";
    } catch (e) {
      if (!signal.aborted) render(error, `Could not refresh: ${e instanceof Error ? e.message : String(e)}. Retrying…`);
      throw e;
    }
  });
  context.onLeave(() => poller.stop());
}
