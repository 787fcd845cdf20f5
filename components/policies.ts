/**
 * IAM policy documents for every role in the stack, as pure functions of plain ARNs so tests can assert the exact
 * actions and resources without mocks. Each function may do exactly what it calls, on exactly what it touches.
 */

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow";
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
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

const allow = (
  Sid: string,
  Action: string[],
  Resource: string[],
  Condition?: PolicyStatement["Condition"],
): PolicyStatement => ({ Sid, Effect: "Allow", Action, Resource, ...(Condition ? { Condition } : {}) });

/** A Lambda function's whole policy: its own logs, then what it calls. */
export const functionPolicy = (logGroupArn: string, permissions: readonly PolicyStatement[]) =>
  policyDocument(writeLogs(logGroupArn), ...permissions);

/** Writing to the function's own log group, which the stack creates (so no logs:CreateLogGroup). */
export const writeLogs = (logGroupArn: string) =>
  allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroupArn}:*`]);

export interface DeployFunctionArns {
  readonly deploymentsTable: string;
  readonly idempotencyTable: string;
  readonly rateLimitsTable: string;
}

/**
 * POST /deployments: a transactional put of the deployment and its idempotency record, reads of both, and the
 * user's per-minute counter (one conditional UpdateItem to count, another to give back). Each part of a
 * TransactWriteItems is authorized as its own action; both parts are conditional Puts (PutItem), none a
 * ConditionCheck, so ConditionCheckItem is not needed.
 */
export const deployFunctionPermissions = (arns: DeployFunctionArns) => [
  allow("CreateDeployments", ["dynamodb:PutItem", "dynamodb:GetItem"], [arns.deploymentsTable]),
  allow("RecordIdempotencyKeys", ["dynamodb:PutItem", "dynamodb:GetItem"], [arns.idempotencyTable]),
  allow("CountDeploymentsPerUser", ["dynamodb:UpdateItem"], [arns.rateLimitsTable]),
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
  /**
   * The customer-managed KMS key the private-key secret is encrypted with, if any. Secrets Manager decrypts the
   * secret with the caller's permissions, so the inspector needs kms:Decrypt on it — only through Secrets Manager.
   */
  readonly privateKeyKmsKey?: string;
  readonly sourceBucket: string;
  readonly buildProjects: readonly string[];
  readonly failureQueue: string;
  /** The build slots table: the inspector takes a slot before it starts a build (runtime/lifecycle/buildQueue.ts). */
  readonly buildSlotsTable: string;
  /** The deployments table's `queuedByUser` index: after queuing one, a slot freed meanwhile starts the oldest. */
  readonly queuedIndex: string;
}

/**
 * Reading a table's stream as an event source mapping does with the function's role. ListStreams has no
 * resource-level permissions, so IAM only honours it on "*" (Service Authorization Reference, Amazon DynamoDB:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
 */
const readStream = (streamArn: string) => [
  allow(
    "ReadDeploymentsStream",
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
    [streamArn],
  ),
  allow("ListDeploymentsStreams", ["dynamodb:ListStreams"], ["*"]),
];

/**
 * Decrypting a secret's customer-managed key, only as Secrets Manager does on the caller's behalf (the key policy
 * pattern AWS documents: https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html and
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 */
const decryptSecretKey = (keyArn: string, secretArn: string) =>
  allow("DecryptGitHubAppKey", ["kms:Decrypt"], [keyArn], {
    // The secret's region (its ARN's fourth field): Secrets Manager calls KMS from there.
    StringEquals: { "kms:ViaService": `secretsmanager.${secretArn.split(":")[3]}.amazonaws.com` },
  });

/** The repo inspector. */
export const inspectorFunctionPermissions = (arns: InspectorArns) => [
  ...readStream(arns.deploymentsStream),
  allow("MoveDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  // A user's links are one Query (listForUser); the inspector picks the owner's installation among them.
  allow("FindInstallations", ["dynamodb:Query"], [arns.installationsTable]),
  allow("ReadGitHubAppKey", ["secretsmanager:GetSecretValue"], [arns.privateKeySecret]),
  ...(arns.privateKeyKmsKey ? [decryptSecretKey(arns.privateKeyKmsKey, arns.privateKeySecret)] : []),
  // Sources stream in as multipart uploads (each part is authorized as s3:PutObject). A failed one is left to the
  // bucket's lifecycle rule (abortIncompleteMultipartUpload), so no s3:AbortMultipartUpload is granted.
  allow("StageSources", ["s3:PutObject"], [`${arns.sourceBucket}/sources/*`]),
  allow(
    "StartBuilds",
    ["codebuild:StartBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"],
    [...arns.buildProjects],
  ),
  // The mapping's on-failure destination is written with the function's role.
  allow("ReportAbandonedBatches", ["sqs:SendMessage"], [arns.failureQueue]),
  allow("TakeBuildSlots", ["dynamodb:UpdateItem"], [arns.buildSlotsTable]),
  allow("FindQueuedDeployments", ["dynamodb:Query"], [arns.queuedIndex]),
];

export interface BuildLifecycleArns {
  readonly deploymentsTable: string;
  readonly buildSlotsTable: string;
  readonly queuedIndex: string;
  readonly buildProjects: readonly string[];
  readonly imageRepository: string;
}

/**
 * What both the build events function and the reconciler do (runtime/lifecycle/): move deployments; when one ends,
 * give its build slot back and start the user's oldest QUEUED deployment; read the pushed image's digest.
 */
