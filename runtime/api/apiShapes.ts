import type { PublicDeployment } from "./publicDeployment";

/*
 * The bodies the HTTP API sends and accepts, named once. The handlers build them and the web dashboard (web/)
 * imports these types, so a renamed field breaks the build rather than the page.
 */

/** `{ "error": { "code", "message", "field"? } }`: every route's error body. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

/** GET /deployments: a page of the caller's deployments, newest first. */
export interface DeploymentPage {
  readonly items: readonly PublicDeployment[];
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
