import { ApiError, isMissingRoute } from "../api";
import { announce, h, render } from "../h";
import { projectRequest } from "../onboarding";
import type { PublicProject } from "../types";
import type { PageContext } from "./context";
import { clearFieldErrors, formField, messageOf, showFieldError } from "./formField";
import { removeButton } from "./removeButton";
import { timeAgo } from "./statusBadge";

/**
 * Projects: a repository the caller deploys on every push to its branch (GET /projects), created or updated with
 * PUT /projects/{owner}/{name} (autoDeploy, branch, root directory) and deleted with DELETE. The API's error shows
 * under the field it names; "link an installation first" (no field) links to the GitHub page.
 */
export function projectsPage(root: HTMLElement, context: PageContext): void {
  const list = h("div", { "aria-busy": "true" }, h("p", {}, "Loading your projects…"));
  const listError = h("p", { class: "form-error", role: "alert" });
  const formError = h("p", { class: "form-error", role: "alert" });
  const fields = {
    repository: formField("project-repository", "Repository", "owner/name on GitHub", { placeholder: "owner/name" }),
    branch: formField("project-branch", "Branch", "pushes to this branch deploy; empty = the default branch"),
    rootDirectory: formField(
      "project-rootDirectory",
      "Root directory",
      "the app's folder; empty = the repository root",
    ),
    autoDeploy: formField("project-autoDeploy", "Deploy every push", "off keeps the project without deploying", {
      type: "checkbox",
      checked: true,
    }),
  };
  fields.autoDeploy.wrapper.classList.add("checkbox");
  const save = h("button", { type: "submit", class: "primary" }, "Save project");
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "project-form-title" },
    h("h2", { id: "project-form-title" }, "Create or update a project"),
    ...Object.values(fields).map((f) => f.wrapper),
    formError,
    h("div", { class: "actions start" }, save),
  );
  render(root, h("h1", {}, "Projects"), listError, list, form);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (save.disabled) return;
    clearFieldErrors(fields, formError);
    const values = projectRequest({
      repository: fields.repository.input.value,
      branch: fields.branch.input.value,
      rootDirectory: fields.rootDirectory.input.value,
      autoDeploy: fields.autoDeploy.input.checked,
    });
    if (!("repository" in values)) {
      for (const problem of values.problems)
        showFieldError(fields, formError, new Error(problem.message), problem.field);
      return;
    }
    save.disabled = true;
    context.api
      .putProject(values.repository, values.body)
      .then((project) => {
        announce(`Saved ${project.repository}`);
        for (const f of [fields.repository, fields.branch, fields.rootDirectory]) f.input.value = "";
        fields.autoDeploy.input.checked = true;
        return load();
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.code === "INSTALLATION_REQUIRED") {
          render(formError, e.message, " ", h("a", { href: "/settings/github" }, "Connect GitHub"));
        } else if (isMissingRoute(e)) {
          render(formError, "This platform has no projects (the stack's install flow is off).");
        } else {
          showFieldError(fields, formError, e);
        }
      })
      .finally(() => (save.disabled = false));
  });

  const edit = (project: PublicProject) => {
    fields.repository.input.value = project.repository;
    fields.branch.input.value = project.branch ?? "";
    fields.rootDirectory.input.value = project.rootDirectory;
    fields.autoDeploy.input.checked = project.autoDeploy;
    fields.repository.input.focus();
  };

  const draw = (projects: readonly PublicProject[]) => {
    list.setAttribute("aria-busy", "false");
    if (projects.length === 0) {
      render(list, h("p", { class: "empty" }, "No projects yet: add one below to deploy on every push."));
      return;
    }
    render(
      list,
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "Your projects"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Repository", "Branch", "Root directory", "Deploy on push", "Updated", ""].map((t) =>
              h("th", { scope: "col", class: t === "Updated" || t === "Root directory" ? "col-optional" : "" }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          ...projects.map((project) =>
            h(
              "tr",
              {},
              h("td", {}, project.repository),
              h("td", {}, project.branch ?? "default branch"),
              h("td", { class: "col-optional" }, project.rootDirectory || "repository root"),
              h("td", {}, project.autoDeploy ? "on" : "off"),
              h("td", { class: "col-optional" }, timeAgo(project.updatedAt)),
              h(
                "td",
                { class: "row-actions" },
                h(
                  "button",
                  { type: "button", "aria-label": `Edit ${project.repository}`, onclick: () => edit(project) },
                  "Edit",
                ),
                removeButton({
                  label: "Delete",
                  name: `Delete ${project.repository}`,
                  remove: () => context.api.deleteProject(project.repository),
                  done: `Deleted ${project.repository}`,
                  reload: () => load(),
                  onError: (e) => render(listError, messageOf(e)),
                }),
              ),
            ),
          ),
        ),
      ),
    );
  };

  const controller = new AbortController();
  context.onLeave(() => controller.abort());
  const load = () =>
    context.api
      .listProjects(controller.signal)
      .then((body) => {
        render(listError);
        draw(body.projects);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        list.setAttribute("aria-busy", "false");
        render(
          list,
          h(
            "p",
            { class: "empty" },
            isMissingRoute(e) ? "This platform has no projects (the stack's install flow is off)." : messageOf(e),
          ),
        );
      });
  void load();
}
