/**
 * The shape of Slipway's tables, defined once. Components create the tables from these names and the runtime reads
 * and writes with them, so the two can never disagree.
 */

/** The `deployments` table: one item per deployment, keyed by its id. */
export const DEPLOYMENTS = {
  hashKey: "id",
  /** Lists a user's deployments newest first: partition `userId`, sort `createdAt` (ISO-8601, so lexical = time). */
  byUserIndex: { name: "byUser", hashKey: "userId", rangeKey: "createdAt" },
  /**
   * Sparse: only QUEUED and BUILDING deployments carry its keys (the store sets and removes them with each move), so
   * the reconciler reads just the deployments that could be stuck, oldest activity first.
   */
  activeIndex: { name: "active", hashKey: "activeStatus", rangeKey: "activeAt" },
  /** Sparse: a user's QUEUED deployments, oldest first, so a freed build slot goes to the one that waited longest. */
  queuedIndex: { name: "queuedByUser", hashKey: "queuedUserId", rangeKey: "createdAt" },
} as const;

/**
 * The `buildSlots` table: one item per user holding the set of deployments whose builds count against the user's
 * limit on builds running at once. Adding to and removing from a set are idempotent, so a retried acquire or release
 * never counts twice.
 */
export const BUILD_SLOTS = {
  hashKey: "userId",
  setAttribute: "deploymentIds",
} as const;

/**
 * The `installations` table: which GitHub App installations a Slipway user has linked (their account and their
 * organisations), one item per (user, installation). `byInstallation` finds every user linked to an installation when
 * GitHub reports it deleted or suspended.
 */
export const INSTALLATIONS = {
  hashKey: "userId",
  rangeKey: "installationId",
  byInstallationIndex: { name: "byInstallation", hashKey: "installationId" },
} as const;

/**
 * The `projects` table: a user's project on a repository (which branch deploys on push), keyed by the repository
 * (`owner/name`, lowercased: GitHub names are case-insensitive) and the user, so a push finds every project on its
 * repository with one query; `byUser` lists a user's projects.
 */
export const PROJECTS = {
  hashKey: "repository",
  rangeKey: "userId",
  byUserIndex: { name: "byUser", hashKey: "userId", rangeKey: "repository" },
} as const;

/**
 * The `onboarding` table: short-lived single-use records, each expiring through DynamoDB TTL on `expiresAt` (epoch
 * seconds): OAuth `state` values issued by `GET /github/install` (`state#<value>`) and webhook deliveries already
 * processed (`delivery#<X-GitHub-Delivery>`). TTL deletes lazily, so readers also compare `expiresAt` with the clock.
 */
export const ONBOARDING = {
  hashKey: "key",
  ttlAttribute: "expiresAt",
} as const;

/**
 * The `idempotency` table: one item per (user, Idempotency-Key), pointing at the deployment it created. Items expire
 * through DynamoDB TTL on `expiresAt` (epoch seconds).
 */
export const IDEMPOTENCY = {
  hashKey: "key",
  ttlAttribute: "expiresAt",
} as const;

/**
 * The `rateLimits` table: one counter item per (limit, user, window), e.g. the deployments a user started in one
 * minute. Items expire through DynamoDB TTL on `expiresAt` (epoch seconds); the window is part of the key, so a
 * counter TTL has not removed yet is never read again.
 */
export const RATE_LIMITS = {
  hashKey: "key",
  countAttribute: "count",
  ttlAttribute: "expiresAt",
} as const;

/** Where a deployment is in its life. */
export const STATUSES = ["PENDING", "PROCESSING", "QUEUED", "BUILDING", "SUCCEEDED", "FAILED", "CANCELED"] as const;
export type DeploymentStatus = (typeof STATUSES)[number];

/** Where a deployment ends: nothing moves out of these. */
export const FINAL_STATUSES: readonly DeploymentStatus[] = ["SUCCEEDED", "FAILED", "CANCELED"];

/** Waiting for a build slot or building: the statuses the `active` index holds and the reconciler watches. */
export const ACTIVE_STATUSES: readonly DeploymentStatus[] = ["QUEUED", "BUILDING"];

export const isFinalStatus = (status: DeploymentStatus): boolean => FINAL_STATUSES.includes(status);

/**
 * Which status may follow which. Every move is a conditional write on the current status, so a redelivered stream
 * record or build event cannot move a deployment backwards, out of a final status, or start a second build.
 * PROCESSING → PROCESSING is a resume after a crash half-way. PROCESSING → QUEUED: the user is at their limit on
 * builds running at once. A cancel may end any deployment that is not final yet.
 */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  PENDING: ["PROCESSING", "FAILED", "CANCELED"],
  PROCESSING: ["PROCESSING", "QUEUED", "BUILDING", "FAILED", "CANCELED"],
  QUEUED: ["BUILDING", "FAILED", "CANCELED"],
  BUILDING: ["SUCCEEDED", "FAILED", "CANCELED"],
  SUCCEEDED: [],
  FAILED: [],
  CANCELED: [],
};

/** The statuses a move to `to` may start from. */
export function allowedPredecessors(to: DeploymentStatus): DeploymentStatus[] {
  return STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}
