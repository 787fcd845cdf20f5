import { ApiError, isMissingRoute } from "../api";
import { h, render } from "../h";
import { linkRequestFromSetupUrl, SETUP_PARAMETERS, type FieldProblem } from "../onboarding";
import type { LinkInstallationRequest } from "../types";
import type { PageContext } from "./context";
import { NO_INSTALL_FLOW } from "./githubPage";
import { messageOf } from "./formField";

export const SETUP_PATH = "/settings/github/setup";

/**
 * The GitHub App's setup URL: GitHub returns here with `installation_id`, `code` and `state`; they go to
 * POST /github/installations, and what the API refuses is shown under the query parameter it names. The query is
 * dropped from the address once sent: the state is single use, so a reload must not send it again.
 */
export function githubSetupPage(root: HTMLElement, context: PageContext, query: URLSearchParams): void {
  const result = h("div", { "aria-live": "polite" });
  render(
    root,
    h("h1", {}, "Linking your GitHub installation"),
    result,
    h("p", {}, h("a", { href: "/settings/github" }, "← GitHub")),
  );
  if (![...query.keys()].length) {
    render(result, h("p", {}, "Nothing to link here: GitHub opens this page after you install the App."));
    return;
  }
  const parsed = linkRequestFromSetupUrl(query);
  if (!parsed.request) {
    showProblems(result, parsed.problems);
    return;
  }
  history.replaceState(null, "", SETUP_PATH);
  render(result, h("p", { "aria-busy": "true" }, `Linking installation ${parsed.request.installationId}…`));
  context.api
    .linkInstallation(parsed.request)
    .then((link) => {
      render(
        result,
        h(
          "p",
          { role: "status", class: "notice" },
          `Linked ${link.account ?? "the installation"} (installation ${link.installationId}).`,
        ),
        h("p", {}, h("a", { href: "/" }, "Deploy one of its repositories")),
      );
    })
    .catch((e: unknown) => {
      if (isMissingRoute(e)) render(result, h("p", { role: "alert" }, NO_INSTALL_FLOW));
      else if (e instanceof ApiError && e.field) showProblems(result, [{ field: e.field, message: e.message }]);
      else render(result, h("p", { role: "alert", class: "form-error" }, messageOf(e)));
    });
}

/** Each problem under the name of the query parameter it is about. */
function showProblems(into: HTMLElement, problems: readonly FieldProblem[]): void {
  render(
    into,
    h(
      "div",
      { role: "alert" },
      h("p", { class: "form-error" }, "GitHub's answer could not be linked:"),
      h(
        "dl",
        { class: "facts" },
        ...problems.flatMap((problem) => [
          h("dt", {}, h("code", {}, SETUP_PARAMETERS[problem.field as keyof LinkInstallationRequest] ?? problem.field)),
          h("dd", { class: "form-error" }, problem.message),
        ]),
      ),
      h("p", {}, h("a", { href: "/settings/github" }, "Start again from Connect GitHub")),
    ),
  );
}
