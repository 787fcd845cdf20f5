import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUILDERS, type Builder } from "../runtime/builders";
import { buildspecFor } from "./buildspecs";
import { logGroupPrefix } from "./physicalNames";
import { assumeRolePolicy, buildProjectPolicy, sourceBucketPolicy } from "./policies";

export interface BuildProjectsArgs {
  /** Days build logs are kept. Default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
  /** Days staged sources are kept before S3 deletes them. Default 7. */
  readonly sourceRetentionDays?: pulumi.Input<number>;
  /** Untagged images are removed; this many newest tagged images are kept. Default 500. */
  readonly imagesToKeep?: number;
  /** CodeBuild compute type. Default BUILD_GENERAL1_MEDIUM (builds of JVM and Rust apps need the memory). */
  readonly computeType?: pulumi.Input<string>;
  /** Minutes before a build is stopped. Default 30. */
  readonly buildTimeoutMinutes?: pulumi.Input<number>;
  /** Empty the source bucket and image repository on `pulumi destroy`. Default false (keep artifacts). */
  readonly forceDestroy?: boolean;
}

/**
 * One CodeBuild project per builder, the private bucket the inspector stages commit sources in, and the ECR
 * repository every build pushes its image to, tagged with the deployment id (tags are immutable).
 */
export class BuildProjects extends pulumi.ComponentResource {
  public readonly sourceBucket: aws.s3.Bucket;
  public readonly imageRepository: aws.ecr.Repository;
  public readonly projects: Readonly<Record<Builder, aws.codebuild.Project>>;
  /** Builder → project name, the shape the inspector's `BUILD_PROJECTS` variable takes. */
  public readonly projectNames: pulumi.Output<Record<Builder, string>>;
  public readonly projectArns: pulumi.Output<string[]>;
  /** Project name → its CloudWatch Logs group name (the `BUILD_LOG_GROUPS` the logs route reads), and the groups' ARNs. */
  public readonly logGroupNames: pulumi.Output<Record<string, string>>;
  public readonly logGroupArns: pulumi.Output<string[]>;

  constructor(name: string, args: BuildProjectsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:build:BuildProjects", name, {}, opts);
    this.sourceBucket = this.createSourceBucket(name, args);
    this.imageRepository = new aws.ecr.Repository(
      `${name}-images`,
      {
        // Each image is tagged with its deployment id only: no other deployment (a redeploy of the commit, a fork
        // sharing its SHA) can reuse the tag, and once pushed no build can replace the image a deployment points at.
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        forceDelete: args.forceDestroy ?? false,
      },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-images`,
      { repository: this.imageRepository.name, policy: JSON.stringify(imageLifecyclePolicy(args.imagesToKeep ?? 500)) },
      { parent: this },
    );
    const projects = {} as Record<Builder, aws.codebuild.Project>;
    const logGroups: aws.cloudwatch.LogGroup[] = [];
    for (const builder of BUILDERS) {
      const created = this.createProject(name, builder, args);
      projects[builder] = created.project;
      logGroups.push(created.logGroup);
    }
    this.projects = projects;
    this.logGroupNames = pulumi
      .all(BUILDERS.map((builder, i) => [projects[builder].name, logGroups[i]!.name]))
      .apply((pairs) => Object.fromEntries(pairs as [string, string][]));
    this.logGroupArns = pulumi.all(logGroups.map((group) => group.arn));
    this.projectNames = pulumi
      .all(BUILDERS.map((builder) => projects[builder].name))
      .apply(
        (names) => Object.fromEntries(BUILDERS.map((builder, i) => [builder, names[i]!])) as Record<Builder, string>,
      );
    this.projectArns = pulumi.all(BUILDERS.map((builder) => projects[builder].arn));
    this.registerOutputs({
      sourceBucketName: this.sourceBucket.bucket,
      imageRepositoryUrl: this.imageRepository.repositoryUrl,
      projectNames: this.projectNames,
    });
  }

  private createSourceBucket(name: string, args: BuildProjectsArgs): aws.s3.Bucket {
    const bucket = new aws.s3.Bucket(`${name}-sources`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });
    new aws.s3.BucketPublicAccessBlock(
      `${name}-sources`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-sources`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sources`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      { parent: this },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-sources`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-staged-sources",
            status: "Enabled",
            filter: { prefix: "sources/" },
            expiration: { days: args.sourceRetentionDays ?? 7 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-sources`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(sourceBucketPolicy(arn))) },
      { parent: this },
    );
    return bucket;
  }

  private createProject(
    name: string,
    builder: Builder,
    args: BuildProjectsArgs,
  ): { project: aws.codebuild.Project; logGroup: aws.cloudwatch.LogGroup } {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-${builder}`,
      { namePrefix: logGroupPrefix("codebuild", `${name}-${builder}`), retentionInDays: args.logRetentionDays ?? 30 },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-${builder}`,
      { assumeRolePolicy: JSON.stringify(assumeRolePolicy("codebuild.amazonaws.com")) },
      { parent: this },
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-${builder}`,
      {
        role: role.id,
        policy: pulumi
          .all([logGroup.arn, this.sourceBucket.arn, this.imageRepository.arn])
          .apply(([logGroupArn, sourceBucket, imageRepository]) =>
            JSON.stringify(buildProjectPolicy({ logGroup: logGroupArn, sourceBucket, imageRepository })),
          ),
      },
      { parent: this },
    );
    const project = new aws.codebuild.Project(
      `${name}-${builder}`,
      {
        description: `Slipway ${builder} builds: source from S3, image to ECR`,
        serviceRole: role.arn,
        buildTimeout: args.buildTimeoutMinutes ?? 30,
        // Every build names its own S3 source; the project's is a placeholder CodeBuild requires.
        source: {
          type: "S3",
          location: pulumi.interpolate`${this.sourceBucket.bucket}/sources/`,
          buildspec: buildspecFor(builder),
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: args.computeType ?? "BUILD_GENERAL1_MEDIUM",
          image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
          privilegedMode: true, // docker build
          environmentVariables: [
            { name: "IMAGE_REPOSITORY_URI", value: this.imageRepository.repositoryUrl },
            { name: "SLIPWAY_BUILDER", value: builder },
          ],
        },
        logsConfig: { cloudwatchLogs: { groupName: logGroup.name, status: "ENABLED" }, s3Logs: { status: "DISABLED" } },
      },
      { parent: this, dependsOn: [policy] },
    );
    return { project, logGroup };
  }
}

/** Untagged layers go after a day; tagged images beyond the newest `keep` go too. */
export function imageLifecyclePolicy(keep: number) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: "Remove untagged images",
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}
