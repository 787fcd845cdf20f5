import type { LinkInstallationRequest, ProjectRequest, PublicInstallation } from "./types";

/** A problem with one named field: shown next to that field (or under that query parameter's name). */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** POST /github/installations's fields → the setup URL's query parameters GitHub sends them in. */
export const SETUP_PARAMETERS: Readonly<Record<keyof LinkInstallationRequest, string>> = {
  installationId: "installation_id",
  code: "code",
  state: "state",
};

/**
 * The setup URL's query (GitHub: "About the setup URL": `installation_id`, `setup_action`, and with "Request user
 * authorization (OAuth) during installation" a `code`; `state` echoes what GET /github/install put in the install
 * link) → POST /github/installations's body, or what is missing or malformed, by the API's field names.
 */
export function linkRequestFromSetupUrl(
  query: URLSearchParams,
): { request: LinkInstallationRequest; problems: [] } | { request?: undefined; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const rawId = query.get(SETUP_PARAMETERS.installationId) ?? "";
  const installationId = /^[1-9][0-9]{0,15}$/.test(rawId) ? Number(rawId) : NaN;
  if (!Number.isSafeInteger(installationId)) {
    problems.push({
      field: "installationId",
      message: rawId
        ? `installation_id must be GitHub's numeric installation id, not "${rawId}".`
        : "installation_id is missing: open this page from GitHub after installing the App.",
    });
  }
  const code = query.get("code") ?? "";
  if (!code) {
    problems.push({
      field: "code",
      message: 'code is missing: the App must have "Request user authorization (OAuth) during installation" on.',
    });
  }
  const state = query.get("state") ?? "";
  if (!state) {
    problems.push({ field: "state", message: "state is missing: start again from Connect GitHub." });
  }
  return problems.length > 0 ? { problems } : { request: { installationId, code, state }, problems: [] };
}

/** How a linked installation reads in the list. */
export function installationState(installation: PublicInstallation): "active" | "suspended" | "uninstalled" {
  if (installation.deleted) return "uninstalled";
  return installation.suspended ? "suspended" : "active";
}

const REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;

/**
 * The project form's values → PUT /projects/{owner}/{name}'s repository and body (empty optional fields left out, so
 * the API's defaults apply: the default branch, the repository root), or the problems found before asking the API.
 */
export function projectRequest(values: {
  readonly repository: string;
  readonly branch: string;
  readonly rootDirectory: string;
  readonly autoDeploy: boolean;
}): { repository: string; body: ProjectRequest; problems: [] } | { problems: FieldProblem[] } {
  const repository = values.repository.trim();
  if (!REPOSITORY.test(repository)) {
    return { problems: [{ field: "repository", message: "Enter the repository as owner/name, e.g. acme/shop." }] };
  }
  const branch = values.branch.trim();
  const rootDirectory = values.rootDirectory.trim();
  return {
    repository,
    body: { autoDeploy: values.autoDeploy, ...(branch ? { branch } : {}), ...(rootDirectory ? { rootDirectory } : {}) },
    problems: [],
  };
}
