import type {
  ApiErrorBody,
  CreateDeploymentRequest,
  DeploymentPage,
  InstallStart,
  LinkInstallationRequest,
  LogsPage,
  ProjectRequest,
  PublicInstallation,
  PublicProject,
} from "../../runtime/api/apiShapes";
import type { PublicDeployment } from "../../runtime/api/publicDeployment";
import type { RootCandidate, StatusReason } from "../../runtime/deployment";
import type { DeploymentStatus } from "../../runtime/schema";

/*
 * The API's shapes, imported from the handlers' own types (runtime/api) so the dashboard cannot drift from them.
 */

export type Deployment = PublicDeployment;
export type LogPage = LogsPage;
export type {
  ApiErrorBody,
  CreateDeploymentRequest,
  DeploymentPage,
  DeploymentStatus,
  InstallStart,
  LinkInstallationRequest,
  ProjectRequest,
  PublicInstallation,
  PublicProject,
  RootCandidate,
  StatusReason,
};

/** GET /repositories: the handler's own types (runtime/api/apiShapes.ts). */
export type { RepositorySummary as Repository, RepositoryPage } from "../../runtime/api/apiShapes";
