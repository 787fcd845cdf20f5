import type { ApiErrorBody, CreateDeploymentRequest, DeploymentPage } from "../../runtime/api/apiShapes";
import type { PublicDeployment } from "../../runtime/api/publicDeployment";
import type { RootCandidate, StatusReason } from "../../runtime/deployment";

/*
 * The API's shapes, imported from the handlers' own types (runtime/api) so the dashboard cannot drift from them.
 * `LifecycleFields` are the fields the build-outcome work (issue 9) documents; optional until the API sends them.
 */

export interface LifecycleFields {
  /** CodeBuild's current phase while BUILDING. */
  readonly phase?: string;
  /** On SUCCEEDED. */
  readonly image?: { readonly uri: string; readonly digest: string };
  readonly logsUrl?: string;
  readonly finishedAt?: string;
}

export type Deployment = PublicDeployment & LifecycleFields;
export type DeploymentStatus = Deployment["status"] | "QUEUED" | "SUCCEEDED" | "CANCELED";
export type { ApiErrorBody, CreateDeploymentRequest, DeploymentPage, RootCandidate, StatusReason };

/** GET /deployments/{id}/logs?cursor= (issue 9). */
export interface LogPage {
  readonly events: readonly { readonly timestamp: number | string; readonly message: string }[];
  readonly nextCursor?: string;
}
