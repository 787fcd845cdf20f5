import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_SLOTS, DEPLOYMENTS, IDEMPOTENCY, INSTALLATIONS, RATE_LIMITS } from "../runtime/schema";

export interface DeploymentTableArgs {
  /** Refuse `pulumi destroy` / replacement of the tables. Default true; dev stacks may turn it off. */
  readonly deletionProtection?: pulumi.Input<boolean>;
  /** Continuous backups (35 days of point-in-time restore). Default true. */
  readonly pointInTimeRecovery?: pulumi.Input<boolean>;
}

/**
 * Slipway's state: the `deployments` table (whose stream drives the repo inspector), the `installations` table
 * (Slipway user → GitHub App installation), the `idempotency` table (Idempotency-Key → deployment) and the
 * `rateLimits` table (per-user counters, one item per window) and the `buildSlots` table (per user: the deployments
 * whose builds are running). Key and index names come from `runtime/schema.ts`, which the runtime reads with.
 */
export class DeploymentTable extends pulumi.ComponentResource {
  public readonly deployments: aws.dynamodb.Table;
  public readonly installations: aws.dynamodb.Table;
  public readonly idempotency: aws.dynamodb.Table;
  public readonly rateLimits: aws.dynamodb.Table;
  public readonly buildSlots: aws.dynamodb.Table;
  /** ARN of the `byUser` index, for policies that may query only it. */
  public readonly byUserIndexArn: pulumi.Output<string>;
  /** ARNs of the sparse `active` (reconciler) and `queuedByUser` (build queue) indexes. */
  public readonly activeIndexArn: pulumi.Output<string>;
  public readonly queuedIndexArn: pulumi.Output<string>;
  /** ARN of the installations table's `byInstallation` index (webhooks find the users linked to an installation). */
  public readonly byInstallationIndexArn: pulumi.Output<string>;

  constructor(name: string, args: DeploymentTableArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:data:DeploymentTable", name, {}, opts);
    const common = tableDefaults(args);
    this.deployments = new aws.dynamodb.Table(
      `${name}-deployments`,
      {
        ...common,
        hashKey: DEPLOYMENTS.hashKey,
        attributes: deploymentAttributes(),
        globalSecondaryIndexes: deploymentIndexes(),
        // The inspector reads new images; old images let a later consumer see what changed.
        streamEnabled: true,
        streamViewType: "NEW_AND_OLD_IMAGES",
      },
      { parent: this },
    );
    this.installations = new aws.dynamodb.Table(
      `${name}-installations`,
      {
        ...common,
        hashKey: INSTALLATIONS.hashKey,
        rangeKey: INSTALLATIONS.rangeKey,
        attributes: [
          { name: INSTALLATIONS.hashKey, type: "S" },
          { name: INSTALLATIONS.rangeKey, type: "N" },
        ],
        globalSecondaryIndexes: [
          {
            name: INSTALLATIONS.byInstallationIndex.name,
            hashKey: INSTALLATIONS.byInstallationIndex.hashKey,
            projectionType: "ALL",
          },
        ],
      },
      { parent: this },
    );
    this.idempotency = new aws.dynamodb.Table(
      `${name}-idempotency`,
      {
        ...common,
        hashKey: IDEMPOTENCY.hashKey,
        attributes: [{ name: IDEMPOTENCY.hashKey, type: "S" }],
        ttl: { attributeName: IDEMPOTENCY.ttlAttribute, enabled: true },
      },
      { parent: this },
    );
    this.rateLimits = new aws.dynamodb.Table(
      `${name}-rate-limits`,
      {
        ...common,
        hashKey: RATE_LIMITS.hashKey,
        attributes: [{ name: RATE_LIMITS.hashKey, type: "S" }],
        ttl: { attributeName: RATE_LIMITS.ttlAttribute, enabled: true },
      },
      { parent: this },
    );
    this.buildSlots = new aws.dynamodb.Table(
      `${name}-build-slots`,
      { ...common, hashKey: BUILD_SLOTS.hashKey, attributes: [{ name: BUILD_SLOTS.hashKey, type: "S" }] },
      { parent: this },
    );
    this.byUserIndexArn = pulumi.interpolate`${this.deployments.arn}/index/${DEPLOYMENTS.byUserIndex.name}`;
    this.activeIndexArn = pulumi.interpolate`${this.deployments.arn}/index/${DEPLOYMENTS.activeIndex.name}`;
    this.queuedIndexArn = pulumi.interpolate`${this.deployments.arn}/index/${DEPLOYMENTS.queuedIndex.name}`;
    this.byInstallationIndexArn = pulumi.interpolate`${this.installations.arn}/index/${INSTALLATIONS.byInstallationIndex.name}`;
    this.registerOutputs({
      deploymentsTableName: this.deployments.name,
      installationsTableName: this.installations.name,
      idempotencyTableName: this.idempotency.name,
      rateLimitsTableName: this.rateLimits.name,
      buildSlotsTableName: this.buildSlots.name,
    });
  }
}

/** What every Slipway table shares: on-demand billing, encryption at rest, backups and deletion protection. */
export function tableDefaults(args: DeploymentTableArgs) {
  return {
    billingMode: "PAY_PER_REQUEST",
    serverSideEncryption: { enabled: true },
    pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? true },
    deletionProtectionEnabled: args.deletionProtection ?? true,
  } as const;
}

/** The deployments table's key attributes: its own key and every index's (all strings). */
export function deploymentAttributes(): { name: string; type: "S" }[] {
  const names: string[] = [DEPLOYMENTS.hashKey];
  for (const index of [DEPLOYMENTS.byUserIndex, DEPLOYMENTS.activeIndex, DEPLOYMENTS.queuedIndex]) {
    for (const key of [index.hashKey, index.rangeKey]) if (!names.includes(key)) names.push(key);
  }
  return names.map((name) => ({ name, type: "S" as const }));
}

/**
 * The deployments table's indexes: `byUser` (the API's list), and the sparse `active` and `queuedByUser`, which hold
 * only QUEUED/BUILDING deployments (the store writes their keys with each move). All project everything: the
 * reconciler and the queue need whole deployments.
 */
export function deploymentIndexes() {
  return [DEPLOYMENTS.byUserIndex, DEPLOYMENTS.activeIndex, DEPLOYMENTS.queuedIndex].map((index) => ({
    name: index.name,
    hashKey: index.hashKey,
    rangeKey: index.rangeKey,
    projectionType: "ALL",
  }));
}
