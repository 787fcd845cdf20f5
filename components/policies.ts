/**
 * IAM policy documents for every role in the stack, as pure functions of plain ARNs so tests can assert the exact
 * actions and resources without mocks. Each function may do exactly what it calls, on exactly what it touches.
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string[];
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy letting one AWS service assume a role. */
export function assumeRolePolicy(service: "lambda.amazonaws.com" | "codebuild.amazonaws.com") {
  return {
    Version: "2012-10-17" as const,
    Statement: [{ Effect: "Allow" as const, Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

const allow = (Sid: string, Action: string[], Resource: string[]): PolicyStatement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
});

/** A Lambda function's whole policy: its own logs, then what it calls. */
export const functionPolicy = (logGroupArn: string, permissions: readonly PolicyStatement[]) =>
  policyDocument(writeLogs(logGroupArn), ...permissions);

/** Writing to the function's own log group, which the stack creates (so no logs:CreateLogGroup). */
export const writeLogs = (logGroupArn: string) =>
  allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroupArn}:*`]);

export interface DeployFunctionArns {
  readonly deploymentsTable: string;
  readonly idempotencyTable: string;
}

/** POST /deployments: a transactional put of the deployment and its idempotency record, and reads of both. */
export const deployFunctionPermissions = (arns: DeployFunctionArns) => [
  allow("CreateDeployments", ["dynamodb:PutItem", "dynamodb:GetItem"], [arns.deploymentsTable]),
  allow(
    "RecordIdempotencyKeys",
    ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:ConditionCheckItem"],
    [arns.idempotencyTable],
  ),
];

/** GET /deployments/{id}. */
export const getDeploymentFunctionPermissions = (arns: { deploymentsTable: string }) => [
  allow("ReadDeployments", ["dynamodb:GetItem"], [arns.deploymentsTable]),
];

/** GET /deployments: only the per-user index, never a table scan. */
export const listDeploymentsFunctionPermissions = (arns: { byUserIndex: string }) => [
  allow("QueryUserIndex", ["dynamodb:Query"], [arns.byUserIndex]),
];

export interface InspectorArns {
  readonly deploymentsTable: string;
  readonly deploymentsStream: string;
  readonly installationsTable: string;
  readonly privateKeySecret: string;
  readonly sourceBucket: string;
  readonly buildProjects: readonly string[];
  readonly failureQueue: string;
  readonly buildSlotsTable: string;
  readonly queuedIndex: string;
}

/** The stream's ARN family, for ListStreams (which names the table, not one stream). */
const streamsOf = (tableArn: string) => `${tableArn}/stream/*`;

/** Reading a table's stream as an event source mapping does with the function's role. */
const readStream = (streamArn: string, tableArn: string) => [
  allow(
    "ReadDeploymentsStream",
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
    [streamArn],
  ),
  allow("ListDeploymentsStreams", ["dynamodb:ListStreams"], [streamsOf(tableArn)]),
];

/** The repo inspector. */
export const inspectorFunctionPermissions = (arns: InspectorArns) => [
  ...readStream(arns.deploymentsStream, arns.deploymentsTable),
  allow("MoveDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  allow("FindInstallations", ["dynamodb:GetItem"], [arns.installationsTable]),
  allow("ReadGitHubAppKey", ["secretsmanager:GetSecretValue"], [arns.privateKeySecret]),
  allow("StageSources", ["s3:PutObject"], [`${arns.sourceBucket}/sources/*`]),
  allow(
    "StartBuilds",
    ["codebuild:StartBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"],
    [...arns.buildProjects],
  ),
  // The mapping's on-failure destination is written with the function's role.
  allow("ReportAbandonedBatches", ["sqs:SendMessage"], [arns.failureQueue]),
  ...buildQueue(arns),
];

/**
 * The build queue (runtime/lifecycle/buildQueue.ts), which the inspector, the build events function and the
 * reconciler all run: take and give back build slots, find a user's oldest QUEUED deployments, and stop a build
 * started for a deployment canceled meanwhile.
 */
const buildQueue = (arns: { buildSlotsTable: string; queuedIndex: string; buildProjects: readonly string[] }) => [
  allow("TakeBuildSlots", ["dynamodb:UpdateItem"], [arns.buildSlotsTable]),
  allow("FindQueuedDeployments", ["dynamodb:Query"], [arns.queuedIndex]),
  allow("StopCanceledBuilds", ["codebuild:StopBuild"], [...arns.buildProjects]),
];

export interface BuildLifecycleArns {
  readonly deploymentsTable: string;
  readonly buildSlotsTable: string;
  readonly queuedIndex: string;
  readonly buildProjects: readonly string[];
  readonly imageRepository: string;
}

/** What both the build events function and the reconciler do: settle deployments and run the build queue. */
const settleBuilds = (arns: BuildLifecycleArns) => [
  allow("MoveDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  allow(
    "StartAndReadBuilds",
    ["codebuild:StartBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"],
    [...arns.buildProjects],
  ),
  allow("ReadImageDigests", ["ecr:DescribeImages"], [arns.imageRepository]),
  ...buildQueue(arns),
];

/** The target of the CodeBuild event rules; events it fails on go to its dead-letter queue. */
export const buildEventsFunctionPermissions = (arns: BuildLifecycleArns & { deadLetterQueue: string }) => [
  ...settleBuilds(arns),
  // Lambda's asynchronous invocation writes the on-failure destination with the function's role.
  allow("ReportFailedEvents", ["sqs:SendMessage"], [arns.deadLetterQueue]),
];

/** The scheduled reconciler: reads only the sparse `active` index and the small build-slots table. */
export const reconcilerFunctionPermissions = (arns: BuildLifecycleArns & { activeIndex: string }) => [
  ...settleBuilds(arns),
  allow("FindActiveDeployments", ["dynamodb:Query"], [arns.activeIndex]),
  allow("ReadBuildSlots", ["dynamodb:Scan"], [arns.buildSlotsTable]),
];

/** POST /deployments/{id}/cancel: move the deployment, stop its build (found first if only just started). */
export const cancelFunctionPermissions = (arns: { deploymentsTable: string; buildProjects: readonly string[] }) => [
  allow("CancelDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  allow(
    "StopBuilds",
    ["codebuild:StopBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"],
    [...arns.buildProjects],
  ),
];

/** GET /deployments/{id}/logs: read the deployment, then its build's stream in exactly the build log groups. */
export const logsFunctionPermissions = (arns: { deploymentsTable: string; buildLogGroups: readonly string[] }) => [
  allow("ReadDeployments", ["dynamodb:GetItem"], [arns.deploymentsTable]),
  allow(
    "ReadBuildLogs",
    ["logs:GetLogEvents"],
    arns.buildLogGroups.map((group) => `${group}:log-stream:*`),
  ),
];

/**
 * Who may write to the build events' dead-letter queue: EventBridge, for events of exactly these rules it could not
 * deliver (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html#eb-rule-dlq).
 */
export function eventsDeadLetterQueuePolicy(queueArn: string, ruleArns: readonly string[]) {
  return {
    Version: "2012-10-17" as const,
    Statement: [
      {
        Sid: "EventBridgeDeadLetters",
        Effect: "Allow" as const,
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
      },
    ],
  };
}

export interface AbandonedArns {
  readonly deploymentsTable: string;
  readonly deploymentsStream: string;
  readonly failureQueue: string;
}

/** The consumer of the inspector's failure queue. */
export const abandonedDeploymentsFunctionPermissions = (arns: AbandonedArns) => [
  allow(
    "ConsumeFailureQueue",
    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
    [arns.failureQueue],
  ),
  allow("ReadFailedRecords", ["dynamodb:GetShardIterator", "dynamodb:GetRecords"], [arns.deploymentsStream]),
  allow("FailDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
];

export interface BuildProjectArns {
  readonly logGroup: string;
  readonly sourceBucket: string;
  readonly imageRepository: string;
}

/** A CodeBuild project's service role: read its sources, write its logs, push to the one image repository. */
export const buildProjectPolicy = (arns: BuildProjectArns) =>
  policyDocument(
    writeLogs(arns.logGroup),
    allow("ReadSources", ["s3:GetObject", "s3:GetObjectVersion"], [`${arns.sourceBucket}/sources/*`]),
    // GetAuthorizationToken has no resource-level permissions: AWS requires "*".
    allow("LogInToEcr", ["ecr:GetAuthorizationToken"], ["*"]),
    allow(
      "PushImages",
      [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
      ],
      [arns.imageRepository],
    ),
  );

/** Sources travel over TLS only. */
export function sourceBucketPolicy(bucketArn: string) {
  return {
    Version: "2012-10-17" as const,
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny" as const,
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
