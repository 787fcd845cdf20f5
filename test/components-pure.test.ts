import test from "ava";
import { buildEventPattern, reconcileSchedule } from "../components/buildLifecycle";
import { invokeArnSuffix, corsConfiguration, ROUTES } from "../components/deploymentApi";
import { bundleOptions, LAMBDA_RUNTIME } from "../components/functionBundle";
import {
  buildProjectPolicy,
  functionPolicy,
  inspectorFunctionPermissions,
  sourceBucketPolicy,
} from "../components/policies";
import { PENDING_INSERTS_FILTER, streamSubscriptionArgs } from "../components/repoInspector";
import { loadStackConfig } from "../components/stackConfig";
import { fakeConfig } from "./helpers/config";
import { imageLifecyclePolicy } from "../components/buildProjects";

test("functions are bundled for Lambda's Node.js 22 as CommonJS, with names kept for stack traces", (t) => {
  const options = bundleOptions("/project");
  t.is(LAMBDA_RUNTIME, "nodejs22.x");
  t.like(options, { bundle: true, platform: "node", target: "node22", format: "cjs", keepNames: true });
  t.is(options.external, undefined, "nothing is left for the runtime to provide: the AWS SDK is bundled too");
});

test("route invoke ARNs name the method and path, with path parameters as wildcards", (t) => {
  t.is(invokeArnSuffix("POST /deployments"), "/*/POST/deployments");
  t.is(invokeArnSuffix("GET /deployments/{id}"), "/*/GET/deployments/*");
  t.is(invokeArnSuffix("POST /deployments/{id}/cancel"), "/*/POST/deployments/*/cancel");
  t.deepEqual(
    ROUTES.map((r) => r.routeKey),
    [
      "POST /deployments",
      "GET /deployments/{id}",
      "GET /deployments",
      "POST /deployments/{id}/cancel",
      "GET /deployments/{id}/logs",
    ],
  );
});

test("CORS is off without origins and exposes Location when on", (t) => {
  t.is(corsConfiguration([]), undefined);
  const cors = corsConfiguration(["https://app.example.com"]);
  t.deepEqual(cors?.allowOrigins, ["https://app.example.com"]);
  t.true((cors?.exposeHeaders as string[]).includes("location"));
  t.true((cors?.allowHeaders as string[]).includes("idempotency-key"));
});

test("the stream filter passes only pending inserts, in DynamoDB JSON", (t) => {
  t.deepEqual(PENDING_INSERTS_FILTER, {
    eventName: ["INSERT"],
    dynamodb: { NewImage: { status: { S: ["PENDING"] } } },
  });
  const args = streamSubscriptionArgs("arn:queue", {});
  t.is(args.startingPosition, "TRIM_HORIZON");
  t.true(args.bisectBatchOnFunctionError);
  t.deepEqual(args.functionResponseTypes, ["ReportBatchItemFailures"]);
  t.is(args.maximumRetryAttempts, 5);
  t.is(args.parallelizationFactor, 10, "a failing record holds up one lane of ten, not the shard");
  t.is(args.maximumRecordAgeInSeconds, 3600);
});

