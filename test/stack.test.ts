import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as path from "node:path";
import test from "ava";
import { PENDING_INSERTS_FILTER } from "../components/repoInspector";
import { BUILDERS } from "../runtime/builders";
import { ENV } from "../runtime/environment";
import { ARCHIVE_BUILD_KEY, ensureFunctionArchives } from "../local/platform/archives/functionArchives";
import { findResource, findResources, type RecordedResource } from "./helpers/pulumiMocks";
import { loadStack, TEST_CONFIG, type LoadedStack } from "./helpers/stack";

let stack: LoadedStack;
test.before(async () => {
  stack = await loadStack(undefined, { functionCode: "archives" }); // the code: the archives, as pulumi up builds them
});

const of = (type: string) => findResources(stack.resources, type);
const one = (type: string, name: string) => findResource(stack.resources, type, name);
/** Resource types whose physical name is account-wide: each must be auto-named. */
const PHYSICALLY_NAMED = [
  "aws:lambda/function:Function",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:codebuild/project:Project",
  "aws:iam/role:Role",
  "aws:dynamodb/table:Table",
  "aws:sqs/queue:Queue",
  "aws:s3/bucket:Bucket",
  "aws:ecr/repository:Repository",
  "aws:secretsmanager/secret:Secret",
  "aws:apigatewayv2/api:Api",
];
/** Loaded by the AWS SDK inside try/catch, only for SigV4a signing (multi-Region access points), which no function uses. */
const OPTIONAL_REQUIRES = ["@aws-sdk/signature-v4-crt"];
const ONBOARDING_FUNCTIONS = [
  "slipway-installations",
  "slipway-link",
  "slipway-projects",
  "slipway-repositories",
  "slipway-webhooks",
];
const FUNCTIONS = [
  "slipway-deploy",
  "slipway-get",
  "slipway-list",
  "slipway-cancel",
  "slipway-logs",
  "slipway-inspector",
  "slipway-abandoned",
  "slipway-build-events",
  "slipway-reconciler",
  ...ONBOARDING_FUNCTIONS,
];

test("the stack is composed of Slipway's components", (t) => {
  const components = stack.resources.filter((r) => r.type.startsWith("slipway:")).map((r) => `${r.type} ${r.name}`);
  t.deepEqual(
    components.sort(),
    [
      "slipway:api:DeploymentApi slipway",
      "slipway:build:BuildProjects slipway",
      "slipway:data:DeploymentTable slipway",
      "slipway:github:GitHubAppKey slipway-github-app-key",
      "slipway:github:GitHubOnboarding slipway",
      "slipway:inspect:RepoInspector slipway",
      "slipway:lifecycle:BuildLifecycle slipway",
      ...FUNCTIONS.map((name) => `slipway:lambda:LambdaFunction ${name}`),
      "slipway:web:Dashboard slipway",
    ].sort(),
  );
});

test("the deployments table streams new and old images, bills on demand, is encrypted and indexed by user", (t) => {
  const table = one("aws:dynamodb/table:Table", "slipway-deployments").inputs;
  t.true(table.streamEnabled);
  t.is(table.streamViewType, "NEW_AND_OLD_IMAGES");
  t.is(table.billingMode, "PAY_PER_REQUEST");
  t.true(table.serverSideEncryption.enabled);
  t.is(table.hashKey, "id");
  t.deepEqual(table.globalSecondaryIndexes, [
    { name: "byUser", hashKey: "userId", rangeKey: "createdAt", projectionType: "ALL" },
    { name: "active", hashKey: "activeStatus", rangeKey: "activeAt", projectionType: "ALL" },
    { name: "queuedByUser", hashKey: "queuedUserId", rangeKey: "createdAt", projectionType: "ALL" },
  ]);
  t.is(one("aws:dynamodb/table:Table", "slipway-build-slots").inputs.hashKey, "userId");
  // From the stack config: deletion protection off (dev), point-in-time recovery on.
  t.false(table.deletionProtectionEnabled);
  t.true(table.pointInTimeRecovery.enabled);
  const idempotency = one("aws:dynamodb/table:Table", "slipway-idempotency").inputs;
  t.deepEqual(idempotency.ttl, { attributeName: "expiresAt", enabled: true });
  t.is(one("aws:dynamodb/table:Table", "slipway-installations").inputs.hashKey, "userId");
  const rateLimits = one("aws:dynamodb/table:Table", "slipway-rate-limits").inputs;
  t.is(rateLimits.hashKey, "key");
  t.deepEqual(rateLimits.ttl, { attributeName: "expiresAt", enabled: true });
});

