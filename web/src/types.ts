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

/**
 * GET /repositories (the repositories the caller's installations can deploy, a page at a time). The route is being
 * added on another branch and is not in runtime/api yet: this mirrors its documented shape until its type lands there.
 */
export interface Repository {
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly private: boolean;
  readonly installationId: number;
}
export interface RepositoryPage {
  readonly items: readonly Repository[];
  readonly nextCursor?: string;
}