test("the inspector may call exactly what it uses, on exactly its resources", (t) => {
  const policy = functionPolicy(
    "arn:logs:group",
    inspectorFunctionPermissions({
      deploymentsTable: "arn:table/d",
      deploymentsStream: "arn:table/d/stream/1",
      installationsTable: "arn:table/i",
      privateKeySecret: "arn:secret:k",
      sourceBucket: "arn:aws:s3:::src",
      buildProjects: ["arn:project/a", "arn:project/b"],
      failureQueue: "arn:sqs:q",
      buildSlotsTable: "arn:table/s",
      queuedIndex: "arn:table/d/index/queuedByUser",
    }),
  );
  const byAction = new Map<string, string[]>();
  for (const statement of policy.Statement)
    for (const action of statement.Action) byAction.set(action, statement.Resource);
  t.deepEqual(byAction.get("secretsmanager:GetSecretValue"), ["arn:secret:k"]);
  t.deepEqual(byAction.get("s3:PutObject"), ["arn:aws:s3:::src/sources/*"]);
  t.deepEqual(byAction.get("codebuild:StartBuild"), ["arn:project/a", "arn:project/b"]);
  t.deepEqual(
    policy.Statement.filter((s) => s.Action.includes("dynamodb:UpdateItem")).flatMap((s) => s.Resource),
    ["arn:table/d", "arn:table/s"],
  );
  // After queuing a deployment it looks for a slot freed meanwhile: the queued index only, never the table.
  t.deepEqual(byAction.get("dynamodb:Query"), ["arn:table/d/index/queuedByUser"]);
  t.deepEqual(byAction.get("dynamodb:GetRecords"), ["arn:table/d/stream/1"]);
  t.deepEqual(byAction.get("logs:PutLogEvents"), ["arn:logs:group:*"]);
  t.false([...byAction.keys()].some((action) => action.endsWith(":*") || action === "*"));
  // Only ListStreams, which has no resource-level permissions, is granted on "*".
  t.deepEqual(
    policy.Statement.filter((s) => s.Resource.includes("*")).map((s) => s.Action),
    [["dynamodb:ListStreams"]],
  );
  t.false(
    policy.Statement.some((s) => s.Action.includes("kms:Decrypt")),
    "no KMS key, no kms:Decrypt",
  );
});

