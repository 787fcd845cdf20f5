import test from "ava";
import {
  abandonedDeploymentsFunctionPermissions,
  buildProjectPolicy,
  deployFunctionPermissions,
  functionPolicy,
  inspectorFunctionPermissions,
  policyDocument,
} from "../components/policies";
import { auditRolePolicies, buildResourceGroup, describeAudit, type RecordedCall } from "../local/platform/policyAudit";

/**
 * Least privilege, checked per role with the IAM simulator: first `auditRolePolicies` on hand-made calls (what it
 * reports, and the review's findings as the simulator sees them). The whole stack against every call its functions
 * and build projects make in an end-to-end scenario is test/slow/policy-audit-scenario.test.ts (`npm run test:slow`).
 */

const ACCOUNT = "000000000000";
const TABLE = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/deployments`;
const STREAM = `${TABLE}/stream/2026-11-26T00:00:00.000`;
const LOG_GROUP = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/inspector`;
const SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:github-app-key-AbC123`;
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BUCKET = "arn:aws:s3:::slipway-sources";
const REPOSITORY = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/slipway-images`;
const CODEBUILD_LOGS = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/codebuild/slipway-node`;

const inspectorArns = {
  deploymentsTable: TABLE,
  deploymentsStream: STREAM,
  installationsTable: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/installations`,
  privateKeySecret: SECRET,
  sourceBucket: BUCKET,
  buildProjects: [`arn:aws:codebuild:us-east-1:${ACCOUNT}:project/slipway-node`],
  failureQueue: `arn:aws:sqs:us-east-1:${ACCOUNT}:failures`,
  buildSlotsTable: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/build-slots`,
  queuedIndex: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/deployments/index/queuedByUser`,
};

const call = (action: string, resource: string, context?: Record<string, string>): RecordedCall => ({
  action,
  resource,
  ...(context ? { context } : {}),
});

test("a role whose calls use every statement, action and resource is ok", async (t) => {
  const audits = await auditRolePolicies(
    {
      deploy: [
        {
          name: "deploy",
          document: functionPolicy(
            LOG_GROUP,
            deployFunctionPermissions({
              deploymentsTable: TABLE,
              idempotencyTable: `${TABLE}-keys`,
              rateLimitsTable: `${TABLE}-limits`,
            }),
          ),
        },
      ],
    },
    {
      deploy: [
        call("logs:CreateLogStream", `${LOG_GROUP}:log-stream:2026/11/30/[$LATEST]abc`),
        call("logs:PutLogEvents", `${LOG_GROUP}:log-stream:2026/11/30/[$LATEST]abc`),
        call("dynamodb:PutItem", TABLE),
        call("dynamodb:GetItem", TABLE),
        call("dynamodb:PutItem", `${TABLE}-keys`),
        call("dynamodb:GetItem", `${TABLE}-keys`),
        call("dynamodb:UpdateItem", `${TABLE}-limits`),
      ],
    },
  );
  t.deepEqual(describeAudit(audits), []);
  t.true(audits.deploy!.ok);
});

