import type { Builder } from "./builders";
import type { DeploymentStatus } from "./schema";

/** Why a deployment is where it is: a stable machine-readable code and a message a person can act on. */
export interface StatusReason {
  readonly code: string;
  readonly message: string;
  /** AMBIGUOUS_ROOT: the folders that hold an app, each a valid `rootDirectory` to deploy again with. */
  readonly candidates?: readonly RootCandidate[];
  /** For BUILD_FAILED: the CodeBuild phase that failed (INSTALL, PRE_BUILD, BUILD, POST_BUILD…). */
  readonly phase?: string;
}

/** A folder detection found an app in ("" = the repository root), and the framework it saw (absent: Dockerfile only). */
export interface RootCandidate {
  readonly rootDirectory: string;
  readonly framework?: string;
}

/** The image a successful build pushed: pull it by `uri` (`<repository>@<digest>`, immutable). */
export interface DeploymentImage {
  readonly uri: string;
  readonly digest: string;
}

/** What StartBuild needs, kept on a QUEUED deployment so whoever frees a slot can start its build later. */
export interface BuildRequestRecord {
  readonly projectName: string;
  /** `bucket/key` of the staged source archive. */
  readonly sourceLocation: string;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * One status a deployment entered and when (ISO-8601), with the reason's code where the move gave one (FAILED,
 * CANCELED). The store appends it in the very write that changes the status, so the two never disagree.
 */
export interface StatusHistoryEntry {
  readonly status: DeploymentStatus;
  readonly at: string;
  readonly reasonCode?: string;
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
  /** CodeBuild's current phase while BUILDING (SUBMITTED, PROVISIONING, INSTALL, BUILD…). */
  readonly phase?: string;
  /** On SUCCEEDED: the pushed image. */
  readonly image?: DeploymentImage;
  /** The CloudWatch console link to the build's log stream, once the build has one. */
  readonly logsUrl?: string;
  /** When the deployment reached SUCCEEDED, FAILED or CANCELED. */
  readonly finishedAt?: string;
  /** When the user asked to cancel (a build being stopped stays BUILDING until CodeBuild reports it stopped). */
  readonly cancelRequestedAt?: string;
  /** What asked for it: the API (`manual`, the default for items without it) or a push to a project's branch. */
  readonly trigger?: "manual" | "push";
  /** The project whose push created it. */
  readonly projectId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * Every status it entered, oldest first, starting with PENDING at `createdAt` (owned by the store). Absent on
   * deployments stored before the history was kept.
   */
  readonly history?: readonly StatusHistoryEntry[];
  /** Internal: how many times the inspector has claimed it (1 on the first try, more after a crash or retry). */
  readonly attempts?: number;
  /** Internal: when StartBuild was first called, so a resume after CodeBuild's idempotency window looks first. */
  readonly buildRequestedAt?: string;
  /** Internal: the last transient error, reported if the inspector finally gives up. */
  readonly lastError?: StatusReason;
  /**
   * Internal: GitHub asked to wait until then (ISO-8601): the next attempt waits until this time before calling
   * GitHub again, since the stream redelivers a failed record at once.
   */
  readonly notBefore?: string;
  /** Internal: the build to start when a slot frees (QUEUED only). */
  readonly buildRequest?: BuildRequestRecord;
  /** Internal: CodeBuild's order of `phase` and the event time it was seen at, so a stale event cannot move it back. */
  readonly phaseRank?: number;
  readonly phaseAt?: string;
  /** Internal, owned by the store: the sparse `active` and `queuedByUser` index keys. */
  readonly activeStatus?: DeploymentStatus;
  readonly activeAt?: string;
  readonly queuedUserId?: string;
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
  "phase",
  "image",
  "logsUrl",
  "cancelRequestedAt",
  "finishedAt",
  "trigger",
  "projectId",
  "createdAt",
  "updatedAt",
  "history",
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
