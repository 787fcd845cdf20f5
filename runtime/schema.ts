/**
 * The shape of Slipway's tables, defined once. Components create the tables from these names and the runtime reads
 * and writes with them, so the two can never disagree.
 */

/** The `deployments` table: one item per deployment, keyed by its id. */
export const DEPLOYMENTS = {
  hashKey: "id",
  /** Lists a user's deployments newest first: partition `userId`, sort `createdAt` (ISO-8601, so lexical = time). */
  byUserIndex: { name: "byUser", hashKey: "userId", rangeKey: "createdAt" },
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

/** Where a deployment is in its life. */
export const STATUSES = ["PENDING", "PROCESSING", "BUILDING", "FAILED"] as const;
export type DeploymentStatus = (typeof STATUSES)[number];

/**
 * Which status may follow which. Every move is a conditional write on the current status, so a redelivered stream
 * record cannot move a deployment backwards or start a second build. PROCESSING → PROCESSING is a resume after a
 * crash half-way.
 */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  PENDING: ["PROCESSING", "FAILED"],
  PROCESSING: ["PROCESSING", "BUILDING", "FAILED"],
  BUILDING: [],
  FAILED: [],
};

/** The statuses a move to `to` may start from. */
export function allowedPredecessors(to: DeploymentStatus): DeploymentStatus[] {
  return STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}
