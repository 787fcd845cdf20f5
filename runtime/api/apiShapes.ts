import type { DeploymentSummary } from "./publicDeployment";

/*
 * The bodies the HTTP API sends and accepts, named once. The handlers build them and the web dashboard (web/)
 * imports these types, so a renamed field breaks the build rather than the page.
 */

/** `{ "error": { "code", "message", "field"? } }`: every route's error body. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

/**
 * GET /deployments: a page of the caller's deployments, newest first. Items leave out `history` (see
 * DeploymentSummary); GET /deployments/{id} returns the whole PublicDeployment.
 */
export interface DeploymentPage {
  readonly items: readonly DeploymentSummary[];
  /** Present while there are more; pass it back as `?cursor=`. */
  readonly nextCursor?: string;
}

/** POST /deployments's body. */
export interface CreateDeploymentRequest {
  readonly repository: string;
  readonly ref?: string;
  readonly rootDirectory?: string;
}

/** One repository in `GET /repositories`: what a Deploy dialog lists. */
export interface RepositorySummary {
  readonly owner: string;
  readonly name: string;
  /** `owner/name`, as `POST /deployments` takes it. */
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly private: boolean;
  /** The linked installation that reads it. */
  readonly installationId: number;
}

/** GET /repositories: a page of the repositories the caller's linked installations can read. */
export interface RepositoryPage {
  readonly items: readonly RepositorySummary[];
  /** Present while there may be more; pass it back as `?cursor=`. */
  readonly nextCursor?: string;
}

/** GET /deployments/{id}/logs: a page of the build's log, oldest first. */
export interface LogsPage {
  readonly events: { readonly timestamp: string; readonly message: string }[];
  /** Poll with it to follow the build; absent before anything is logged and once a finished log is read to its end. */
  readonly nextCursor?: string;
}

/** GET /github/install: where to send the user to install the App. */
export interface InstallStart {
  readonly url: string;
  readonly state: string;
  readonly expiresAt: string;
}

/** POST /github/installations's body: the setup URL's query, as GitHub sent it. */
export interface LinkInstallationRequest {
  readonly installationId: number;
  readonly code: string;
  readonly state: string;
}

/** A linked installation, as GET/POST /github/installations show it. */
export interface PublicInstallation {
  readonly installationId: number;
  readonly account: string | null;
  readonly repositorySelection: "all" | "selected" | null;
  readonly suspended: boolean;
  readonly deleted: boolean;
  readonly linkedAt: string | null;
}

/** PUT /projects/{owner}/{name}'s body. */
export interface ProjectRequest {
  readonly autoDeploy: boolean;
  readonly branch?: string;
  readonly rootDirectory?: string;
}

/** A project, as the /projects routes show it. */
export interface PublicProject {
  readonly id: string;
  readonly repository: string;
  readonly branch: string | null;
  readonly rootDirectory: string;
  readonly autoDeploy: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}
