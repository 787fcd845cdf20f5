import { isMissingRoute } from "../api";
import { h, render } from "../h";
import { installationState } from "../onboarding";
import type { PublicInstallation } from "../types";
import type { PageContext } from "./context";
import { messageOf } from "./formField";
import { removeButton } from "./removeButton";
import { timeAgo } from "./statusBadge";

export const NO_INSTALL_FLOW =
  "This platform has no install flow (the stack turns it on with githubAppClientId): an operator links installations.";

/**
 * Connect GitHub: GET /github/install, then off to GitHub's install page (which returns to the setup page); and the
 * caller's linked installations, each with Unlink (the App stays installed on GitHub).
 */
export function githubPage(root: HTMLElement, context: PageContext): void {
  const error = h("p", { class: "form-error", role: "alert" });
  const connect = h("button", { type: "button", class: "primary" }, "Connect GitHub");
  const list = h("div", { "aria-busy": "true" }, h("p", {}, "Loading your installations…"));
  render(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "GitHub"), connect),
    h(
      "p",
      { class: "hint" },
      "Install the Slipway GitHub App on your account or organisation; GitHub sends you back here to link it.",
    ),
    error,
    h("h2", {}, "Linked installations"),
    list,
  );

  connect.addEventListener("click", () => {
    connect.disabled = true;
    render(error);
    context.api
      .startInstall()
      .then(({ url }) => location.assign(url))
      .catch((e: unknown) => {
        connect.disabled = false;
        render(error, isMissingRoute(e) ? NO_INSTALL_FLOW : messageOf(e));
      });
  });

  const draw = (installations: readonly PublicInstallation[]) => {
    list.setAttribute("aria-busy", "false");
    if (installations.length === 0) {
      render(list, h("p", { class: "empty" }, "No installation linked yet. Press Connect GitHub."));
      return;
    }
    render(
      list,
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "Your linked GitHub App installations"),
        h(
          "thead",
          {},
          h("tr", {}, ...["Account", "Repositories", "State", "Linked", ""].map((t) => h("th", { scope: "col" }, t))),
        ),
        h(
          "tbody",
          {},
          ...installations.map((installation) => {
            const name = installation.account ?? `installation ${installation.installationId}`;
            const state = installationState(installation);
            return h(
              "tr",
              {},
              h("td", {}, name),
              h("td", {}, installation.repositorySelection ?? "—"),
              h("td", {}, h("span", { class: `badge badge-${state === "active" ? "success" : "danger"}` }, state)),
              h("td", {}, installation.linkedAt ? timeAgo(installation.linkedAt) : "—"),
              h(
                "td",
                {},
                removeButton({
                  label: "Unlink",
                  name: `Unlink ${name}`,
                  remove: () => context.api.unlinkInstallation(installation.installationId),
                  done: `Unlinked ${name}`,
                  reload: () => load(),
                  onError: (e) => render(error, messageOf(e)),
                }),
              ),
            );
          }),
        ),
      ),
    );
  };

  const controller = new AbortController();
  context.onLeave(() => controller.abort());
  const load = () =>
    context.api
      .listInstallations(controller.signal)
      .then((body) => draw(body.installations))
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        list.setAttribute("aria-busy", "false");
        render(list, h("p", { class: "empty" }, isMissingRoute(e) ? NO_INSTALL_FLOW : messageOf(e)));
      });
  void load();
}