const settleBuilds = (arns: BuildLifecycleArns) => [
  allow("MoveDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  allow("TakeBuildSlots", ["dynamodb:UpdateItem"], [arns.buildSlotsTable]),
  allow("FindQueuedDeployments", ["dynamodb:Query"], [arns.queuedIndex]),
  allow("StartQueuedBuilds", ["codebuild:StartBuild"], [...arns.buildProjects]),
  allow("ReadImageDigests", ["ecr:DescribeImages"], [arns.imageRepository]),
];

/**
 * The target of the CodeBuild event rules; events it fails on go to its dead-letter queue. It also stops a build
 * whose deployment ended before the build was recorded (an orphan), on the build's first event.
 */
export const buildEventsFunctionPermissions = (arns: BuildLifecycleArns & { deadLetterQueue: string }) => [
  ...settleBuilds(arns),
  allow("StopOrphanBuilds", ["codebuild:StopBuild"], [...arns.buildProjects]),
  // Lambda's asynchronous invocation writes the on-failure destination with the function's role.
  allow("ReportFailedEvents", ["sqs:SendMessage"], [arns.deadLetterQueue]),
];

/**
 * The scheduled reconciler: reads only the sparse `active` index and the small build-slots table, asks CodeBuild
 * about builds it heard nothing from, and resumes a queued start older than CodeBuild's idempotency window by
 * looking for its build first (ListBuildsForProject, BatchGetBuilds).
 */
export const reconcilerFunctionPermissions = (arns: BuildLifecycleArns & { activeIndex: string }) => [
  ...settleBuilds(arns),
  allow("FindActiveDeployments", ["dynamodb:Query"], [arns.activeIndex]),
  allow("ReadBuildSlots", ["dynamodb:Scan"], [arns.buildSlotsTable]),
  allow("ReadBuilds", ["codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"], [...arns.buildProjects]),
];

/** POST /deployments/{id}/cancel: move the deployment, or stop its build. */
export const cancelFunctionPermissions = (arns: { deploymentsTable: string; buildProjects: readonly string[] }) => [
  allow("CancelDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
  allow("StopBuilds", ["codebuild:StopBuild"], [...arns.buildProjects]),
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

export interface OnboardingArns {
  readonly installationsTable: string;
  readonly byInstallationIndex: string;
  readonly onboardingTable: string;
  readonly projectsTable: string;
  readonly projectsByUserIndex: string;
  readonly deploymentsTable: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  /** The App's private key (GET /repositories mints installation tokens), and its customer-managed KMS key if any. */
  readonly privateKeySecret: string;
  readonly privateKeyKmsKey?: string;
}

/** GET /github/install, GET /github/installations, DELETE /github/installations/{id}. */
export const installationsFunctionPermissions = (arns: OnboardingArns) => [
  allow("IssueStates", ["dynamodb:PutItem"], [arns.onboardingTable]),
  allow("ListAndUnlinkInstallations", ["dynamodb:Query", "dynamodb:BatchWriteItem"], [arns.installationsTable]),
];

/** POST /github/installations: use up the state, read the OAuth client secret, write the link. */
export const linkInstallationFunctionPermissions = (arns: OnboardingArns) => [
  allow("ConsumeStates", ["dynamodb:DeleteItem"], [arns.onboardingTable]),
  allow("LinkInstallations", ["dynamodb:PutItem"], [arns.installationsTable]),
  allow("ReadOAuthClientSecret", ["secretsmanager:GetSecretValue"], [arns.clientSecret]),
];

/** GET /repositories: the caller's links, the App's key to mint listing tokens. */
export const repositoriesFunctionPermissions = (arns: OnboardingArns) => [
  allow("ReadLinkedInstallations", ["dynamodb:Query"], [arns.installationsTable]),
  allow("ReadGitHubAppKey", ["secretsmanager:GetSecretValue"], [arns.privateKeySecret]),
  ...(arns.privateKeyKmsKey ? [decryptSecretKey(arns.privateKeyKmsKey, arns.privateKeySecret)] : []),
];

/** The project routes. */
export const projectsFunctionPermissions = (arns: OnboardingArns) => [
  allow("ManageProjects", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [arns.projectsTable]),
  allow("ListUserProjects", ["dynamodb:Query"], [arns.projectsByUserIndex]),
  allow("CheckInstallations", ["dynamodb:Query"], [arns.installationsTable]),
];

/** POST /github/webhooks. */
export const webhooksFunctionPermissions = (arns: OnboardingArns) => [
  allow("ReadWebhookSecret", ["secretsmanager:GetSecretValue"], [arns.webhookSecret]),
  allow("ClaimDeliveries", ["dynamodb:PutItem", "dynamodb:DeleteItem"], [arns.onboardingTable]),
  allow("FindInstallationLinks", ["dynamodb:Query"], [arns.byInstallationIndex]),
  allow("UpdateInstallationLinks", ["dynamodb:UpdateItem"], [arns.installationsTable]),
  allow("FindPushProjects", ["dynamodb:Query", "dynamodb:UpdateItem"], [arns.projectsTable]),
  allow("CreatePushDeployments", ["dynamodb:PutItem", "dynamodb:UpdateItem"], [arns.deploymentsTable]),
];

export interface AbandonedArns {
  readonly deploymentsTable: string;
  readonly deploymentsStream: string;
  readonly failureQueue: string;
}

/**
 * The consumer of the inspector's failure queue. Its event source mapping polls with the function's role, which
 * needs exactly these three (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); failed
 * messages come back when their visibility timeout ends, without ChangeMessageVisibility.
 */
export const abandonedDeploymentsFunctionPermissions = (arns: AbandonedArns) => [
  allow(
    "ConsumeFailureQueue",
    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
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

/**
 * A CodeBuild project's service role: what CodeBuild does with it for a build from an S3 source that logs to
 * CloudWatch (AWS's minimum service-role policy: the bucket's ACL and location, the source object, the log group —
 * https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html), and what the buildspec's
 * commands do with it: log in to ECR Public (base images) and ECR, push the image.
 */
export const buildProjectPolicy = (arns: BuildProjectArns) =>
  policyDocument(
    writeLogs(arns.logGroup),
    allow("CheckSourceBucket", ["s3:GetBucketAcl", "s3:GetBucketLocation"], [arns.sourceBucket]),
    // Builds name no object version (the bucket is not versioned), so GetObject alone: AWS's policy adds
    // GetObjectVersion for sources given as a version.
    allow("ReadSources", ["s3:GetObject"], [`${arns.sourceBucket}/sources/*`]),
    // Neither token action has resource-level permissions: AWS requires "*" (Service Authorization Reference,
    // Amazon ECR, Amazon ECR Public and AWS STS: GetAuthorizationToken and GetServiceBearerToken name no resource
    // type; https://docs.aws.amazon.com/AmazonECR/latest/public/public-registry-auth.html asks for both).
    allow("LogInToEcr", ["ecr:GetAuthorizationToken"], ["*"]),
    allow("LogInToEcrPublic", ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"], ["*"]),
    // What a push is authorized as (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html);
    // builds pull nothing from the repository, so no GetDownloadUrlForLayer.
    allow(
      "PushImages",
      [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
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