test("the deploy function gets its per-user limit from the stack config (default 10 a minute)", (t) => {
  const variables = one("aws:lambda/function:Function", "slipway-deploy").inputs.environment.variables;
  t.is(variables[ENV.deploymentsPerUserPerMinute], "10");
  t.regex(variables[ENV.rateLimitsTable], /^slipway-rate-limits/);
});

test("the inspector reads the stream from the oldest record, only pending inserts, with bounded retries and a failure queue", (t) => {
  const mappings = of("aws:lambda/eventSourceMapping:EventSourceMapping");
  const stream = mappings.find((m) => String(m.inputs.eventSourceArn).includes("/stream/"))!;
  t.truthy(stream, "a mapping on the deployments stream");
  const inputs = stream.inputs;
  t.is(inputs.startingPosition, "TRIM_HORIZON");
  t.deepEqual(JSON.parse(inputs.filterCriteria.filters[0].pattern), PENDING_INSERTS_FILTER);
  t.deepEqual(inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
  t.true(inputs.bisectBatchOnFunctionError);
  t.is(inputs.maximumRetryAttempts, 5);
  t.is(inputs.maximumRecordAgeInSeconds, 3600);
  const failures = one("aws:sqs/queue:Queue", "slipway-failures");
  t.is(inputs.destinationConfig.onFailure.destinationArn, `arn:aws:sqs:eu-west-1:123456789012:${failures.name}-1a2b3c`);
  t.regex(inputs.functionName, /slipway-inspector/);

  const consumer = mappings.find((m) => m !== stream)!;
  t.is(consumer.inputs.eventSourceArn, inputs.destinationConfig.onFailure.destinationArn);
  t.regex(consumer.inputs.functionName, /slipway-abandoned/);
  t.deepEqual(consumer.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
  t.is(JSON.parse(failures.inputs.redrivePolicy).maxReceiveCount, 5);
});

test("every route but GitHub's webhook is behind the JWT authorizer configured from the stack", (t) => {
  const authorizer = one("aws:apigatewayv2/authorizer:Authorizer", "slipway").inputs;
  t.is(authorizer.authorizerType, "JWT");
  t.deepEqual(authorizer.jwtConfiguration, { issuer: "https://issuer.example.com/", audiences: ["slipway-web"] });
  const routes = of("aws:apigatewayv2/route:Route");
  t.deepEqual(routes.map((r) => r.inputs.routeKey).sort(), [
    "DELETE /github/installations/{id}",
    "DELETE /projects/{owner}/{name}",
    "GET /deployments",
    "GET /deployments/{id}",
    "GET /deployments/{id}/logs",
    "GET /github/install",
    "GET /github/installations",
    "GET /projects",
    "GET /projects/{owner}/{name}",
    "GET /repositories",
    "POST /deployments",
    "POST /deployments/{id}/cancel",
    "POST /github/installations",
    "POST /github/webhooks",
    "PUT /projects/{owner}/{name}",
  ]);
  for (const route of routes.filter((r) => r.inputs.routeKey !== "POST /github/webhooks")) {
    t.is(route.inputs.authorizationType, "JWT");
    t.is(route.inputs.authorizerId, "slipway-id");
  }
  const api = one("aws:apigatewayv2/api:Api", "slipway").inputs;
  // The configured origins, and the dashboard's own (components/dashboard.ts) added by the stack.
  t.deepEqual(api.corsConfiguration.allowOrigins, ["https://app.example.com", stack.outputs.dashboardUrl]);
  const stage = one("aws:apigatewayv2/stage:Stage", "slipway").inputs;
  t.is(stage.defaultRouteSettings.throttlingRateLimit, 50);
  t.truthy(JSON.parse(stage.accessLogSettings.format).userId);
  const permissions = of("aws:lambda/permission:Permission");
  const gateway = permissions.filter((p) => p.inputs.principal === "apigateway.amazonaws.com");
  t.is(gateway.length, routes.length);
  for (const permission of gateway.filter((p) => /deployments/.test(p.inputs.sourceArn))) {
    t.regex(
      permission.inputs.sourceArn,
      /^arn:aws:execute-api:eu-west-1:123456789012:abc123\/\*\/(GET|POST)\/deployments/,
    );
  }
  // table.onEvent's own permission: DynamoDB may invoke the inspector only for this table's stream; EventBridge may
  // invoke the lifecycle's functions only for their own rules.
  const others = permissions.filter((p) => p.inputs.principal !== "apigateway.amazonaws.com");
  t.deepEqual(others.map((p) => [p.inputs.principal, p.inputs.sourceArn, p.inputs.function]).sort(), [
    ["dynamodb.amazonaws.com", `${table("deployments")}/stream/2026-11-26T00:00:00.000`, "slipway-inspector-1a2b3c"],
    ["events.amazonaws.com", rule("slipway-build-phase"), "slipway-build-events-1a2b3c"],
    ["events.amazonaws.com", rule("slipway-build-state"), "slipway-build-events-1a2b3c"],
    ["events.amazonaws.com", rule("slipway-reconcile"), "slipway-reconciler-1a2b3c"],
  ]);
});

test("no managed policy is attached to any role", (t) => {
  t.deepEqual(of("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
  for (const role of of("aws:iam/role:Role")) t.falsy(role.inputs.managedPolicyArns);
  t.is(of("aws:iam/role:Role").length, FUNCTIONS.length + BUILDERS.length);
});

function policyOf(roleName: string): { Sid: string; Action: string[]; Resource: string[] }[] {
  return JSON.parse(one("aws:iam/rolePolicy:RolePolicy", roleName).inputs.policy).Statement;
}

const table = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/slipway-${name}-1a2b3c`;
const rule = (name: string) => `arn:aws:events:eu-west-1:123456789012:rule/${name}-1a2b3c`;
const logs = (fn: string) => `arn:aws:logs:eu-west-1:123456789012:log-group:/slipway/test/lambda/${fn}-1a2b3c:*`;

test("each API function may touch only its own table items", (t) => {
  t.deepEqual(policyOf("slipway-deploy"), [
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logs("slipway-deploy")],
    },
    {
      Sid: "CreateDeployments",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
      Resource: [table("deployments")],
    },
    {
      Sid: "RecordIdempotencyKeys",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
      Resource: [table("idempotency")],
    },
    {
      Sid: "CountDeploymentsPerUser",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [table("rate-limits")],
    },
  ] as never);
  t.deepEqual(policyOf("slipway-get")[1], {
    Sid: "ReadDeployments",
    Effect: "Allow",
    Action: ["dynamodb:GetItem"],
    Resource: [table("deployments")],
  } as never);
  t.deepEqual(policyOf("slipway-list")[1], {
    Sid: "QueryUserIndex",
    Effect: "Allow",
    Action: ["dynamodb:Query"],
    Resource: [`${table("deployments")}/index/byUser`],
  } as never);
});

test("the inspector's role names the secret, bucket prefix, projects and queue it uses, and ListStreams on *", (t) => {
  const secret = one("aws:secretsmanager/secret:Secret", "slipway-github-app-key");
  const failures = one("aws:sqs/queue:Queue", "slipway-failures");
  const projects = BUILDERS.map(
    (builder) => `arn:aws:codebuild:eu-west-1:123456789012:project/slipway-${builder}-1a2b3c`,
  );
  t.deepEqual(policyOf("slipway-inspector"), [
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logs("slipway-inspector")],
    },
    {
      Sid: "ReadDeploymentsStream",
      Effect: "Allow",
      Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
      Resource: [`${table("deployments")}/stream/2026-11-26T00:00:00.000`],
    },
    // ListStreams has no resource-level permissions: only "*" grants it.
    { Sid: "ListDeploymentsStreams", Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
    {
      Sid: "MoveDeployments",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      Resource: [table("deployments")],
    },
    { Sid: "FindInstallations", Effect: "Allow", Action: ["dynamodb:Query"], Resource: [table("installations")] },
    {
      Sid: "ReadGitHubAppKey",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue"],
      Resource: [`arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secret.name}-1a2b3c-AbCdEf`],
    },
    {
      Sid: "StageSources",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: ["arn:aws:s3:::slipway-sources-1a2b3c/sources/*"],
    },
    {
      Sid: "StartBuilds",
      Effect: "Allow",
      Action: ["codebuild:StartBuild", "codebuild:ListBuildsForProject", "codebuild:BatchGetBuilds"],
      Resource: projects,
    },
    {
      Sid: "ReportAbandonedBatches",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: [`arn:aws:sqs:eu-west-1:123456789012:${failures.name}-1a2b3c`],
    },
    // A build slot is taken before each build (the per-user limit of builds running at once).
    {
      Sid: "TakeBuildSlots",
      Effect: "Allow",
      Action: ["dynamodb:UpdateItem"],
      Resource: [table("build-slots")],
    },
    // After queuing a deployment, a slot freed meanwhile starts the user's oldest queued one.
    {
      Sid: "FindQueuedDeployments",
      Effect: "Allow",
      Action: ["dynamodb:Query"],
      Resource: [`${table("deployments")}/index/queuedByUser`],
    },
  ] as never);
});

test("the onboarding functions may do exactly what they call, on exactly what they touch", (t) => {
  const allow = (Sid: string, Action: string[], Resource: string[]) => ({ Sid, Effect: "Allow", Action, Resource });
  const clientSecret = one("aws:secretsmanager/secret:Secret", "slipway-client-secret");
  const webhookSecret = TEST_CONFIG["slipway:githubWebhookSecretArn"]!;
  const appKey = one("aws:secretsmanager/secret:Secret", "slipway-github-app-key");
  const expected: Record<string, unknown[]> = {
    "slipway-installations": [
      allow("IssueStates", ["dynamodb:PutItem"], [table("onboarding")]),
      allow("ListAndUnlinkInstallations", ["dynamodb:Query", "dynamodb:BatchWriteItem"], [table("installations")]),
    ],
    "slipway-link": [
      allow("ConsumeStates", ["dynamodb:DeleteItem"], [table("onboarding")]),
      allow("LinkInstallations", ["dynamodb:PutItem"], [table("installations")]),
      allow(
        "ReadOAuthClientSecret",
        ["secretsmanager:GetSecretValue"],
        [`arn:aws:secretsmanager:eu-west-1:123456789012:secret:${clientSecret.name}-1a2b3c-AbCdEf`],
      ),
    ],
    "slipway-projects": [
      allow("ManageProjects", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [table("projects")]),
      allow("ListUserProjects", ["dynamodb:Query"], [`${table("projects")}/index/byUser`]),
      allow("CheckInstallations", ["dynamodb:Query"], [table("installations")]),
    ],
    // Lists what the caller's links can read: their links, and the App's key to mint metadata-only tokens.
    "slipway-repositories": [
      allow("ReadLinkedInstallations", ["dynamodb:Query"], [table("installations")]),
      allow(
        "ReadGitHubAppKey",
        ["secretsmanager:GetSecretValue"],
        [`arn:aws:secretsmanager:eu-west-1:123456789012:secret:${appKey.name}-1a2b3c-AbCdEf`],
      ),
    ],
    "slipway-webhooks": [
      allow("ReadWebhookSecret", ["secretsmanager:GetSecretValue"], [webhookSecret]),
      allow("ClaimDeliveries", ["dynamodb:PutItem", "dynamodb:DeleteItem"], [table("onboarding")]),
      allow("FindInstallationLinks", ["dynamodb:Query"], [`${table("installations")}/index/byInstallation`]),
      allow("UpdateInstallationLinks", ["dynamodb:UpdateItem"], [table("installations")]),
      allow("FindPushProjects", ["dynamodb:Query", "dynamodb:UpdateItem"], [table("projects")]),
      allow("CreatePushDeployments", ["dynamodb:PutItem", "dynamodb:UpdateItem"], [table("deployments")]),
    ],
  };
  for (const [fn, statements] of Object.entries(expected)) {
    t.deepEqual(
      policyOf(fn),
      [
        {
          Sid: "WriteOwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [logs(fn)],
        },
        ...statements,
      ] as never,
      fn,
    );
  }
});

test("onboarding routes: JWT on every route but the webhook, which GitHub signs", (t) => {
  const routes = of("aws:apigatewayv2/route:Route").map((r) => [r.inputs.routeKey, r.inputs.authorizationType]);
  for (const key of [
    "GET /github/install",
    "POST /github/installations",
    "GET /github/installations",
    "DELETE /github/installations/{id}",
    "PUT /projects/{owner}/{name}",
    "GET /projects",
    "GET /repositories",
  ]) {
    t.deepEqual(
      routes.find(([k]) => k === key),
      [key, "JWT"],
    );
  }
  t.deepEqual(
    routes.find(([k]) => k === "POST /github/webhooks"),
    ["POST /github/webhooks", "NONE"],
  );
  const webhooks = functionResource("slipway-webhooks").inputs.environment.variables;
  t.is(webhooks[ENV.githubWebhookSecretArn], TEST_CONFIG["slipway:githubWebhookSecretArn"]);
  const link = functionResource("slipway-link").inputs.environment.variables;
  t.false(
    JSON.stringify(link).includes(TEST_CONFIG["slipway:githubAppClientSecret"]!),
    "the client secret stays in Secrets Manager",
  );
  t.is(stack.outputs.webhookUrl, "https://abc123.execute-api.eu-west-1.amazonaws.com/github/webhooks");
});

test("the failure queue's consumer may poll its queue, read the stream's failed records and fail deployments", (t) => {
  const failures = one("aws:sqs/queue:Queue", "slipway-failures");
  t.deepEqual(policyOf("slipway-abandoned").slice(1), [
    {
      Sid: "ConsumeFailureQueue",
      Effect: "Allow",
      Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      Resource: [`arn:aws:sqs:eu-west-1:123456789012:${failures.name}-1a2b3c`],
    },
    {
      Sid: "ReadFailedRecords",
      Effect: "Allow",
      Action: ["dynamodb:GetShardIterator", "dynamodb:GetRecords"],
      Resource: [`${table("deployments")}/stream/2026-11-26T00:00:00.000`],
    },
    {
      Sid: "FailDeployments",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      Resource: [table("deployments")],
    },
  ] as never);
});

test("one CodeBuild project per builder, each with its own role, log group, buildspec and exact policy", (t) => {
  const projects = of("aws:codebuild/project:Project");
  const imageRepository = `arn:aws:ecr:eu-west-1:123456789012:repository/${
    one("aws:ecr/repository:Repository", "slipway-images").name
  }-1a2b3c`;
  t.deepEqual(projects.map((p) => p.name).sort(), BUILDERS.map((b) => `slipway-${b}`).sort());
  for (const project of projects) {
    const builder = project.name.replace("slipway-", "");
    t.is(project.inputs.serviceRole, `arn:aws:iam::123456789012:role/slipway-${builder}-1a2b3c`);
    t.true(project.inputs.environment.privilegedMode);
    t.is(project.inputs.source.type, "S3");
    t.is(JSON.parse(project.inputs.source.buildspec).version, 0.2);
    t.is(project.inputs.logsConfig.cloudwatchLogs.groupName, `/slipway/test/codebuild/slipway-${builder}-1a2b3c`);
    t.deepEqual(policyOf(`slipway-${builder}`), [
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`arn:aws:logs:eu-west-1:123456789012:log-group:/slipway/test/codebuild/slipway-${builder}-1a2b3c:*`],
      },
      // AWS's minimum CodeBuild service role checks the source bucket's ACL and location.
      {
        Sid: "CheckSourceBucket",
        Effect: "Allow",
        Action: ["s3:GetBucketAcl", "s3:GetBucketLocation"],
        Resource: ["arn:aws:s3:::slipway-sources-1a2b3c"],
      },
      {
        Sid: "ReadSources",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: ["arn:aws:s3:::slipway-sources-1a2b3c/sources/*"],
      },
      { Sid: "LogInToEcr", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Sid: "LogInToEcrPublic",
        Effect: "Allow",
        Action: ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
        Resource: ["*"],
      },
      {
        Sid: "PushImages",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
        ],
        Resource: [imageRepository],
      },
    ] as never);
  }
  const logGroups = of("aws:cloudwatch/logGroup:LogGroup");
  for (const group of logGroups) t.is(group.inputs.retentionInDays, 14);
});

test("the image repository's tags are immutable: a pushed deployment's image can never be replaced", (t) => {
  const repository = one("aws:ecr/repository:Repository", "slipway-images").inputs;
  t.is(repository.imageTagMutability, "IMMUTABLE");
  t.true(repository.imageScanningConfiguration.scanOnPush);
});

test("the source bucket is private, encrypted and expires staged sources", (t) => {
  const block = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "slipway-sources").inputs;
  t.true(block.blockPublicAcls && block.blockPublicPolicy && block.ignorePublicAcls && block.restrictPublicBuckets);
  const lifecycle = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "slipway-sources").inputs;
  t.is(lifecycle.rules[0].expiration.days, 7);
  t.truthy(
    one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "slipway-sources"),
  );
});

const functionResource = (name: string): RecordedResource => one("aws:lambda/function:Function", name);

test("functions get names and ARNs in their environment, never the private key", (t) => {
  const privateKey = TEST_CONFIG["slipway:githubAppPrivateKey"]!;
  for (const name of FUNCTIONS) {
    const fn = functionResource(name);
    t.is(fn.inputs.runtime, "nodejs22.x");
    t.false(JSON.stringify(fn.inputs.environment ?? {}).includes("PRIVATE KEY"));
  }
  const inspectorEnvironment = functionResource("slipway-inspector").inputs.environment.variables;
  t.regex(inspectorEnvironment[ENV.githubAppPrivateKeyArn], /^arn:aws:secretsmanager:/);
  t.is(inspectorEnvironment[ENV.githubAppId], "424242");
  t.deepEqual(Object.keys(JSON.parse(inspectorEnvironment[ENV.buildProjects])).sort(), [...BUILDERS].sort());
  t.false(JSON.stringify(stack.outputs).includes(privateKey.split("\n")[1]!));
  const version = one("aws:secretsmanager/secretVersion:SecretVersion", "slipway-github-app-key");
  t.truthy(version.inputs.secretString, "the key goes to Secrets Manager");
});

test("each archive is one CommonJS file holding every package it loads, and no key", async (t) => {
  // Built as `pulumi up` builds them (Pulumi's ts-node, each callback serialized and bundled) with a key configured.
  const archives = await ensureFunctionArchives();
  const keyLine = ARCHIVE_BUILD_KEY.split("\n")[1]!;
  t.deepEqual(Object.keys(archives.manifest.functions).sort(), [...FUNCTIONS].sort());
  for (const name of FUNCTIONS) {
    t.deepEqual(fs.readdirSync(archives.codeDir(name)), ["__index.js"], `${name}: nothing beside __index.js`);
    const index = fs.readFileSync(path.join(archives.codeDir(name), "__index.js"), "utf8");
    t.false(index.includes(keyLine), `${name}'s code captures no key`);
    const required = [...index.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    const notBuiltIn = required.filter((id) => !isBuiltin(id) && !OPTIONAL_REQUIRES.includes(id));
    t.deepEqual(notBuiltIn, [], `${name} requires only Node.js built-ins at run time`);
  }
});

test("no physical name is fixed: two stacks named alike in one account, or a replacement, never collide", (t) => {
  const named = stack.resources.filter(
    (r) => PHYSICALLY_NAMED.includes(r.type) && (r.inputs.name !== undefined || r.inputs.functionName !== undefined),
  );
  t.deepEqual(
    named.map((r) => `${r.type} ${r.name}`),
    [],
  );
  for (const group of of("aws:cloudwatch/logGroup:LogGroup")) t.regex(group.inputs.namePrefix, /^\/slipway\/test\//);
});

test("stack outputs: the API URL and table names, and nothing secret", (t) => {
  t.is(stack.outputs.apiUrl, "https://abc123.execute-api.eu-west-1.amazonaws.com/");
  t.is(stack.outputs.deploymentsTableName, "slipway-deployments-1a2b3c");
  t.is(stack.outputs.installationsTableName, "slipway-installations-1a2b3c");
  t.regex(String(stack.outputs.githubAppPrivateKeySecretArn), /^arn:aws:secretsmanager:/);
});

const allow = (Sid: string, Action: string[], Resource: string[]) => ({ Sid, Effect: "Allow", Action, Resource });
const queue = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}-1a2b3c`;
const index = (name: string) => `${table("deployments")}/index/${name}`;
const projects = BUILDERS.map((b) => `arn:aws:codebuild:eu-west-1:123456789012:project/slipway-${b}-1a2b3c`);
const IMAGES = "arn:aws:ecr:eu-west-1:123456789012:repository/slipway-images-1a2b3c";
const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${name}-1a2b3c`;

test("the build events function and the reconciler may do exactly what settling builds takes", (t) => {
  const settle = [
    allow("MoveDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [table("deployments")]),
    allow("TakeBuildSlots", ["dynamodb:UpdateItem"], [table("build-slots")]),
    allow("FindQueuedDeployments", ["dynamodb:Query"], [index("queuedByUser")]),
    allow("StartQueuedBuilds", ["codebuild:StartBuild"], projects),
    allow("ReadImageDigests", ["ecr:DescribeImages"], [IMAGES]),
  ];
  t.deepEqual(policyOf("slipway-build-events"), [
    allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [logs("slipway-build-events")]),
    ...settle,
    allow("StopOrphanBuilds", ["codebuild:StopBuild"], projects),
    allow("ReportFailedEvents", ["sqs:SendMessage"], [queue("slipway-build-events-dlq")]),
  ] as never);
  t.deepEqual(policyOf("slipway-reconciler"), [
    allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [logs("slipway-reconciler")]),
    ...settle,
    allow("FindActiveDeployments", ["dynamodb:Query"], [index("active")]),
    allow("ReadBuildSlots", ["dynamodb:Scan"], [table("build-slots")]),
    allow("ReadBuilds", ["codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"], projects),
  ] as never);
});

