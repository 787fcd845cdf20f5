import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../runtime/environment";
import { createBuildEventsHandler, createReconcilerHandler } from "../runtime/lifecycle/handlers";
import { LambdaFunction } from "./lambdaFunction";
import { buildEventsFunctionPermissions, eventsDeadLetterQueuePolicy, reconcilerFunctionPermissions } from "./policies";

export interface BuildLifecycleArgs {
  readonly deploymentsTable: aws.dynamodb.Table;
  readonly buildSlotsTable: aws.dynamodb.Table;
  /** ARNs of the deployments table's sparse `active` and `queuedByUser` indexes (DeploymentTable's). */
  readonly activeIndexArn: pulumi.Input<string>;
  readonly queuedIndexArn: pulumi.Input<string>;
  /** Builder → CodeBuild project name, and the projects' ARNs (BuildProjects'): the rules match only these projects. */
  readonly buildProjectNames: pulumi.Input<Record<string, string>>;
  readonly buildProjectArns: pulumi.Input<string[]>;
  /** The ECR repository builds push to (its pushed image's digest is recorded on SUCCEEDED). */
  readonly imageRepository: aws.ecr.Repository;
  /** Builds one user may have running at once; more wait QUEUED. Default 2. */
  readonly maxBuildsPerUser?: pulumi.Input<number>;
  /** Minutes between reconciler runs. Default 5. */
  readonly reconcileIntervalMinutes?: number;
  /** Minutes without news after which the reconciler checks a BUILDING (or QUEUED) deployment. Default 10; 0 checks all. */
  readonly staleBuildMinutes?: number;
  /** Days logs are kept. Default 30. */
  readonly logRetentionDays?: pulumi.Input<number>;
}

/** The two CodeBuild event types, one rule each, as CodeBuild's guide asks ("you must create two separate rules"). */
export const BUILD_EVENT_TYPES = {
  state: "CodeBuild Build State Change",
  phase: "CodeBuild Build Phase Change",
} as const;

/**
 * After BUILDING: a function that moves deployments on CodeBuild's state and phase change events (for this stack's
 * projects only), with retries and a dead-letter queue for what it cannot process, and a scheduled reconciler that
 * settles whatever an event lost from BatchGetBuilds and starts queues nobody started.
 */
export class BuildLifecycle extends pulumi.ComponentResource {
  public readonly buildEvents: LambdaFunction;
  public readonly reconciler: LambdaFunction;
  public readonly deadLetterQueue: aws.sqs.Queue;
  public readonly rules: Readonly<Record<keyof typeof BUILD_EVENT_TYPES, aws.cloudwatch.EventRule>>;
  public readonly schedule: aws.cloudwatch.EventRule;

  constructor(name: string, args: BuildLifecycleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("slipway:lifecycle:BuildLifecycle", name, {}, opts);
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-build-events-dlq`,
      { messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true },
      { parent: this },
    );
    const arns = pulumi.output({
      deploymentsTable: args.deploymentsTable.arn,
      buildSlotsTable: args.buildSlotsTable.arn,
      queuedIndex: args.queuedIndexArn,
      activeIndex: args.activeIndexArn,
      buildProjects: args.buildProjectArns,
      imageRepository: args.imageRepository.arn,
      deadLetterQueue: this.deadLetterQueue.arn,
    });
    const environment = {
      [ENV.deploymentsTable]: args.deploymentsTable.name,
      [ENV.buildSlotsTable]: args.buildSlotsTable.name,
      [ENV.maxBuildsPerUser]: pulumi.output(args.maxBuildsPerUser ?? 2).apply(String),
      [ENV.imageRepositoryUrl]: args.imageRepository.repositoryUrl,
    };

    this.buildEvents = new LambdaFunction(
      `${name}-build-events`,
      {
        description: "Slipway: CodeBuild events → the deployment's phase and outcome; starts queued builds",
        callbackFactory: createBuildEventsHandler,
        timeout: 30,
        logRetentionDays: args.logRetentionDays,
        environment,
        permissions: arns.apply(buildEventsFunctionPermissions),
      },
      { parent: this },
    );
    // Errors inside the function: Lambda retries an asynchronous invocation twice, then hands the event to the queue.
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-build-events`,
      {
        functionName: this.buildEvents.name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      },
      { parent: this },
    );