test("regression: ListStreams is granted on *, not on the table's stream family", (t) => {
  const statements = inspectorFunctionPermissions({
    deploymentsTable: "arn:aws:dynamodb:eu-west-1:123456789012:table/d",
    deploymentsStream: "arn:aws:dynamodb:eu-west-1:123456789012:table/d/stream/1",
    installationsTable: "arn:aws:dynamodb:eu-west-1:123456789012:table/i",
    privateKeySecret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbC123",
    sourceBucket: "arn:aws:s3:::src",
    buildProjects: ["arn:aws:codebuild:eu-west-1:123456789012:project/a"],
    failureQueue: "arn:aws:sqs:eu-west-1:123456789012:q",
    buildSlotsTable: "arn:aws:dynamodb:eu-west-1:123456789012:table/s",
    queuedIndex: "arn:aws:dynamodb:eu-west-1:123456789012:table/d/index/queuedByUser",
  });
  const listing = statements.filter((s) => s.Action.includes("dynamodb:ListStreams"));
  t.deepEqual(listing, [
    { Sid: "ListDeploymentsStreams", Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
  ]);
});

test("regression: with a customer-managed key, the inspector may decrypt with exactly it, via Secrets Manager only", (t) => {
  const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const statements = inspectorFunctionPermissions({
    deploymentsTable: "arn:table/d",
    deploymentsStream: "arn:table/d/stream/1",
    installationsTable: "arn:table/i",
    privateKeySecret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbC123",
    privateKeyKmsKey: key,
    sourceBucket: "arn:aws:s3:::src",
    buildProjects: ["arn:project/a"],
    failureQueue: "arn:sqs:q",
    buildSlotsTable: "arn:table/s",
    queuedIndex: "arn:table/d/index/queuedByUser",
  });
  t.deepEqual(
    statements.filter((s) => s.Action.some((action) => action.startsWith("kms:"))),
    [
      {
        Sid: "DecryptGitHubAppKey",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [key],
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
    ],
  );
});

test("a build project reads only staged sources and pushes only to the image repository", (t) => {
  const policy = buildProjectPolicy({
    logGroup: "arn:lg",
    sourceBucket: "arn:aws:s3:::src",
    imageRepository: "arn:ecr:repo",
  });
  // The token actions have no resource-level permissions; nothing else is granted on "*".
  const wildcard = policy.Statement.filter((s) => s.Resource.includes("*"));
  t.deepEqual(
    wildcard.map((s) => s.Action),
    [["ecr:GetAuthorizationToken"], ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]],
  );
  t.deepEqual(policy.Statement.find((s) => s.Sid === "ReadSources")?.Resource, ["arn:aws:s3:::src/sources/*"]);
  t.true(policy.Statement.find((s) => s.Sid === "PushImages")!.Action.includes("ecr:PutImage"));
});

test("regression: a build project may check its source bucket's ACL and location, as AWS's minimum policy has", (t) => {
  const policy = buildProjectPolicy({ logGroup: "arn:lg", sourceBucket: "arn:aws:s3:::src", imageRepository: "arn:r" });
  const byAction = new Map(policy.Statement.flatMap((s) => s.Action.map((action) => [action, s.Resource] as const)));
  t.deepEqual(byAction.get("s3:GetBucketAcl"), ["arn:aws:s3:::src"]);
  t.deepEqual(byAction.get("s3:GetBucketLocation"), ["arn:aws:s3:::src"]);
});

test("regression: a build project may log in to ECR Public (base images), on * as AWS requires", (t) => {
  const policy = buildProjectPolicy({ logGroup: "arn:lg", sourceBucket: "arn:aws:s3:::src", imageRepository: "arn:r" });
  t.deepEqual(
    policy.Statement.find((s) => s.Action.includes("ecr-public:GetAuthorizationToken")),
    {
      Sid: "LogInToEcrPublic",
      Effect: "Allow",
      Action: ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
      Resource: ["*"],
    },
  );
});

test("the source bucket refuses plain HTTP", (t) => {
  const statement = sourceBucketPolicy("arn:aws:s3:::src").Statement[0]!;
  t.is(statement.Effect, "Deny");
  t.deepEqual(statement.Condition, { Bool: { "aws:SecureTransport": "false" } });
});

test("image lifecycle removes untagged images first", (t) => {
  const policy = imageLifecyclePolicy(50);
  t.is(policy.rules[0]!.selection.tagStatus, "untagged");
  t.is(policy.rules[1]!.selection.countNumber, 50);
});

const validConfig = { githubAppId: "123", jwtIssuer: "https://issuer/", jwtAudience: ["web"] };
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/github-app-key-AbC123";
const KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

test("stack config: defaults, and errors that name the key and the way out", (t) => {
  const config = loadStackConfig(fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: SECRET_ARN }));
  t.is(config.githubApiUrl, "https://api.github.com");
  t.true(config.deletionProtection);
  t.true(config.pointInTimeRecovery);
  t.is(config.logRetentionDays, 30);
  t.deepEqual(config.corsAllowOrigins, []);
  t.is(config.deploymentsPerUserPerMinute, 10);

  t.throws(() => loadStackConfig(fakeConfig(validConfig)), {
    message: /exactly one of \[slipway:githubAppPrivateKey\]/,
  });
  t.throws(
    () =>
      loadStackConfig(
        fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: SECRET_ARN }, { githubAppPrivateKey: "pem" }),
      ),
    { message: /exactly one of/ },
  );
  const withArn = { ...validConfig, githubAppPrivateKeySecretArn: SECRET_ARN };
  t.throws(() => loadStackConfig(fakeConfig({ ...withArn, githubAppId: "my-app" })), {
    message: /\[slipway:githubAppId\].*numeric/,
  });
  t.throws(() => loadStackConfig(fakeConfig({ ...withArn, jwtIssuer: "http://x" })), {
    message: /\[slipway:jwtIssuer\].*https/,
  });
  t.throws(() => loadStackConfig(fakeConfig({ ...withArn, jwtAudience: [] })), { message: /\[slipway:jwtAudience\]/ });
  t.throws(() => loadStackConfig(fakeConfig({ ...withArn, logRetentionDays: 10 })), {
    message: /\[slipway:logRetentionDays\].*14/,
  });
  t.throws(() => loadStackConfig(fakeConfig({ ...withArn, corsAllowOrigins: "https://x" })), {
    message: /list of strings/,
  });
  t.is(loadStackConfig(fakeConfig({ ...withArn, deploymentsPerUserPerMinute: 3 })).deploymentsPerUserPerMinute, 3);
  for (const bad of [0, -1, 1.5]) {
    t.throws(() => loadStackConfig(fakeConfig({ ...withArn, deploymentsPerUserPerMinute: bad })), {
      message: /\[slipway:deploymentsPerUserPerMinute\] must be a whole number ≥ 1/,
    });
  }
});