test("cancel may move deployments and stop builds; logs may read deployments and only the build log groups", (t) => {
  t.deepEqual(policyOf("slipway-cancel"), [
    allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [logs("slipway-cancel")]),
    allow("CancelDeployments", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [table("deployments")]),
    allow("StopBuilds", ["codebuild:StopBuild"], projects),
  ] as never);
  const groups = BUILDERS.map((b) => `/slipway/test/codebuild/slipway-${b}-1a2b3c`);
  t.deepEqual(policyOf("slipway-logs"), [
    allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [logs("slipway-logs")]),
    allow("ReadDeployments", ["dynamodb:GetItem"], [table("deployments")]),
    allow(
      "ReadBuildLogs",
      ["logs:GetLogEvents"],
      groups.map((group) => `arn:aws:logs:eu-west-1:123456789012:log-group:${group}:log-stream:*`),
    ),
  ] as never);
  const logsEnvironment = functionResource("slipway-logs").inputs.environment.variables;
  t.deepEqual(
    JSON.parse(logsEnvironment[ENV.buildLogGroups]),
    Object.fromEntries(BUILDERS.map((b, i) => [`slipway-${b}-1a2b3c`, groups[i]])),
  );
});

test("the inspector's role may also take a build slot before each build", (t) => {
  const statements = policyOf("slipway-inspector");
  t.deepEqual(statements.slice(-2), [
    allow("TakeBuildSlots", ["dynamodb:UpdateItem"], [table("build-slots")]),
    allow("FindQueuedDeployments", ["dynamodb:Query"], [`${table("deployments")}/index/queuedByUser`]),
  ] as never);
  const environment = functionResource("slipway-inspector").inputs.environment.variables;
  t.is(environment[ENV.maxBuildsPerUser], "2", "the default limit");
  t.is(environment[ENV.buildSlotsTable], "slipway-build-slots-1a2b3c");
});

