import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEPLOYMENTS, IDEMPOTENCY, INSTALLATIONS } from "../runtime/schema";

export interface DeploymentTableArgs {
  /** Refuse `pulumi destroy` / replacement of the tables. Default true; dev stacks may turn it off. */
  readonly deletionProtection?: pulumi.Input<boolean>;
  /** Continuous backups (35 days of point-in-time restore). Default true. */
  readonly pointInTimeRecovery?: pulumi.Input<boolean>;
}

/**
 * Slipway's state: the `deployments` table (whose stream drives the repo inspector), the `installations` table
 * (Slipway user → GitHub App installation) and the `idempotency` table (Idempotency-Key → deployment). Key and index
 * names come from `runtime/schema.ts`, which the runtime reads with.
 */
export class DeploymentTable extends pulumi.ComponentResource {
  public readonly deployments: aws.dynamodb.Table;
  public readonly installations: aws.dynamodb.Table;
  public readonly idempotency: aws.dynamodb.Table;
  /** ARN of the `byUser` index, for policies that may query only it. */
  public readonly byUserIndexArn: pulumi.Output<string>;
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
        attributes: [
          { name: DEPLOYMENTS.hashKey, type: "S" },
          { name: DEPLOYMENTS.byUserIndex.hashKey, type: "S" },
          { name: DEPLOYMENTS.byUserIndex.rangeKey, type: "S" },
        ],
        globalSecondaryIndexes: [
          {
            name: DEPLOYMENTS.byUserIndex.name,
            hashKey: DEPLOYMENTS.byUserIndex.hashKey,
            rangeKey: DEPLOYMENTS.byUserIndex.rangeKey,
            projectionType: "ALL",
          },
        ],
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
    this.byUserIndexArn = pulumi.interpolate`${this.deployments.arn}/index/${DEPLOYMENTS.byUserIndex.name}`;
    this.byInstallationIndexArn = pulumi.interpolate`${this.installations.arn}/index/${INSTALLATIONS.byInstallationIndex.name}`;
    this.registerOutputs({
      deploymentsTableName: this.deployments.name,
      installationsTableName: this.installations.name,
      idempotencyTableName: this.idempotency.name,
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
