import type { Builder } from "./builders";
import type { DeploymentStatus } from "./schema";

/** Why a deployment is where it is: a stable machine-readable code and a message a person can act on. */
export interface StatusReason {
  readonly code: string;
  readonly message: string;
}

/** A deployment as stored in the `deployments` table (and, minus internal fields, as the API returns it). */
export interface Deployment {
  readonly id: string;
  /** The JWT `sub` of the user who asked for it; never taken from a request body. */
  readonly userId: string;
  /** `owner/name` on GitHub. */
  readonly repository: string;
  /** The branch, tag or SHA the user asked for; absent means the default branch. */
  readonly ref?: string;
  /** The exact commit the build runs, once the ref is resolved. */
  readonly commitSha?: string;
  readonly status: DeploymentStatus;
  readonly statusReason?: StatusReason;
  readonly framework?: string;
  readonly builder?: Builder;
  /** The folder the app deploys from, relative to the repository root ("" or absent means the root). */
  readonly rootDirectory?: string;
  /** Whether `rootDirectory` came from the request (used as is) or from detection. */
  readonly rootDirectoryRequested?: boolean;
  readonly buildId?: string;
  /** What asked for it: the API (`manual`, the default for items without it) or a push to a project's branch. */
  readonly trigger?: "manual" | "push";
  /** The project whose push created it. */
  readonly projectId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Internal: how many times the inspector has claimed it (1 on the first try, more after a crash or retry). */
  readonly attempts?: number;
  /** Internal: when StartBuild was first called, so a resume after CodeBuild's idempotency window looks first. */
  readonly buildRequestedAt?: string;
  /** Internal: the last transient error, reported if the inspector finally gives up. */
  readonly lastError?: StatusReason;
}

/** The fields of a deployment the HTTP API shows; internal bookkeeping stays out. */
export const PUBLIC_FIELDS = [
  "id",
  "repository",
  "ref",
  "commitSha",
  "status",
  "statusReason",
  "framework",
  "builder",
  "rootDirectory",
  "buildId",
  "trigger",
  "projectId",
  "createdAt",
  "updatedAt",
] as const;

/** A user's link to a GitHub App installation, as stored in the `installations` table (one per user and installation). */
export interface Installation {
  readonly userId: string;
  readonly installationId: number;
  /** The GitHub account (user or organisation) the installation belongs to, for messages. */
  readonly accountLogin?: string;
  readonly createdAt?: string;
  /** `all` or `selected` repositories, as GitHub reports it. */
  readonly repositorySelection?: "all" | "selected";
  /** GitHub's `updated_at` for the facts stored here (older webhook deliveries are ignored). */
  readonly githubUpdatedAt?: string;
  /** Set while the installation is suspended on GitHub: deployments through it fail until it is unsuspended. */
  readonly suspendedAt?: string;
  /** Set when the App was uninstalled: deployments through it fail until the user installs and links it again. */
  readonly deletedAt?: string;
}