test("two EventBridge rules take CodeBuild's state and phase changes of this stack's projects only, to the events function with retries and a DLQ", (t) => {
  const names = BUILDERS.map((b) => `slipway-${b}-1a2b3c`).sort();
  for (const [kind, detailType] of [
    ["state", "CodeBuild Build State Change"],
    ["phase", "CodeBuild Build Phase Change"],
  ] as const) {
    const rule = one("aws:cloudwatch/eventRule:EventRule", `slipway-build-${kind}`).inputs;
    t.deepEqual(JSON.parse(rule.eventPattern), {
      source: ["aws.codebuild"],
      "detail-type": [detailType],
      detail: { "project-name": names },
    });
    const target = one("aws:cloudwatch/eventTarget:EventTarget", `slipway-build-${kind}`).inputs;
    t.is(target.rule, `slipway-build-${kind}-1a2b3c`);
    t.is(target.arn, fnArn("slipway-build-events"));
    t.deepEqual(target.retryPolicy, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 24 });
    t.deepEqual(target.deadLetterConfig, { arn: queue("slipway-build-events-dlq") });
  }
  const invokeConfig = one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "slipway-build-events");
  t.like(invokeConfig.inputs, { functionName: "slipway-build-events-1a2b3c", maximumRetryAttempts: 2 });
  t.is(invokeConfig.inputs.destinationConfig.onFailure.destination, queue("slipway-build-events-dlq"));
  const dlqPolicy = JSON.parse(one("aws:sqs/queuePolicy:QueuePolicy", "slipway-build-events-dlq").inputs.policy);
  t.deepEqual(dlqPolicy.Statement, [
    {
      Sid: "EventBridgeDeadLetters",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queue("slipway-build-events-dlq"),
      Condition: { ArnEquals: { "aws:SourceArn": [rule("slipway-build-state"), rule("slipway-build-phase")] } },
    },
  ]);
});

test("the reconciler runs on a schedule from the stack config", (t) => {
  const schedule = one("aws:cloudwatch/eventRule:EventRule", "slipway-reconcile").inputs;
  t.is(schedule.scheduleExpression, "rate(5 minutes)");
  t.is(schedule.eventPattern, undefined);
  const target = one("aws:cloudwatch/eventTarget:EventTarget", "slipway-reconcile").inputs;
  t.is(target.arn, fnArn("slipway-reconciler"));
  t.is(functionResource("slipway-reconciler").inputs.environment.variables[ENV.staleBuildMinutes], "10");
});