    const state = this.eventRule(name, "state", args);
    const phase = this.eventRule(name, "phase", args);
    this.rules = { state, phase };
    new aws.sqs.QueuePolicy(
      `${name}-build-events-dlq`,
      {
        queueUrl: this.deadLetterQueue.url,
        policy: pulumi
          .all([this.deadLetterQueue.arn, state.arn, phase.arn])
          .apply(([queue, stateRule, phaseRule]) =>
            JSON.stringify(eventsDeadLetterQueuePolicy(queue, [stateRule, phaseRule])),
          ),
      },
      { parent: this },
    );

    this.reconciler = new LambdaFunction(
      `${name}-reconciler`,
      {
        description: "Slipway: settles builds whose events were lost, starts queues nobody started",
        callbackFactory: createReconcilerHandler,
        timeout: 300,
        logRetentionDays: args.logRetentionDays,
        environment: { ...environment, [ENV.staleBuildMinutes]: String(args.staleBuildMinutes ?? 10) },
        permissions: arns.apply(reconcilerFunctionPermissions),
      },
      { parent: this },
    );
    this.schedule = new aws.cloudwatch.EventRule(
      `${name}-reconcile`,
      {
        description: "Slipway: run the build reconciler",
        scheduleExpression: reconcileSchedule(args.reconcileIntervalMinutes ?? 5),
      },
      { parent: this },
    );
    this.target(`${name}-reconcile`, this.schedule, this.reconciler);
    this.registerOutputs({
      buildEventsFunctionName: this.buildEvents.name,
      reconcilerFunctionName: this.reconciler.name,
      deadLetterQueueUrl: this.deadLetterQueue.url,
    });
  }

  /** One rule on one CodeBuild event type for this stack's projects, targeting the build events function. */
  private eventRule(name: string, kind: keyof typeof BUILD_EVENT_TYPES, args: BuildLifecycleArgs) {
    const rule = new aws.cloudwatch.EventRule(
      `${name}-build-${kind}`,
      {
        description: `Slipway: ${BUILD_EVENT_TYPES[kind]} of this stack's projects`,
        eventPattern: pulumi
          .output(args.buildProjectNames)
          .apply((names) => JSON.stringify(buildEventPattern(BUILD_EVENT_TYPES[kind], Object.values(names)))),
      },
      { parent: this },
    );
    this.target(`${name}-build-${kind}`, rule, this.buildEvents, this.deadLetterQueue);
    return rule;
  }

  /** The rule's target and the permission letting exactly that rule invoke the function. */
  private target(
    name: string,
    rule: aws.cloudwatch.EventRule,
    fn: LambdaFunction,
    deadLetterQueue?: aws.sqs.Queue,
  ): void {
    new aws.lambda.Permission(
      name,
      { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      name,
      {
        rule: rule.name,
        arn: fn.arn,
        // Delivery failures (throttled, not permitted): EventBridge retries for an hour, then the queue.
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 24 },
        ...(deadLetterQueue ? { deadLetterConfig: { arn: deadLetterQueue.arn } } : {}),
      },
      { parent: this },
    );
  }
}

/**
 * The event pattern of one rule: CodeBuild's events of one type, for these projects only (other stacks' and other
 * teams' builds in the account never reach the function).
 */
export function buildEventPattern(detailType: string, projectNames: readonly string[]) {
  if (projectNames.length === 0) throw new Error("buildEventPattern needs at least one project name");
  return {
    source: ["aws.codebuild"],
    "detail-type": [detailType],
    detail: { "project-name": [...projectNames].sort() },
  };
}

/** EventBridge's rate expression: `rate(1 minute)` (singular) or `rate(N minutes)`. */
export function reconcileSchedule(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1) throw new Error("reconcileIntervalMinutes must be a whole number ≥ 1");
  return minutes === 1 ? "rate(1 minute)" : `rate(${minutes} minutes)`;
}
