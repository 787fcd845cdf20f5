import { ApiError } from "../api";
import { h, render } from "../h";
import { createKeyKeeper, deploymentRequest } from "../deploymentRequest";
import { createRepositoryList, filterRepositories, refAfterPick } from "../repositoryList";
import type { CreateDeploymentRequest, Deployment, Repository } from "../types";
import type { PageContext } from "./context";

const FIELDS = [
  { name: "repository", label: "Repository", hint: "owner/name on GitHub", required: true },
  { name: "ref", label: "Ref", hint: "branch, tag or commit SHA; empty = the default branch", required: false },
  { name: "rootDirectory", label: "Root directory", hint: "the app's folder; empty = detect it", required: false },
] as const;

/** Deploys `request` with a fresh key (one-click redeploys). */
export function deployNow(context: PageContext, request: CreateDeploymentRequest): Promise<Deployment> {
  return context.api.createDeployment(request, crypto.randomUUID());
}

/** The Deploy dialog: a native <dialog> (focus trap, Escape, inert page behind it come with it). */
export function openDeployDialog(
  context: PageContext,
  initial: Partial<Record<string, string>> = {},
): HTMLDialogElement {
  const keys = createKeyKeeper();
  const formError = h("p", { class: "form-error", role: "alert", id: "deploy-form-error" });
  const inputs: Record<string, HTMLInputElement> = {};
  const errors: Record<string, HTMLElement> = {};
  const submit = h("button", { type: "submit", class: "primary" }, "Deploy");
  let filledRef: string | undefined;
  const picker = repositoryPicker(context, (picked) => {
    const ref = refAfterPick(inputs.ref!.value, filledRef, picked);
    inputs.repository!.value = picked.fullName;
    inputs.ref!.value = ref;
    filledRef = ref === picked.defaultBranch ? ref : filledRef;
  });
  const form = h(
    "form",
    { method: "dialog", novalidate: true },
    h("h2", { id: "deploy-title" }, "Deploy a repository"),
    picker,
    ...FIELDS.map((field) => {
      const input = h("input", {
        id: `deploy-${field.name}`,
        name: field.name,
        autocomplete: "off",
        spellcheck: "false",
        required: field.required,
        value: initial[field.name] ?? "",
        "aria-describedby": `deploy-${field.name}-hint deploy-${field.name}-error`,
        placeholder: field.name === "repository" ? "owner/name" : "",
      });
      inputs[field.name] = input;
      errors[field.name] = h("span", { class: "field-error", id: `deploy-${field.name}-error` });
      return h(
        "div",
        { class: "field" },
        h("label", { for: input.id }, field.label),
        input,
        h("span", { class: "hint", id: `deploy-${field.name}-hint` }, field.hint),
        errors[field.name],
      );
    }),
    formError,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => dialog.close() }, "Close"), submit),
  );
  const dialog = h("dialog", { "aria-labelledby": "deploy-title", class: "deploy-dialog" }, form);

  const clearErrors = () => {
    render(formError);
    for (const name of Object.keys(inputs)) {
      render(errors[name]!);
      inputs[name]!.removeAttribute("aria-invalid");
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    clearErrors();
    const request = deploymentRequest(Object.fromEntries(Object.entries(inputs).map(([n, i]) => [n, i.value])));
    if (!request.repository) {
      showError(new ApiError(400, "INVALID_REQUEST", "Enter the repository as owner/name.", "repository"));
      return;
    }
    submit.disabled = true;
    submit.textContent = "Deploying…";
    context.api
      .createDeployment(request, keys.keyFor(request))
      .then((deployment) => {
        keys.reset();
        dialog.close();
        context.navigate(`/deployment/${deployment.id}`);
      })
      .catch(showError)
      .finally(() => {
        submit.disabled = false;
        submit.textContent = "Deploy";
      });
  });

  /** The API's own words, next to the field it names; anything else above the buttons. */
  function showError(error: unknown): void {
    const field = error instanceof ApiError ? error.field : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const input = field ? inputs[field] : undefined;
    if (input && field) {
      render(errors[field]!, message);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      render(formError, message);
    }
  }

  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * "Your repositories" from GET /repositories: a search box over the loaded ones, a button per repository (owner/name,
 * a private marker, its default branch), and "Load more repositories" while there are more pages. Hidden where the
 * API has no such route: the typed Repository field below stays the way in either way.
 */
function repositoryPicker(context: PageContext, onPick: (repository: Repository) => void): HTMLElement {
  const repositories = createRepositoryList((cursor) => context.api.listRepositories(cursor));
  const search = h("input", {
    id: "deploy-search",
    type: "search",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Filter by owner or name",
    "aria-controls": "deploy-repositories",
  });
  const list = h("ul", { class: "repo-list", id: "deploy-repositories", "aria-label": "Your repositories" });
  const status = h("p", { class: "hint", role: "status" });
  const more = h("button", { type: "button", hidden: true }, "Load more repositories");
  const section = h(
    "fieldset",
    { class: "repositories", hidden: true },
    h("legend", {}, "Your repositories"),
    h("div", { class: "field" }, h("label", { for: search.id }, "Search repositories"), search),
    list,
    status,
    more,
  );
  let picked: string | undefined;

  const draw = () => {
    section.hidden = repositories.available !== true;
    more.hidden = !repositories.hasMore;
    const shown = filterRepositories(repositories.items, search.value);
    render(
      list,
      ...shown.map((repository) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "repo",
              "aria-pressed": String(picked === repository.fullName),
              onclick: () => {
                picked = repository.fullName;
                onPick(repository);
                draw();
              },
            },
            h("span", { class: "repo-name" }, repository.fullName),
            repository.private ? h("span", { class: "badge badge-neutral" }, "private") : null,
            h("span", { class: "hint" }, repository.defaultBranch),
          ),
        ),
      ),
    );
    render(
      status,
      repositories.items.length === 0
        ? "No repositories yet: install the GitHub App on an account (GitHub page)."
        : `${shown.length} of ${repositories.items.length} loaded${repositories.hasMore ? "; more to load" : ""}`,
    );
  };
  const load = () => {
    more.disabled = true;
    repositories
      .loadMore()
      .then(draw)
      .catch((e: unknown) => {
        section.hidden = false;
        render(status, `Could not list your repositories: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => (more.disabled = false));
  };
  search.addEventListener("input", draw);
  more.addEventListener("click", load);
  load();
  return section;
}