test("build events: one pattern per event type, this stack's projects only; the reconcile schedule is a rate", (t) => {
  t.deepEqual(buildEventPattern("CodeBuild Build State Change", ["b", "a"]), {
    source: ["aws.codebuild"],
    "detail-type": ["CodeBuild Build State Change"],
    detail: { "project-name": ["a", "b"] },
  });
  t.throws(() => buildEventPattern("CodeBuild Build State Change", []));
  t.is(reconcileSchedule(1), "rate(1 minute)");
  t.is(reconcileSchedule(5), "rate(5 minutes)");
  t.throws(() => reconcileSchedule(0.5));
});

test("stack config: build limits and the reconcile interval are whole numbers, with defaults", (t) => {
  const base = {
    githubAppId: "1",
    jwtIssuer: "https://issuer.example.com/",
    jwtAudience: ["web"],
  };
  const loaded = loadStackConfig(fakeConfig(base, { githubAppPrivateKey: "pem" }));
  t.is(loaded.maxConcurrentBuildsPerUser, 2);
  t.is(loaded.reconcileIntervalMinutes, 5);
  t.is(
    loadStackConfig(fakeConfig({ ...base, maxConcurrentBuildsPerUser: 4 }, { githubAppPrivateKey: "pem" }))
      .maxConcurrentBuildsPerUser,
    4,
  );
  for (const [key, value] of [
    ["maxConcurrentBuildsPerUser", 0],
    ["maxConcurrentBuildsPerUser", 1.5],
    ["reconcileIntervalMinutes", -1],
  ] as const) {
    t.throws(() => loadStackConfig(fakeConfig({ ...base, [key]: value }, { githubAppPrivateKey: "pem" })), {
      message: new RegExp(`^\\[slipway:${key}\\] must be a whole number ≥ 1, e\\.g\\. \\d+\\.$`),
    });
  }
});

test("regression: githubAppPrivateKeySecretArn must be a full secret ARN, with its 6-character suffix", (t) => {
  for (const partial of [
    "slipway/github-app-key",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/github-app-key",
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/github-app-key-AbC",
    "arn:aws:secretsmanager:eu-west-1:1234:secret:slipway/github-app-key-AbC123",
  ]) {
    const error = t.throws(() =>
      loadStackConfig(fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: partial })),
    );
    t.regex(error!.message, /\[slipway:githubAppPrivateKeySecretArn\] must be the secret's full ARN/, partial);
    t.regex(error!.message, /6-character suffix/);
    t.regex(error!.message, /aws secretsmanager describe-secret/);
  }
  t.is(
    loadStackConfig(fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: SECRET_ARN }))
      .githubAppPrivateKeySecretArn,
    SECRET_ARN,
  );
});

test("stack config: githubAppPrivateKeyKmsKeyArn is a key ARN, only with an existing secret", (t) => {
  const withSecret = { ...validConfig, githubAppPrivateKeySecretArn: SECRET_ARN };
  t.is(
    loadStackConfig(fakeConfig({ ...withSecret, githubAppPrivateKeyKmsKeyArn: KMS_KEY_ARN }))
      .githubAppPrivateKeyKmsKeyArn,
    KMS_KEY_ARN,
  );
  t.is(loadStackConfig(fakeConfig(withSecret)).githubAppPrivateKeyKmsKeyArn, undefined);
  t.throws(
    () =>
      loadStackConfig(
        fakeConfig({ ...withSecret, githubAppPrivateKeyKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/github" }),
      ),
    { message: /\[slipway:githubAppPrivateKeyKmsKeyArn\] must be the KMS key's ARN.*alias/ },
  );
  t.throws(
    () =>
      loadStackConfig(
        fakeConfig({ ...validConfig, githubAppPrivateKeyKmsKeyArn: KMS_KEY_ARN }, { githubAppPrivateKey: "pem" }),
      ),
    { message: /applies only with \[slipway:githubAppPrivateKeySecretArn\]/ },
  );
});
