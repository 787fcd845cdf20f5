import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../runtime/environment";
import { createAbandonedDeploymentsHandler, createInspectorHandler } from "../runtime/inspect/handlers";
import { LambdaFunction } from "./lambdaFunction";
import { abandonedDeploymentsFunctionPermissions, inspectorFunctionPermissions } from "./policies";

export interface RepoInspectorArgs {
  /** The `deployments` table; its stream drives the inspector. */
  readonly deploymentsTable: aws.dynamodb.Table;
  readonly installationsTable: aws.dynamodb.Table;
  /** The GitHub App's id (not secret). */
  readonly githubAppId: pulumi.Input<string>;
  /** ARN of the Secrets Manager secret holding the App's PEM private key; the key itself never reaches the stack. */
  readonly githubAppPrivateKeySecretArn: pulumi.Input<string>;
  /**
   * The customer-managed KMS key that secret is encrypted with, if it is not Secrets Manager's own `aws/secretsmanager`
   * key: the inspector may then decrypt with it, through Secrets Manager only. Default none.
   */
  readonly githubAppPrivateKeyKmsKeyArn?: pulumi.Input<string>;
  /** GitHub's API root. Default https://api.github.com (set for GitHub Enterprise Server). */
  readonly githubApiUrl?: pulumi.Input<string>;
  /** Where users install the App, quoted when they have not. Default none. */
  readonly githubAppInstallUrl?: pulumi.Input<string>;
  /** Bucket the inspector stages commit sources in (BuildProjects' `sourceBucket`). */
  readonly sourceBucket: aws.s3.Bucket;
  /** Builder → CodeBuild project name, and the projects' ARNs (BuildProjects' outputs). */
  readonly buildProjectNames: pulumi.Input<Record<string, string>>;
  readonly buildProjectArns: pulumi.Input<string[]>;
  /** The build slots table (DeploymentTable's): a slot is taken before each build. */
  readonly buildSlotsTable: aws.dynamodb.Table;
  /** ARN of the deployments table's `queuedByUser` index (DeploymentTable's `queuedIndexArn`). */
  readonly queuedIndexArn: pulumi.Input<string>;
  /** Builds one user may have running at once; more wait QUEUED. Default 2. */
  readonly maxBuildsPerUser?: pulumi.Input<number>;
  /** Retries of a failing record before it goes to the failure queue. Default 5. */
  readonly maximumRetryAttempts?: number;
  /** Oldest record (seconds) worth inspecting; older ones go to the failure queue. Default 3600. */
  readonly maximumRecordAgeInSeconds?: number;
  /** Days logs are kept. Default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
}

/**
 * The repo inspector: a Lambda on the deployments stream that takes each new deployment to BUILDING or FAILED, a
 * queue for the records it gives up on, and the consumer that marks those deployments FAILED.
 */
export class RepoInspector extends pulumi.ComponentResource {
  public readonly inspector: LambdaFunction;
  public readonly failureQueue: aws.sqs.Queue;
  public readonly abandonedDeployments: LambdaFunction;
  public readonly streamSubscription: aws.dynamodb.TableEventSubscription;