test("the audit names denied calls, and unused statements, actions and resources", async (t) => {
  const document = policyDocument(
    { Sid: "Read", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: [TABLE, `${TABLE}-old`] },
    { Sid: "Queue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [inspectorArns.failureQueue] },
  );
  const audits = await auditRolePolicies(
    { reader: [{ name: "reader-policy", document: JSON.stringify(document) }], stranger: [] },
    {
      reader: [call("dynamodb:GetItem", TABLE), call("dynamodb:GetItem", TABLE), call("dynamodb:PutItem", TABLE)],
      stranger: [call("s3:GetObject", `${BUCKET}/sources/x.zip`)],
    },
  );
  t.deepEqual(audits.reader, {
    denied: [{ action: "dynamodb:PutItem", resource: TABLE, reason: "implicit-deny" }],
    unusedStatements: [{ policy: "reader-policy", index: 1, sid: "Queue" }],
    unusedActions: [{ policy: "reader-policy", index: 0, sid: "Read", action: "dynamodb:Query" }],
    unusedResources: [{ policy: "reader-policy", index: 0, sid: "Read", resource: `${TABLE}-old` }],
    ok: false,
  });
  t.deepEqual(audits.stranger!.denied, [
    { action: "s3:GetObject", resource: `${BUCKET}/sources/x.zip`, reason: "implicit-deny" },
  ]);
  t.deepEqual(describeAudit({ stranger: audits.stranger! }), [
    `stranger: denied s3:GetObject on ${BUCKET}/sources/x.zip (implicit-deny)`,
  ]);
});

test("regression: ListStreams granted on the table's stream family allows no ListStreams call at all", async (t) => {
  const listStreams = call("dynamodb:ListStreams", "*");
  const old = policyDocument({
    Sid: "ListDeploymentsStreams",
    Effect: "Allow",
    Action: ["dynamodb:ListStreams"],
    Resource: [`${TABLE}/stream/*`],
  });
  const before = await auditRolePolicies({ inspector: [{ name: "p", document: old }] }, { inspector: [listStreams] });
  t.deepEqual(before.inspector!.denied, [{ ...listStreams, reason: "implicit-deny" }]);
  // A request naming the stream family is not even a valid request: ListStreams takes only "*".
  const named = await auditRolePolicies(
    { inspector: [{ name: "p", document: old }] },
    { inspector: [call("dynamodb:ListStreams", `${TABLE}/stream/2026`)] },
  );
  t.regex(named.inspector!.denied[0]!.reason, /only on "\*"/);

  const now = policyDocument(
    ...inspectorFunctionPermissions(inspectorArns).filter((s) => s.Sid === "ListDeploymentsStreams"),
  );
  const after = await auditRolePolicies({ inspector: [{ name: "p", document: now }] }, { inspector: [listStreams] });
  t.true(after.inspector!.ok, describeAudit(after).join("\n"));
});

test("regression: kms:Decrypt on the secret's key holds through Secrets Manager only", async (t) => {
  const statements = inspectorFunctionPermissions({ ...inspectorArns, privateKeyKmsKey: KEY }).filter(
    (s) => s.Sid === "DecryptGitHubAppKey",
  );
  t.is(statements.length, 1);
  const policies = { inspector: [{ name: "p", document: policyDocument(...statements) }] };
  const viaSecretsManager = call("kms:Decrypt", KEY, { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" });
  t.true((await auditRolePolicies(policies, { inspector: [viaSecretsManager] })).inspector!.ok);
  const direct = await auditRolePolicies(policies, { inspector: [call("kms:Decrypt", KEY)] });
  t.deepEqual(
    direct.inspector!.denied.map((denied) => denied.reason),
    ["implicit-deny"],
  );
  const otherKey = await auditRolePolicies(policies, {
    inspector: [{ ...viaSecretsManager, resource: KEY.replace("1234abcd", "99999999") }],
  });
  t.deepEqual(
    otherKey.inspector!.denied.map((denied) => denied.reason),
    ["implicit-deny"],
  );
});

/** The calls CodeBuild and the buildspec make with a build project's role for one build. */
const buildCalls = [
  call("logs:CreateLogStream", `${CODEBUILD_LOGS}:log-stream:0b1c`),
  call("logs:PutLogEvents", `${CODEBUILD_LOGS}:log-stream:0b1c`),
  call("s3:GetBucketAcl", BUCKET),
  call("s3:GetBucketLocation", BUCKET),
  call("s3:GetObject", `${BUCKET}/sources/d-1.zip`),
  call("ecr-public:GetAuthorizationToken", "*"),
  call("sts:GetServiceBearerToken", "*"),
  call("ecr:GetAuthorizationToken", "*"),
  ...[
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
  ].map((action) => call(action, REPOSITORY)),
];

test("regression: a build project's role allows every call of a build, and nothing more", async (t) => {
  const document = buildProjectPolicy({ logGroup: CODEBUILD_LOGS, sourceBucket: BUCKET, imageRepository: REPOSITORY });
  const audits = await auditRolePolicies({ node: [{ name: "node", document }] }, { node: buildCalls });
  t.deepEqual(describeAudit(audits), []);
  // Without the bucket checks and the ECR Public login (the old policy), CodeBuild and the buildspec are refused.
  const old = policyDocument(
    ...document.Statement.filter((s) => !["CheckSourceBucket", "LogInToEcrPublic"].includes(s.Sid)),
  );
  const before = await auditRolePolicies({ node: [{ name: "node", document: old }] }, { node: buildCalls });
  t.deepEqual(
    before.node!.denied.map((denied) => denied.action),
    ["s3:GetBucketAcl", "s3:GetBucketLocation", "ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
  );
});

test("regression: ECR Public's token actions are refused on anything but *", async (t) => {
  const scoped = policyDocument({
    Sid: "Scoped",
    Effect: "Allow",
    Action: ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
    Resource: [REPOSITORY],
  });
  const audits = await auditRolePolicies(
    { node: [{ name: "node", document: scoped }] },
    { node: [call("ecr-public:GetAuthorizationToken", "*"), call("sts:GetServiceBearerToken", "*")] },
  );
  t.is(audits.node!.denied.length, 2);
});

test("the consumer's queue permissions are exactly what its event source mapping uses", async (t) => {
  const queue = inspectorArns.failureQueue;
  const document = policyDocument(
    ...abandonedDeploymentsFunctionPermissions({
      deploymentsTable: TABLE,
      deploymentsStream: STREAM,
      failureQueue: queue,
    }),
  );
  const audits = await auditRolePolicies(
    { abandoned: [{ name: "p", document }] },
    {
      abandoned: [
        ...["sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage"].map((action) => call(action, queue)),
        call("dynamodb:GetShardIterator", STREAM),
        call("dynamodb:GetRecords", STREAM),
        call("dynamodb:GetItem", TABLE),
        call("dynamodb:UpdateItem", TABLE),
      ],
    },
  );
  t.deepEqual(describeAudit(audits), []);
});

test("resources a function picks among at run time count as one group: one exercised is enough, none is a finding", async (t) => {
  const projects = ["node", "maven", "go"].map((b) => `arn:aws:codebuild:us-east-1:${ACCOUNT}:project/slipway-${b}`);
  const policies = {
    cancel: [
      {
        name: "cancel",
        document: {
          Version: "2012-10-17",
          Statement: [{ Sid: "StopBuilds", Effect: "Allow", Action: ["codebuild:StopBuild"], Resource: projects }],
        },
      },
    ],
  };
  const used = { cancel: [call("codebuild:StopBuild", projects[0]!)] };
  const strict = describeAudit(await auditRolePolicies(policies as never, used));
  t.is(strict.length, 2, "without groups, every project must be touched");
  t.deepEqual(
    describeAudit(await auditRolePolicies(policies as never, used, { interchangeable: buildResourceGroup })),
    [],
  );
  const none = describeAudit(
    await auditRolePolicies(policies as never, { cancel: [] }, { interchangeable: buildResourceGroup }),
  );
  t.deepEqual(none, ["cancel: statement cancel/StopBuilds allowed no recorded call"]);
  t.is(buildResourceGroup(`arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/deployments`), undefined);
  t.is(
    buildResourceGroup(
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/slipway/dev/codebuild/slipway-node-x:log-stream:*`,
    ),
    "build log streams",
  );
});
