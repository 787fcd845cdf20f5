import test from "ava";
import { buildEventPattern, reconcileSchedule } from "../components/buildLifecycle";
import { invokeArnSuffix, corsConfiguration, ROUTES } from "../components/deploymentApi";
import { archiveOptions, TYPE_ONLY_PACKAGES } from "../components/lambdaFunction";
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

test("the archive keeps only the packages a function names, and refuses one not in dependencies", (t) => {
  const dependencies = ["@pulumi/pulumi", "@aws-sdk/client-s3", "@octokit/request", "@octokit/auth-app"];
  t.deepEqual(archiveOptions(dependencies, ["@octokit/request"]).extraExcludePackages, [
    "@pulumi/pulumi",
    "@aws-sdk/client-s3",
    "@octokit/auth-app",
    ...TYPE_ONLY_PACKAGES,
  ]);
  t.deepEqual(archiveOptions(dependencies, []).extraExcludePackages, [...dependencies, ...TYPE_ONLY_PACKAGES]);
  t.throws(() => archiveOptions(dependencies, ["left-pad"]), { message: /left-pad.*dependencies/ });
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
  t.deepEqual(byAction.get("dynamodb:Query"), ["arn:table/d/index/queuedByUser"]);
  t.deepEqual(byAction.get("dynamodb:GetRecords"), ["arn:table/d/stream/1"]);
  t.deepEqual(byAction.get("logs:PutLogEvents"), ["arn:logs:group:*"]);
  t.false([...byAction.keys()].some((action) => action.endsWith(":*") || action === "*"));
  t.false(policy.Statement.some((s) => s.Resource.includes("*")));
});

test("a build project reads only staged sources and pushes only to the image repository", (t) => {
  const policy = buildProjectPolicy({
    logGroup: "arn:lg",
    sourceBucket: "arn:aws:s3:::src",
    imageRepository: "arn:ecr:repo",
  });
  const wildcard = policy.Statement.filter((s) => s.Resource.includes("*"));
  t.deepEqual(
    wildcard.map((s) => s.Action),
    [["ecr:GetAuthorizationToken"]],
  );
  t.deepEqual(policy.Statement.find((s) => s.Sid === "ReadSources")?.Resource, ["arn:aws:s3:::src/sources/*"]);
  t.true(policy.Statement.find((s) => s.Sid === "PushImages")!.Action.includes("ecr:PutImage"));
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

test("stack config: defaults, and errors that name the key and the way out", (t) => {
  const config = loadStackConfig(fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: "arn:secret" }));
  t.is(config.githubApiUrl, "https://api.github.com");
  t.true(config.deletionProtection);
  t.true(config.pointInTimeRecovery);
  t.is(config.logRetentionDays, 30);
  t.deepEqual(config.corsAllowOrigins, []);

  t.throws(() => loadStackConfig(fakeConfig(validConfig)), {
    message: /exactly one of \[slipway:githubAppPrivateKey\]/,
  });
  t.throws(
    () =>
      loadStackConfig(
        fakeConfig({ ...validConfig, githubAppPrivateKeySecretArn: "arn" }, { githubAppPrivateKey: "pem" }),
      ),
    { message: /exactly one of/ },
  );
  const withArn = { ...validConfig, githubAppPrivateKeySecretArn: "arn" };
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
      message: `[slipway:${key}] must be a whole number ≥ 1.`,
    });
  }
});