  constructor(name: string, args: RepoInspectorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:inspect:RepoInspector", name, {}, opts);
    const table = args.deploymentsTable;
    // Messages the consumer itself cannot settle move on after 5 tries, for a person to look at.
    const unsettled = new aws.sqs.Queue(
      `${name}-unsettled`,
      { messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true },
      { parent: this },
    );
    this.failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        messageRetentionSeconds: 1_209_600,
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: 180, // six times the consumer's timeout, as AWS advises
        redrivePolicy: unsettled.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 })),
      },
      { parent: this },
    );

    this.inspector = new LambdaFunction(
      `${name}-inspector`,
      {
        description: "Slipway repo inspector: PENDING deployment → PROCESSING → BUILDING, QUEUED or FAILED",
        callbackFactory: createInspectorHandler,
        // Sources stream through (lib-storage holds two 8 MiB parts per upload): the memory bounds how many records
        // one invocation inspects at once (inspectionConcurrency: a batch of ten fits in 1024 MB).
        memorySize: 1024,
        timeout: 300,
        logRetentionDays: args.logRetentionDays,
        environment: {
          [ENV.deploymentsTable]: table.name,
          [ENV.installationsTable]: args.installationsTable.name,
          [ENV.githubAppId]: args.githubAppId,
          [ENV.githubAppPrivateKeyArn]: args.githubAppPrivateKeySecretArn,
          [ENV.githubApiUrl]: args.githubApiUrl ?? "https://api.github.com",
          [ENV.githubAppInstallUrl]: args.githubAppInstallUrl ?? "",
          [ENV.sourceBucket]: args.sourceBucket.bucket,
          [ENV.buildProjects]: pulumi.output(args.buildProjectNames).apply((names) => JSON.stringify(names)),
          [ENV.buildSlotsTable]: args.buildSlotsTable.name,
          [ENV.maxBuildsPerUser]: pulumi.output(args.maxBuildsPerUser ?? 2).apply(String),
        },
        permissions: pulumi
          .output({
            deploymentsTable: table.arn,
            deploymentsStream: table.streamArn,
            installationsTable: args.installationsTable.arn,
            privateKeySecret: args.githubAppPrivateKeySecretArn,
            privateKeyKmsKey: args.githubAppPrivateKeyKmsKeyArn,
            sourceBucket: args.sourceBucket.arn,
            buildProjects: args.buildProjectArns,
            failureQueue: this.failureQueue.arn,
            buildSlotsTable: args.buildSlotsTable.arn,
            queuedIndex: args.queuedIndexArn,
          })
          .apply(({ privateKeyKmsKey, ...arns }) =>
            inspectorFunctionPermissions({ ...arns, ...(privateKeyKmsKey ? { privateKeyKmsKey } : {}) }),
          ),
      },
      { parent: this },
    );

    this.streamSubscription = table.onEvent(
      `${name}-inspector`,
      this.inspector.function,
      streamSubscriptionArgs(this.failureQueue.arn, args),
      { parent: this },
    );

    this.abandonedDeployments = new LambdaFunction(
      `${name}-abandoned`,
      {
        description: "Slipway: marks deployments the inspector gave up on FAILED",
        callbackFactory: createAbandonedDeploymentsHandler,
        timeout: 30,
        logRetentionDays: args.logRetentionDays,
        environment: { [ENV.deploymentsTable]: table.name },
        permissions: pulumi
          .all([table.arn, table.streamArn, this.failureQueue.arn])
          .apply(([deploymentsTable, deploymentsStream, failureQueue]) =>
            abandonedDeploymentsFunctionPermissions({ deploymentsTable, deploymentsStream, failureQueue }),
          ),
      },
      { parent: this },
    );
    new aws.lambda.EventSourceMapping(
      `${name}-abandoned`,
      {
        eventSourceArn: this.failureQueue.arn,
        functionName: this.abandonedDeployments.function.name,
        batchSize: 10,
        functionResponseTypes: ["ReportBatchItemFailures"],
      },
      { parent: this },
    );
    this.registerOutputs({
      inspectorFunctionName: this.inspector.name,
      failureQueueUrl: this.failureQueue.url,
    });
  }
}

/** The event filter: only new deployments, and only while PENDING (DynamoDB JSON, as the stream carries it). */
export const PENDING_INSERTS_FILTER = {
  eventName: ["INSERT"],
  dynamodb: { NewImage: { status: { S: ["PENDING"] } } },
};

/**
 * How the inspector reads the stream: from the oldest record still in it (TRIM_HORIZON, so deployments written
 * before the mapping existed are not lost), only pending inserts, partial batch failures, bisecting a failing batch
 * to isolate the bad record, bounded retries and record age, then the failure queue.
 *
 * Ten batches per shard at once (parallelizationFactor, Lambda's maximum): a record that keeps failing, or waits out a
 * GitHub rate limit, holds up only the deployments dealt to its lane rather than every deployment on the shard.
 * Lambda keeps order per item (the deployment id), and each deployment is one item, so nothing depends on order across
 * deployments.
 */
export function streamSubscriptionArgs(
  failureQueueArn: pulumi.Input<string>,
  args: Pick<RepoInspectorArgs, "maximumRetryAttempts" | "maximumRecordAgeInSeconds">,
): aws.dynamodb.TableEventSubscriptionArgs {
  return {
    startingPosition: "TRIM_HORIZON",
    batchSize: 10,
    maximumBatchingWindowInSeconds: 0,
    parallelizationFactor: 10,
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: args.maximumRetryAttempts ?? 5,
    maximumRecordAgeInSeconds: args.maximumRecordAgeInSeconds ?? 3600,
    functionResponseTypes: ["ReportBatchItemFailures"],
    filterCriteria: { filters: [{ pattern: JSON.stringify(PENDING_INSERTS_FILTER) }] },
    destinationConfig: { onFailure: { destinationArn: failureQueueArn } },
  };
}
