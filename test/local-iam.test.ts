import { request as httpRequest, Agent, type IncomingHttpHeaders } from "node:http";
import { randomUUID } from "node:crypto";
import { crc32 } from "node:zlib";
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from "@aws-sdk/client-dynamodb-streams";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import { functionPolicy, inspectorFunctionPermissions } from "../components/policies";
import { startAws } from "../local/emulators/aws";
import { dynamodbAccess, dynamoDbLocalTableArn, type AccessCheck } from "../local/platform/iam/dynamodbAccess";
import { startDynamoDbProxy, type DynamoDbProxy } from "../local/platform/iam/dynamodbProxy";
import { emulatorAuthorize } from "../local/platform/iam/emulatorAuthorize";
import { MalformedPolicyDocumentError, parsePolicyDocument } from "../local/platform/iam/policyDocument";
import {
  evaluate,
  type AccessRequest,
  type Decision,
  type PolicyDocument,
  type PolicyStatement,
} from "../local/platform/iam/policySimulator";
import { createPrincipalRegistry, type PrincipalRegistry } from "../local/platform/iam/principals";
import { createShardIteratorMemory } from "../local/platform/iam/shardIterators";
import type { Logger, LogFields } from "../runtime/log";
import { sharedDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";

const TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/deployments";
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });
const allow = (Action: string | string[], Resource: string | string[], extra: Partial<PolicyStatement> = {}) =>
  ({ Effect: "Allow", Action, Resource, ...extra }) as PolicyStatement;
const deny = (Action: string | string[], Resource: string | string[], extra: Partial<PolicyStatement> = {}) =>
  ({ Effect: "Deny", Action, Resource, ...extra }) as PolicyStatement;

/** A logger that keeps what it is told, so tests can read denials and stay quiet. */
function recordingLogger(): Logger & { entries: { level: string; message: string; fields: LogFields }[] } {
  const entries: { level: string; message: string; fields: LogFields }[] = [];
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      void entries.push({ level, message, fields });
  return { entries, info: at("info"), warn: at("warn"), error: at("error") };
}

async function failureOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

// ---- Policy evaluation (the IAM simulator): tables ------------------------------------------------------------------

const ACCOUNT = "123456789012";

/** The simulator's decision for policies attached to one role of ACCOUNT, named p0, p1… */
async function decide(
  policies: readonly PolicyDocument[],
  request: Pick<AccessRequest, "action" | "resource" | "context">,
): Promise<Decision> {
  const evaluation = await evaluate(
    policies.map((document, index) => ({ name: `p${index}`, document })),
    {
      ...request,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`,
      accountId: ACCOUNT,
    },
  );
  return evaluation.decision;
}

interface EvaluationCase {
  readonly name: string;
  readonly policies: PolicyDocument[];
  readonly action: string;
  readonly resource?: string;
  readonly context?: Record<string, string>;
  readonly expected: Decision;
}

const evaluationCases: EvaluationCase[] = [
  { name: "no policy", policies: [], action: "dynamodb:GetItem", expected: "implicit-deny" },
  {
    name: "exact allow",
    policies: [doc(allow("dynamodb:GetItem", TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "another action",
    policies: [doc(allow("dynamodb:GetItem", TABLE))],
    action: "dynamodb:PutItem",
    expected: "implicit-deny",
  },
  {
    name: "action case-insensitive",
    policies: [doc(allow("DynamoDB:getitem", TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "request case-insensitive",
    policies: [doc(allow("dynamodb:GetItem", TABLE))],
    action: "DYNAMODB:GETITEM",
    expected: "allow",
  },
  {
    name: "action prefix wildcard",
    policies: [doc(allow("dynamodb:Get*", TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "action ? wildcard",
    policies: [doc(allow("dynamodb:?etItem", TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "service wildcard",
    policies: [doc(allow("dynamodb:*", TABLE))],
    action: "sqs:SendMessage",
    expected: "implicit-deny",
  },
  {
    name: "everything",
    policies: [doc(allow("*", "*"))],
    action: "sqs:SendMessage",
    resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:q`,
    expected: "allow",
  },
  {
    name: "one of a list",
    policies: [doc(allow(["dynamodb:PutItem", "dynamodb:GetItem"], TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "resource case-sensitive",
    policies: [doc(allow("dynamodb:GetItem", TABLE.toUpperCase()))],
    action: "dynamodb:GetItem",
    expected: "implicit-deny",
  },
  {
    name: "resource wildcard",
    policies: [doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/deploy*"))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "table ARN does not cover its index",
    policies: [doc(allow("dynamodb:Query", TABLE))],
    action: "dynamodb:Query",
    resource: `${TABLE}/index/byUser`,
    expected: "implicit-deny",
  },
  {
    name: "index wildcard covers the index",
    policies: [doc(allow("dynamodb:Query", `${TABLE}/index/*`))],
    action: "dynamodb:Query",
    resource: `${TABLE}/index/byUser`,
    expected: "allow",
  },
  {
    name: "unscoped action needs *",
    policies: [doc(allow("dynamodb:ListTables", TABLE))],
    action: "dynamodb:ListTables",
    resource: "*",
    expected: "implicit-deny",
  },
  {
    name: "explicit deny wins across policies",
    policies: [doc(allow("dynamodb:*", "*")), doc(deny("dynamodb:DeleteItem", TABLE))],
    action: "dynamodb:DeleteItem",
    expected: "explicit-deny",
  },
  {
    name: "deny of something else leaves the allow",
    policies: [doc(allow("dynamodb:*", "*"), deny("dynamodb:DeleteItem", TABLE))],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "NotAction deny refuses all but the listed",
    policies: [doc(allow("*", "*"), { Effect: "Deny", NotAction: "dynamodb:GetItem", Resource: "*" })],
    action: "dynamodb:PutItem",
    expected: "explicit-deny",
  },
  {
    name: "NotAction deny spares the listed",
    policies: [doc(allow("*", "*"), { Effect: "Deny", NotAction: ["dynamodb:GetItem"], Resource: "*" })],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "NotResource allow covers the others",
    policies: [doc({ Effect: "Allow", Action: "dynamodb:GetItem", NotResource: `${TABLE}-secret` })],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "NotResource allow excludes the listed",
    policies: [doc({ Effect: "Allow", Action: "dynamodb:GetItem", NotResource: TABLE })],
    action: "dynamodb:GetItem",
    expected: "implicit-deny",
  },
  {
    name: "statement written as one object",
    policies: [{ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "dynamodb:GetItem", Resource: TABLE } }],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "StringEquals holds",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:RequestedRegion": "us-east-1" },
    expected: "allow",
  },
  {
    name: "StringEquals fails",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:RequestedRegion": "eu-west-1" },
    expected: "implicit-deny",
  },
  {
    name: "StringEquals is case-sensitive in the value, not the key",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { StringEquals: { "AWS:requestedregion": "US-EAST-1" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:RequestedRegion": "us-east-1" },
    expected: "implicit-deny",
  },
  {
    name: "condition key lookup is case-insensitive",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { StringEquals: { "AWS:requestedregion": "us-east-1" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:RequestedRegion": "us-east-1" },
    expected: "allow",
  },
  {
    name: "a missing key fails the condition",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } } })),
    ],
    action: "dynamodb:GetItem",
    expected: "implicit-deny",
  },
  {
    name: "IfExists holds when the key is missing",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE, {
          Condition: { StringEqualsIfExists: { "aws:RequestedRegion": "us-east-1" } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    expected: "allow",
  },
  {
    name: "IfExists still compares a present key",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE, {
          Condition: { StringEqualsIfExists: { "aws:RequestedRegion": "us-east-1" } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:RequestedRegion": "eu-west-1" },
    expected: "implicit-deny",
  },
  {
    name: "values of one key are alternatives",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE, {
          Condition: { StringLike: { "aws:PrincipalArn": ["arn:x", "arn:aws:iam::*:role/slipway-*"] } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:PrincipalArn": "arn:aws:iam::123456789012:role/slipway-deploy" },
    expected: "allow",
  },
  {
    name: "keys of one operator must all hold",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE, {
          Condition: { StringEquals: { "aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "2" } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "3" },
    expected: "implicit-deny",
  },
  {
    name: "operators must all hold",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE, {
          Condition: { StringEquals: { "aws:PrincipalTag/a": "1" }, StringLike: { "aws:PrincipalTag/b": "x*" } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:PrincipalTag/a": "1", "aws:PrincipalTag/b": "xyz" },
    expected: "allow",
  },
  {
    name: "ArnLike segment-wise",
    policies: [
      doc(
        allow("sqs:SendMessage", "*", {
          Condition: { ArnLike: { "aws:SourceArn": "arn:aws:lambda:*:*:function:slipway-*" } },
        }),
      ),
    ],
    action: "sqs:SendMessage",
    resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:q`,
    context: { "aws:SourceArn": "arn:aws:lambda:us-east-1:123:function:slipway-inspector" },
    expected: "allow",
  },
  {
    name: "ArnEquals refuses another ARN",
    policies: [
      doc(
        allow("sqs:SendMessage", "*", {
          Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:lambda:us-east-1:123:function:a" } },
        }),
      ),
    ],
    action: "sqs:SendMessage",
    resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:q`,
    context: { "aws:SourceArn": "arn:aws:lambda:us-east-1:123:function:b" },
    expected: "implicit-deny",
  },
  {
    name: "Bool with a JSON boolean: deny insecure transport",
    policies: [doc(allow("s3:*", "*"), deny("s3:*", "*", { Condition: { Bool: { "aws:SecureTransport": false } } }))],
    action: "s3:GetObject",
    resource: "arn:aws:s3:::b/k",
    context: { "aws:SecureTransport": "false" },
    expected: "explicit-deny",
  },
  {
    name: "Bool deny does not apply over TLS",
    policies: [doc(allow("s3:*", "*"), deny("s3:*", "*", { Condition: { Bool: { "aws:SecureTransport": "false" } } }))],
    action: "s3:GetObject",
    resource: "arn:aws:s3:::b/k",
    context: { "aws:SecureTransport": "TRUE" },
    expected: "allow",
  },
  // Operators the hand-written evaluator could not judge (it let such a statement not apply): the simulator does.
  {
    name: "NumericLessThan holds",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { NumericLessThan: { "aws:MultiFactorAuthAge": "5" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:MultiFactorAuthAge": "1" },
    expected: "allow",
  },
  {
    name: "NumericLessThan fails",
    policies: [
      doc(allow("dynamodb:GetItem", TABLE, { Condition: { NumericLessThan: { "aws:MultiFactorAuthAge": "5" } } })),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:MultiFactorAuthAge": "9" },
    expected: "implicit-deny",
  },
  {
    name: "a set operator in a Deny applies",
    policies: [
      doc(
        allow("dynamodb:GetItem", TABLE),
        deny("dynamodb:GetItem", TABLE, {
          Condition: { "ForAnyValue:StringEquals": { "aws:PrincipalTag/team": "x" } },
        }),
      ),
    ],
    action: "dynamodb:GetItem",
    context: { "aws:PrincipalTag/team": "x" },
    expected: "explicit-deny",
  },
  {
    name: "a request of an action that does not exist is refused",
    policies: [doc(allow("*", "*"))],
    action: "dynamodb:NoSuchAction",
    expected: "implicit-deny",
  },
  {
    name: "ListStreams takes no resource: granted on the stream family it is never allowed",
    policies: [doc(allow("dynamodb:ListStreams", `${TABLE}/stream/*`))],
    action: "dynamodb:ListStreams",
    resource: "*",
    expected: "implicit-deny",
  },
  {
    name: "ListStreams granted on * is allowed",
    policies: [doc(allow("dynamodb:ListStreams", "*"))],
    action: "dynamodb:ListStreams",
    resource: "*",
    expected: "allow",
  },
  {
    name: "a * request on an action with resources needs a policy on every resource",
    policies: [doc(allow("dynamodb:GetRecords", `${TABLE}/stream/*`))],
    action: "dynamodb:GetRecords",
    resource: "*",
    expected: "implicit-deny",
  },
  {
    name: "kms:ViaService holds through Secrets Manager",
    policies: [
      doc(
        allow("kms:Decrypt", `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1`, {
          Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
        }),
      ),
    ],
    action: "kms:Decrypt",
    resource: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1`,
    context: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" },
    expected: "allow",
  },
  {
    name: "kms:ViaService refuses a direct call",
    policies: [
      doc(
        allow("kms:Decrypt", `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1`, {
          Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
        }),
      ),
    ],
    action: "kms:Decrypt",
    resource: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k-1`,
    expected: "implicit-deny",
  },
  {
    name: "a resource in another account needs that account's resource policy",
    policies: [doc(allow("sqs:SendMessage", "*"))],
    action: "sqs:SendMessage",
    resource: "arn:aws:sqs:us-east-1:999999999999:q",
    expected: "implicit-deny",
  },
];

for (const scenario of evaluationCases) {
  test(`evaluate: ${scenario.name}`, async (t) => {
    const decision = await decide(scenario.policies, {
      action: scenario.action,
      resource: scenario.resource ?? TABLE,
      ...(scenario.context ? { context: scenario.context } : {}),
    });
    t.is(decision, scenario.expected);
  });
}

test("evaluate names the statements that allowed a request, and which of their actions and resources matched", async (t) => {
  const evaluation = await evaluate(
    [
      {
        name: "first",
        document: doc(allow(["dynamodb:GetItem", "dynamodb:PutItem"], [TABLE, `${TABLE}-other`], { Sid: "Both" })),
      },
      { name: "second", document: doc(allow("sqs:SendMessage", "*"), allow("dynamodb:Get*", "*")) },
    ],
    {
      action: "dynamodb:GetItem",
      resource: TABLE,
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`,
      accountId: ACCOUNT,
    },
  );
  t.is(evaluation.decision, "allow");
  t.deepEqual(
    [...evaluation.allowedBy].sort((a, b) => a.policy.localeCompare(b.policy)),
    [
      { policy: "first", index: 0, sid: "Both", actions: ["dynamodb:GetItem"], resources: [TABLE] },
      { policy: "second", index: 1, actions: ["dynamodb:Get*"], resources: ["*"] },
    ],
  );
  const invalid = await evaluate([{ name: "p", document: doc(allow("*", "*")) }], {
    action: "dynamodb:ListStreams",
    resource: `${TABLE}/stream/*`,
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/r/s`,
    accountId: ACCOUNT,
  });
  t.is(invalid.decision, "implicit-deny");
  t.regex(invalid.invalid ?? "", /only on "\*"/);
});

// ---- Policy evaluation: properties ----------------------------------------------------------------------------------

const ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage", "s3:PutObject"];
// Requests always name a resource here: each of these actions has resource-level permissions.
const RESOURCES = [
  TABLE,
  `${TABLE}/index/byUser`,
  "arn:aws:sqs:us-east-1:123456789012:failures",
  "arn:aws:s3:::sources/a.zip",
];
const actionPattern = fc.oneof(
  fc.constantFrom(...ACTIONS),
  fc.constantFrom("*", "dynamodb:*", "dynamodb:Get*", "dynamodb:*Item", "s3:?utObject"),
);
const resourcePattern = fc.oneof(
  fc.constantFrom(...RESOURCES),
  fc.constantFrom("*", `${TABLE}*`, "arn:aws:s3:::sources/*", "arn:aws:*:*:*:*"),
);
const list = <T>(item: fc.Arbitrary<T>) => fc.oneof(item, fc.array(item, { minLength: 1, maxLength: 3 }));
const statementArb: fc.Arbitrary<PolicyStatement> = fc
  .record({
    Effect: fc.constantFrom("Allow" as const, "Deny" as const),
    negateAction: fc.boolean(),
    negateResource: fc.boolean(),
    actions: list(actionPattern),
    resources: list(resourcePattern),
  })
  .map(({ Effect, negateAction, negateResource, actions, resources }) => ({
    Effect,
    ...(negateAction ? { NotAction: actions } : { Action: actions }),
    ...(negateResource ? { NotResource: resources } : { Resource: resources }),
  }));
const policiesArb = fc.array(
  fc.array(statementArb, { minLength: 1, maxLength: 4 }).map((statements) => doc(...statements)),
  {
    maxLength: 3,
  },
);
/** Requests AWS could receive: each action on a resource of a type it takes (the simulator refuses any other). */
const REQUESTS = [
  { action: "dynamodb:GetItem", resource: TABLE },
  { action: "dynamodb:PutItem", resource: TABLE },
  { action: "dynamodb:Query", resource: TABLE },
  { action: "dynamodb:Query", resource: `${TABLE}/index/byUser` },
  { action: "sqs:SendMessage", resource: "arn:aws:sqs:us-east-1:123456789012:failures" },
  { action: "s3:PutObject", resource: "arn:aws:s3:::sources/a.zip" },
];
const requestArb = fc.constantFrom(...REQUESTS);
/** Each run is a few simulations; fewer runs than fast-check's 100 keep the file quick. */
const RUNS = { numRuns: 40 };

test("property: an explicit deny of the request wins over any set of policies", async (t) => {
  await fc.assert(
    fc.asyncProperty(policiesArb, requestArb, fc.nat(3), async (policies, request, at) => {
      const withDeny = [...policies];
      withDeny.splice(Math.min(at, withDeny.length), 0, doc(deny(request.action, request.resource)));
      return (await decide(withDeny, request)) === "explicit-deny";
    }),
    RUNS,
  );
  t.pass();
});

test("property: order of policies and statements does not matter", async (t) => {
  await fc.assert(
    fc.asyncProperty(policiesArb, requestArb, async (policies, request) => {
      const reversed = [...policies]
        .reverse()
        .map((policy) => doc(...[...(policy.Statement as PolicyStatement[])].reverse()));
      const merged = [doc(...policies.flatMap((policy) => policy.Statement as PolicyStatement[]))];
      const decision = await decide(policies, request);
      return (
        (await decide(reversed, request)) === decision &&
        (policies.length === 0 || (await decide(merged, request)) === decision)
      );
    }),
    RUNS,
  );
  t.pass();
});

test("property: adding an Allow never takes access away; adding a Deny never grants it", async (t) => {
  await fc.assert(
    fc.asyncProperty(policiesArb, requestArb, statementArb, async (policies, request, extra) => {
      const before = await decide(policies, request);
      const after = await decide([...policies, doc(extra)], request);
      if (extra.Effect === "Allow") return before === "implicit-deny" || after === before;
      return after !== "allow" || before === "allow";
    }),
    RUNS,
  );
  t.pass();
});

test("property: the request's action is matched case-insensitively, its resource case-sensitively", async (t) => {
  await fc.assert(
    fc.asyncProperty(policiesArb, requestArb, fc.boolean(), async (policies, request, upper) => {
      const action = upper ? request.action.toUpperCase() : request.action.toLowerCase();
      return (await decide(policies, { ...request, action })) === (await decide(policies, request));
    }),
    RUNS,
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...REQUESTS), async ({ action, resource }) => {
      const shouted = resource.replace(/sources|failures|deployments/, (word) => word.toUpperCase());
      return (await decide([doc(allow(action, resource))], { action, resource: shouted })) === "implicit-deny";
    }),
    RUNS,
  );
  t.pass();
});

test("property: NotAction and NotResource apply exactly where Action and Resource do not", async (t) => {
  await fc.assert(
    fc.asyncProperty(list(actionPattern), list(resourcePattern), requestArb, async (actions, resources, request) => {
      const plain = (await decide([doc(allow(actions, "*"))], request)) === "allow";
      const negated =
        (await decide([doc({ Effect: "Allow", NotAction: actions, Resource: "*" })], request)) === "allow";
      const onResource = (await decide([doc(allow("*", resources))], request)) === "allow";
      const offResource =
        (await decide([doc({ Effect: "Allow", Action: "*", NotResource: resources })], request)) === "allow";
      return plain !== negated && onResource !== offResource;
    }),
    RUNS,
  );
  t.pass();
});

// ---- Policy documents -----------------------------------------------------------------------------------------------

test("parsePolicyDocument accepts Slipway's own policies, as objects and as the JSON a RolePolicy carries", (t) => {
  const policy = functionPolicy("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/x", []);
  t.deepEqual(parsePolicyDocument(policy), policy);
  t.deepEqual(parsePolicyDocument(JSON.stringify(policy)), policy);
});

test("parsePolicyDocument refuses what PutRolePolicy refuses, saying what is wrong", (t) => {
  const cases: [unknown, RegExp][] = [
    ["{not json", /not JSON/],
    [[], /JSON object/],
    [{ Version: "2012-10-17" }, /no Statement/],
    [{ Version: "2020-01-01", Statement: [] }, /Version/],
    [{ Statement: [{ Effect: "allow", Action: "a:b", Resource: "*" }] }, /Statement 0: Effect/],
    [
      { Statement: [allow("a:b", "*"), { Effect: "Allow", Action: "a:b", NotAction: "a:c", Resource: "*" }] },
      /Statement 1 must have exactly one of Action or NotAction/,
    ],
    [{ Statement: [{ Effect: "Allow", Action: "a:b" }] }, /exactly one of Resource or NotResource/],
    [{ Statement: [{ Effect: "Allow", Action: [], Resource: "*" }] }, /Action must be a string or a list/],
    [{ Statement: [{ Effect: "Allow", Action: "*Item", Resource: "*" }] }, /must be prefaced by a vendor/],
    [
      { Statement: [{ Effect: "Allow", Principal: "*", Action: "a:b", Resource: "*" }] },
      /must not specify a Principal/,
    ],
    [{ Statement: [allow("a:b", "*", { Condition: { StringEquals: "x" } as never })] }, /Condition must be/],
  ];
  for (const [input, message] of cases) {
    const error = t.throws(
      () => parsePolicyDocument(input),
      { instanceOf: MalformedPolicyDocumentError },
      JSON.stringify(input),
    );
    t.regex(error?.message ?? "", message);
  }
});

// ---- Principals ------------------------------------------------------------------------------------------------------

const registryFor = (warn?: (message: string) => void) =>
  createPrincipalRegistry({ accountId: ACCOUNT, region: "us-east-1", ...(warn ? { warn } : {}) });

test("credentials are ASIA keys, stable per account and role, distinct between roles", (t) => {
  const first = registryFor();
  const second = registryFor();
  const deploy = first.registerRole("deploy", `arn:aws:iam::${ACCOUNT}:role/deploy`);
  t.regex(deploy.accessKeyId, /^ASIA[A-Z]{16}$/);
  t.is(deploy.secretAccessKey.length, 40);
  t.deepEqual(second.registerRole("deploy", "arn:aws:iam::1:role/other-arn"), deploy);
  t.deepEqual(first.credentialsFor("deploy"), deploy);
  t.deepEqual(
    first.registerRole("deploy", `arn:aws:iam::${ACCOUNT}:role/deploy`),
    deploy,
    "registering again keeps the key",
  );
  const inspector = first.registerRole("inspector", `arn:aws:iam::${ACCOUNT}:role/inspector`);
  t.not(inspector.accessKeyId, deploy.accessKeyId);
  t.not(
    createPrincipalRegistry({ accountId: "000000000000", region: "us-east-1" }).registerRole("deploy", "arn")
      .accessKeyId,
    deploy.accessKeyId,
  );
  t.is(first.roleForAccessKey(deploy.accessKeyId), "deploy");
  t.is(first.roleForAccessKey(inspector.accessKeyId), "inspector");
  t.is(first.roleForAccessKey("AKIDADMIN"), undefined);
  t.throws(() => first.credentialsFor("nobody"), { message: /No role named nobody.*registerRole/ });
  t.throws(() => first.putRolePolicy("nobody", "p", doc(allow("*", "*"))), { message: /registerRole/ });
});

test("a key the registry did not issue is the administrator; a role gets exactly its policies", async (t) => {
  const registry = registryFor();
  const { accessKeyId } = registry.registerRole(
    "slipway-deploy-role",
    `arn:aws:iam::${ACCOUNT}:role/slipway-deploy-role`,
    {
      sessionName: "slipway-deploy-dev",
    },
  );
  t.true((await registry.authorize("AKIDLAUNCHER", "dynamodb:CreateTable", TABLE)).allowed);

  t.deepEqual(await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE), {
    allowed: false,
    message:
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/slipway-deploy-role/slipway-deploy-dev is not authorized to perform: ` +
      `dynamodb:GetItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:GetItem action`,
  });

  registry.putRolePolicy(
    "slipway-deploy-role",
    "inline",
    JSON.stringify(doc(allow(["dynamodb:GetItem", "dynamodb:PutItem"], TABLE))),
  );
  t.true((await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE)).allowed);
  t.true((await registry.authorize(accessKeyId, "dynamodb:PutItem", TABLE)).allowed);

  // PutRolePolicy under the same name replaces; another name adds.
  registry.putRolePolicy("slipway-deploy-role", "inline", doc(allow("dynamodb:GetItem", TABLE)));
  t.false((await registry.authorize(accessKeyId, "dynamodb:PutItem", TABLE)).allowed);
  registry.putRolePolicy("slipway-deploy-role", "guard", doc(deny("dynamodb:GetItem", TABLE)));
  t.deepEqual(await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE), {
    allowed: false,
    message:
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/slipway-deploy-role/slipway-deploy-dev is not authorized to perform: ` +
      `dynamodb:GetItem on resource: ${TABLE} with an explicit deny in an identity-based policy`,
  });
  registry.deleteRolePolicy("slipway-deploy-role", "guard");
  t.true((await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE)).allowed);
  t.throws(() => registry.putRolePolicy("slipway-deploy-role", "bad", "{}"), {
    instanceOf: MalformedPolicyDocumentError,
  });
});

test("authorize fills the principal's condition keys and merges the caller's context", async (t) => {
  const registry = registryFor();
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/r`;
  const { accessKeyId } = registry.registerRole("r", roleArn);
  registry.putRolePolicy(
    "r",
    "p",
    doc(
      allow("s3:PutObject", "*", {
        Condition: { ArnEquals: { "aws:PrincipalArn": roleArn }, StringEquals: { "aws:RequestedRegion": "us-east-1" } },
      }),
      deny("s3:PutObject", "*", { Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ),
  );
  t.true((await registry.authorize(accessKeyId, "s3:PutObject", "arn:aws:s3:::b/k")).allowed);
  t.false(
    (await registry.authorize(accessKeyId, "s3:PutObject", "arn:aws:s3:::b/k", { "aws:SecureTransport": "false" }))
      .allowed,
  );
  t.false(
    (await registry.authorize(accessKeyId, "s3:PutObject", "arn:aws:s3:::b/k", { "aws:RequestedRegion": "eu-west-1" }))
      .allowed,
  );
});

test("authorize warns once per request the simulator cannot evaluate, and denies it", async (t) => {
  const warnings: string[] = [];
  const registry = registryFor((message) => warnings.push(message));
  const { accessKeyId } = registry.registerRole("r", `arn:aws:iam::${ACCOUNT}:role/r`);
  registry.putRolePolicy("r", "p", doc(allow("*", "*")));
  for (let call = 0; call < 3; call++)
    t.false((await registry.authorize(accessKeyId, "dynamodb:NoSuchAction", TABLE)).allowed);
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /dynamodb:NoSuchAction.*no such IAM action/);
});

test("the registry records each distinct call of a role, with a count; the administrator's are not recorded", async (t) => {
  const registry = registryFor();
  const { accessKeyId } = registry.registerRole("r", `arn:aws:iam::${ACCOUNT}:role/r`);
  registry.putRolePolicy("r", "p", doc(allow("dynamodb:GetItem", TABLE)));
  await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE);
  await registry.authorize(accessKeyId, "dynamodb:GetItem", TABLE);
  await registry.authorize(accessKeyId, "dynamodb:PutItem", TABLE);
  await registry.authorize("AKIDADMIN", "dynamodb:DeleteTable", TABLE);
  t.deepEqual(registry.calls(), [
    { role: "r", action: "dynamodb:GetItem", resource: TABLE, allowed: true, count: 2 },
    { role: "r", action: "dynamodb:PutItem", resource: TABLE, allowed: false, count: 1 },
  ]);
  t.deepEqual(registry.policiesOf("r"), [{ name: "p", document: doc(allow("dynamodb:GetItem", TABLE)) }]);
  t.deepEqual(registry.roleNames(), ["r"]);
  registry.clearCalls();
  t.deepEqual(registry.calls(), []);
});

test("Slipway's inspector policy, evaluated: exactly what the inspector calls", async (t) => {
  const registry = registryFor();
  const stream = `${TABLE}/stream/2024-01-01T00:00:00.000`;
  const arns = {
    deploymentsTable: TABLE,
    deploymentsStream: stream,
    installationsTable: "arn:aws:dynamodb:us-east-1:123456789012:table/installations",
    privateKeySecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:key-AbCdEf",
    sourceBucket: "arn:aws:s3:::slipway-sources",
    buildProjects: ["arn:aws:codebuild:us-east-1:123456789012:project/slipway-node"],
    failureQueue: "arn:aws:sqs:us-east-1:123456789012:failures",
    buildSlotsTable: "arn:aws:dynamodb:us-east-1:123456789012:table/build-slots",
    queuedIndex: "arn:aws:dynamodb:us-east-1:123456789012:table/deployments/index/queuedByUser",
  };
  const { accessKeyId } = registry.registerRole("inspector", "arn:aws:iam::123456789012:role/inspector");
  registry.putRolePolicy(
    "inspector",
    "inline",
    JSON.stringify(
      functionPolicy(
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/inspector",
        inspectorFunctionPermissions(arns),
      ),
    ),
  );
  const allowedCalls: AccessCheck[] = [
    { action: "dynamodb:GetRecords", resource: stream },
    { action: "dynamodb:ListStreams", resource: "*" },
    { action: "dynamodb:UpdateItem", resource: TABLE },
    { action: "dynamodb:Query", resource: arns.installationsTable },
    { action: "secretsmanager:GetSecretValue", resource: arns.privateKeySecret },
    { action: "s3:PutObject", resource: "arn:aws:s3:::slipway-sources/sources/d-1.zip" },
    { action: "codebuild:StartBuild", resource: arns.buildProjects[0]! },
    { action: "sqs:SendMessage", resource: arns.failureQueue },
    { action: "dynamodb:UpdateItem", resource: arns.buildSlotsTable },
    { action: "dynamodb:Query", resource: arns.queuedIndex },
    {
      action: "logs:PutLogEvents",
      resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/inspector:log-stream:x",
    },
  ];
  const deniedCalls: AccessCheck[] = [
    // Not even a valid request: ListStreams is only ever authorized on "*".
    { action: "dynamodb:ListStreams", resource: `${TABLE}/stream/*` },
    { action: "dynamodb:Scan", resource: TABLE },
    { action: "dynamodb:PutItem", resource: TABLE },
    { action: "dynamodb:Query", resource: `${TABLE}/index/byUser` },
    { action: "dynamodb:Query", resource: TABLE },
    { action: "dynamodb:Scan", resource: arns.buildSlotsTable },
    { action: "dynamodb:UpdateItem", resource: arns.installationsTable },
    { action: "dynamodb:GetRecords", resource: `${arns.installationsTable}/stream/2024-01-01T00:00:00.000` },
    { action: "s3:PutObject", resource: "arn:aws:s3:::slipway-sources/other/d-1.zip" },
    { action: "s3:GetObject", resource: "arn:aws:s3:::slipway-sources/sources/d-1.zip" },
    {
      action: "secretsmanager:GetSecretValue",
      resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf",
    },
    { action: "codebuild:StartBuild", resource: "arn:aws:codebuild:us-east-1:123456789012:project/other" },
  ];
  for (const call of allowedCalls)
    t.true((await registry.authorize(accessKeyId, call.action, call.resource)).allowed, JSON.stringify(call));
  for (const call of deniedCalls)
    t.false((await registry.authorize(accessKeyId, call.action, call.resource)).allowed, JSON.stringify(call));
});

// ---- DynamoDB request → IAM checks ----------------------------------------------------------------------------------

const localArn = (name: string) => `arn:aws:dynamodb:ddblocal:000000000000:table/${name}`;
const knownIterators: Record<string, string> = { "it-a": `${localArn("a")}/stream/label` };
const resolvers = { resolveTableArn: localArn, streamOfIterator: (iterator: string) => knownIterators[iterator] };

const accessCases: [target: string, body: unknown, checks: AccessCheck[]][] = [
  ["DynamoDB_20120810.GetItem", { TableName: "a", Key: {} }, [{ action: "dynamodb:GetItem", resource: localArn("a") }]],
  [
    "DynamoDB_20120810.PutItem",
    { TableName: localArn("b"), Item: {} },
    [{ action: "dynamodb:PutItem", resource: localArn("b") }],
  ],
  [
    "DynamoDB_20120810.DescribeTable",
    { TableName: "a" },
    [{ action: "dynamodb:DescribeTable", resource: localArn("a") }],
  ],
  ["DynamoDB_20120810.Query", { TableName: "a" }, [{ action: "dynamodb:Query", resource: localArn("a") }]],
  [
    "DynamoDB_20120810.Query",
    { TableName: "a", IndexName: "byUser" },
    [{ action: "dynamodb:Query", resource: `${localArn("a")}/index/byUser` }],
  ],
  [
    "DynamoDB_20120810.Scan",
    { TableName: "a", IndexName: "i" },
    [{ action: "dynamodb:Scan", resource: `${localArn("a")}/index/i` }],
  ],
  [
    "DynamoDB_20120810.TransactWriteItems",
    {
      TransactItems: [
        { Put: { TableName: "a", Item: {} } },
        { Update: { TableName: "b", Key: {} } },
        { Delete: { TableName: "a", Key: {} } },
        { ConditionCheck: { TableName: "c", Key: {} } },
        { Put: { TableName: "a", Item: {} } },
      ],
    },
    [
      { action: "dynamodb:PutItem", resource: localArn("a") },
      { action: "dynamodb:UpdateItem", resource: localArn("b") },
      { action: "dynamodb:DeleteItem", resource: localArn("a") },
      { action: "dynamodb:ConditionCheckItem", resource: localArn("c") },
    ],
  ],
  [
    "DynamoDB_20120810.TransactWriteItems",
    { TransactItems: [] },
    [{ action: "dynamodb:TransactWriteItems", resource: "*" }],
  ],
  [
    "DynamoDB_20120810.TransactGetItems",
    { TransactItems: [{ Get: { TableName: "a", Key: {} } }, { Get: { TableName: "b", Key: {} } }] },
    [
      { action: "dynamodb:GetItem", resource: localArn("a") },
      { action: "dynamodb:GetItem", resource: localArn("b") },
    ],
  ],
  [
    "DynamoDB_20120810.BatchWriteItem",
    {
      RequestItems: {
        a: [{ PutRequest: { Item: {} } }, { DeleteRequest: { Key: {} } }],
        b: [{ PutRequest: { Item: {} } }],
      },
    },
    [
      { action: "dynamodb:BatchWriteItem", resource: localArn("a") },
      { action: "dynamodb:BatchWriteItem", resource: localArn("b") },
    ],
  ],
  [
    "DynamoDB_20120810.BatchGetItem",
    { RequestItems: { a: { Keys: [] }, b: { Keys: [] } } },
    [
      { action: "dynamodb:BatchGetItem", resource: localArn("a") },
      { action: "dynamodb:BatchGetItem", resource: localArn("b") },
    ],
  ],
  ["DynamoDB_20120810.ListTables", {}, [{ action: "dynamodb:ListTables", resource: "*" }]],
  ["DynamoDB_20120810.DescribeLimits", {}, [{ action: "dynamodb:DescribeLimits", resource: "*" }]],
  [
    "DynamoDB_20120810.ListTagsOfResource",
    { ResourceArn: localArn("a") },
    [{ action: "dynamodb:ListTagsOfResource", resource: localArn("a") }],
  ],
  [
    "DynamoDB_20120810.ExecuteStatement",
    { Statement: "SELECT * FROM a" },
    [{ action: "dynamodb:ExecuteStatement", resource: "*" }],
  ],
  [
    "DynamoDBStreams_20120810.DescribeStream",
    { StreamArn: "s" },
    [{ action: "dynamodb:DescribeStream", resource: "s" }],
  ],
  [
    "DynamoDBStreams_20120810.GetShardIterator",
    { StreamArn: "s", ShardId: "x" },
    [{ action: "dynamodb:GetShardIterator", resource: "s" }],
  ],
  ["DynamoDBStreams_20120810.ListStreams", { TableName: "a" }, [{ action: "dynamodb:ListStreams", resource: "*" }]],
  ["DynamoDBStreams_20120810.ListStreams", {}, [{ action: "dynamodb:ListStreams", resource: "*" }]],
  [
    "DynamoDBStreams_20120810.GetRecords",
    { ShardIterator: "it-a" },
    [{ action: "dynamodb:GetRecords", resource: `${localArn("a")}/stream/label` }],
  ],
  [
    "DynamoDBStreams_20120810.GetRecords",
    { ShardIterator: "forged" },
    [{ action: "dynamodb:GetRecords", resource: "*" }],
  ],
  ["DynamoDB_20120810.GetItem", "not an object", [{ action: "dynamodb:GetItem", resource: "*" }]],
  ["SomethingElse_2020.GetItem", { TableName: "a" }, [{ action: "dynamodb:GetItem", resource: "*" }]],
];

for (const [target, body, checks] of accessCases) {
  test(`dynamodbAccess: ${target} ${JSON.stringify(body).slice(0, 60)}`, (t) => {
    t.deepEqual(dynamodbAccess(target, body, resolvers)?.checks, checks);
  });
}

test("dynamodbAccess names the stream whose iterators an answer carries, and why it fell back to *", (t) => {
  t.is(dynamodbAccess("DynamoDBStreams_20120810.GetShardIterator", { StreamArn: "s" }, resolvers)?.iteratorStream, "s");
  t.is(
    dynamodbAccess("DynamoDBStreams_20120810.GetRecords", { ShardIterator: "it-a" }, resolvers)?.iteratorStream,
    knownIterators["it-a"],
  );
  const forged = dynamodbAccess("DynamoDBStreams_20120810.GetRecords", { ShardIterator: "forged" }, resolvers);
  t.is(forged?.iteratorStream, undefined);
  t.regex(forged?.note ?? "", /shard iterator not issued through this proxy/);
  t.is(dynamodbAccess("DynamoDB_20120810.GetItem", { TableName: "a" }, resolvers)?.iteratorStream, undefined);
  t.is(dynamodbAccess(undefined, {}, resolvers), undefined);
  t.is(dynamoDbLocalTableArn("x"), localArn("x"));
});

test("shard iterator memory forgets the oldest past its capacity", (t) => {
  const memory = createShardIteratorMemory(2);
  memory.remember("i1", "s1");
  memory.remember("i2", "s2");
  memory.remember("i1", "s1"); // seen again: now the newest
  memory.remember("i3", "s3");
  t.is(memory.size, 2);
  t.is(memory.streamOf("i2"), undefined);
  t.is(memory.streamOf("i1"), "s1");
  t.is(memory.streamOf("i3"), "s3");
});

// ---- The proxy in front of DynamoDB Local ---------------------------------------------------------------------------

let dynamoDb: DynamoDbLocal | undefined;
test.before(async () => {
  dynamoDb = await sharedDynamoDbLocal();
});
test.after.always(async () => {
  await dynamoDb?.stop();
});

const ADMIN = "AKIDSLIPWAYLAUNCHER";
const clientConfig = (endpoint: string, accessKeyId: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId, secretAccessKey: "not-verified-locally" },
});

interface ProxyFixture {
  readonly proxy: DynamoDbProxy;
  readonly registry: PrincipalRegistry;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly tableA: string;
  readonly tableB: string;
  readonly streamA: string;
  readonly streamB: string;
  /** The role's clients, through the proxy. */
  readonly role: { db: DynamoDBClient; doc: DynamoDBDocumentClient; streams: DynamoDBStreamsClient };
  /** The administrator's clients, through the proxy. */
  readonly admin: { db: DynamoDBClient; doc: DynamoDBDocumentClient; streams: DynamoDBStreamsClient };
  /** Straight to DynamoDB Local, around the proxy. */
  readonly direct: { doc: DynamoDBDocumentClient; streams: DynamoDBStreamsClient };
}

/**
 * Two fresh tables (A with indexes byOwner and byKind, B; both with streams) and a role allowed GetItem/PutItem on A,
 * Query on A's byOwner index, BatchGetItem on A, and reading A's stream — nothing on B.
 */
async function proxyFixture(t: ExecutionContext): Promise<ProxyFixture> {
  const endpoint = dynamoDb!.endpoint;
  const suffix = randomUUID().slice(0, 8);
  const tableA = `iam-a-${suffix}`;
  const tableB = `iam-b-${suffix}`;
  const setup = new DynamoDBClient(clientConfig(endpoint, ADMIN));
  t.teardown(() => setup.destroy());
  const stream = { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" as const };
  const index = (name: string, key: string) => ({
    IndexName: name,
    KeySchema: [{ AttributeName: key, KeyType: "HASH" as const }],
    Projection: { ProjectionType: "ALL" as const },
  });
  await setup.send(
    new CreateTableCommand({
      TableName: tableA,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [
        { AttributeName: "id", AttributeType: "S" },
        { AttributeName: "owner", AttributeType: "S" },
        { AttributeName: "kind", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [index("byOwner", "owner"), index("byKind", "kind")],
      StreamSpecification: stream,
    }),
  );
  await setup.send(
    new CreateTableCommand({
      TableName: tableB,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      StreamSpecification: stream,
    }),
  );
  for (const TableName of [tableA, tableB]) {
    await waitUntilTableExists({ client: setup, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 }, { TableName });
  }
  const describedA = (await setup.send(new DescribeTableCommand({ TableName: tableA }))).Table!;
  const describedB = (await setup.send(new DescribeTableCommand({ TableName: tableB }))).Table!;
  // The ARNs policies are written against are the ones DynamoDB Local reports.
  t.is(describedA.TableArn, dynamoDbLocalTableArn(tableA));
  const streamA = describedA.LatestStreamArn!;
  const streamB = describedB.LatestStreamArn!;
  t.true(streamA.startsWith(`${dynamoDbLocalTableArn(tableA)}/stream/`), streamA);

  const registry = createPrincipalRegistry({ accountId: "000000000000", region: "ddblocal" });
  registry.registerRole("slipway-api", "arn:aws:iam::000000000000:role/slipway-api", {
    sessionName: "slipway-api-dev",
  });
  // Lists streams the way Slipway's policy did before the review: on the table's stream family.
  registry.registerRole("slipway-legacy", "arn:aws:iam::000000000000:role/slipway-legacy", {
    sessionName: "slipway-legacy-dev",
  });
  const arnA = dynamoDbLocalTableArn(tableA);
  registry.putRolePolicy(
    "slipway-api",
    "inline",
    doc(
      allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"], arnA),
      allow("dynamodb:Query", `${arnA}/index/byOwner`),
      allow(["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"], streamA),
      allow("dynamodb:ListStreams", "*"),
    ),
  );
  registry.putRolePolicy(
    "slipway-legacy",
    "inline",
    doc(allow("dynamodb:ListStreams", `${dynamoDbLocalTableArn(tableA)}/stream/*`)),
  );
  const logger = recordingLogger();
  const proxy = await startDynamoDbProxy({
    target: endpoint,
    authorize: registry.authorize,
    resolveTableArn: dynamoDbLocalTableArn,
    logger,
  });
  t.teardown(() => proxy.close());

  const clients = (url: string, accessKeyId: string) => {
    const db = new DynamoDBClient(clientConfig(url, accessKeyId));
    const streams = new DynamoDBStreamsClient(clientConfig(url, accessKeyId));
    t.teardown(() => {
      db.destroy();
      streams.destroy();
    });
    return { db, doc: DynamoDBDocumentClient.from(db), streams };
  };
  const direct = clients(endpoint, ADMIN);
  return {
    proxy,
    registry,
    logger,
    tableA,
    tableB,
    streamA,
    streamB,
    role: clients(proxy.url, registry.credentialsFor("slipway-api").accessKeyId),
    admin: clients(proxy.url, ADMIN),
    direct: { doc: direct.doc, streams: direct.streams },
  };
}

const deniedMessage = (action: string, resource: string) =>
  `User: arn:aws:sts::000000000000:assumed-role/slipway-api/slipway-api-dev is not authorized to perform: ${action} ` +
  `on resource: ${resource} because no identity-based policy allows the ${action} action`;

test("proxy: a role may do what its policy allows and gets AccessDeniedException for the rest", async (t) => {
  const f = await proxyFixture(t);
  const arnA = dynamoDbLocalTableArn(f.tableA);
  await f.role.doc.send(new PutCommand({ TableName: f.tableA, Item: { id: "1", owner: "ada", kind: "web" } }));
  t.deepEqual((await f.role.doc.send(new GetCommand({ TableName: f.tableA, Key: { id: "1" } }))).Item, {
    id: "1",
    owner: "ada",
    kind: "web",
  });

  const refusedDelete = await failureOf(
    f.role.db.send(new DeleteItemCommand({ TableName: f.tableA, Key: { id: { S: "1" } } })),
  );
  t.is(refusedDelete.name, "AccessDeniedException");
  t.is(refusedDelete.$metadata.httpStatusCode, 400);
  t.is(refusedDelete.message, deniedMessage("dynamodb:DeleteItem", arnA));
  t.truthy(
    (await f.direct.doc.send(new GetCommand({ TableName: f.tableA, Key: { id: "1" } }))).Item,
    "nothing was deleted",
  );

  for (const call of [
    f.role.doc.send(new GetCommand({ TableName: f.tableB, Key: { id: "1" } })),
    f.role.doc.send(new PutCommand({ TableName: f.tableB, Item: { id: "1" } })),
    f.role.doc.send(new ScanCommand({ TableName: f.tableA })),
  ]) {
    t.is((await failureOf(call)).name, "AccessDeniedException");
  }
  t.deepEqual((await f.direct.doc.send(new ScanCommand({ TableName: f.tableB }))).Items, [], "nothing reached B");

  const byOwner = await f.role.doc.send(
    new QueryCommand({
      TableName: f.tableA,
      IndexName: "byOwner",
      KeyConditionExpression: "#o = :o",
      ExpressionAttributeNames: { "#o": "owner" },
      ExpressionAttributeValues: { ":o": "ada" },
    }),
  );
  t.deepEqual(
    byOwner.Items?.map((item) => item.id),
    ["1"],
  );
  const byKind = await failureOf(
    f.role.doc.send(
      new QueryCommand({
        TableName: f.tableA,
        IndexName: "byKind",
        KeyConditionExpression: "kind = :k",
        ExpressionAttributeValues: { ":k": "web" },
      }),
    ),
  );
  t.is(byKind.name, "AccessDeniedException");
  t.is(byKind.message, deniedMessage("dynamodb:Query", `${arnA}/index/byKind`));
  const onTable = await failureOf(
    f.role.doc.send(
      new QueryCommand({
        TableName: f.tableA,
        KeyConditionExpression: "id = :i",
        ExpressionAttributeValues: { ":i": "1" },
      }),
    ),
  );
  t.is(onTable.message, deniedMessage("dynamodb:Query", arnA), "Query on the index does not grant Query on the table");

  const denials = f.logger.entries.filter((entry) => entry.message === "access denied");
  t.is(denials.length, 6);
  t.like(denials[0]!.fields, { action: "dynamodb:DeleteItem", resource: arnA, operation: "dynamodb:DeleteItem" });
});

test("proxy: a transaction with one disallowed part is refused whole and writes nothing", async (t) => {
  const f = await proxyFixture(t);
  const refused = await failureOf(
    f.role.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: f.tableA, Item: { id: "t1", owner: "ada", kind: "web" } } },
          { Put: { TableName: f.tableB, Item: { id: "t1" } } },
        ],
      }),
    ),
  );
  t.is(refused.name, "AccessDeniedException");
  t.is(refused.message, deniedMessage("dynamodb:PutItem", dynamoDbLocalTableArn(f.tableB)));
  t.deepEqual((await f.direct.doc.send(new ScanCommand({ TableName: f.tableA }))).Items, []);
  t.deepEqual((await f.direct.doc.send(new ScanCommand({ TableName: f.tableB }))).Items, []);

  const deleting = await failureOf(
    f.role.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: f.tableA, Item: { id: "t2", owner: "ada", kind: "web" } } },
          { Delete: { TableName: f.tableA, Key: { id: "t0" } } },
        ],
      }),
    ),
  );
  t.is(deleting.message, deniedMessage("dynamodb:DeleteItem", dynamoDbLocalTableArn(f.tableA)));
  t.deepEqual((await f.direct.doc.send(new ScanCommand({ TableName: f.tableA }))).Items, []);

  await f.role.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: f.tableA, Item: { id: "t3", owner: "ada", kind: "web" } } },
        { Put: { TableName: f.tableA, Item: { id: "t4", owner: "bob", kind: "api" } } },
      ],
    }),
  );
  const both = await f.role.doc.send(
    new TransactGetCommand({
      TransactItems: [
        { Get: { TableName: f.tableA, Key: { id: "t3" } } },
        { Get: { TableName: f.tableA, Key: { id: "t4" } } },
      ],
    }),
  );
  t.deepEqual(
    both.Responses?.map((response) => response.Item?.id),
    ["t3", "t4"],
  );
  const acrossTables = await failureOf(
    f.role.doc.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: f.tableA, Key: { id: "t3" } } },
          { Get: { TableName: f.tableB, Key: { id: "t3" } } },
        ],
      }),
    ),
  );
  t.is(acrossTables.message, deniedMessage("dynamodb:GetItem", dynamoDbLocalTableArn(f.tableB)));
});

test("proxy: batch writes need BatchWriteItem per table, batch reads BatchGetItem per table", async (t) => {
  const f = await proxyFixture(t);
  // The role has no DeleteItem: a batch's deletes are authorized by BatchWriteItem alone, as IAM does.
  await f.role.doc.send(
    new BatchWriteCommand({
      RequestItems: {
        [f.tableA]: [
          { PutRequest: { Item: { id: "b1", owner: "ada", kind: "web" } } },
          { PutRequest: { Item: { id: "b0", owner: "ada", kind: "web" } } },
        ],
      },
    }),
  );
  await f.role.doc.send(
    new BatchWriteCommand({ RequestItems: { [f.tableA]: [{ DeleteRequest: { Key: { id: "b0" } } }] } }),
  );
  const acrossTables = await failureOf(
    f.role.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [f.tableA]: [{ DeleteRequest: { Key: { id: "b1" } } }],
          [f.tableB]: [{ PutRequest: { Item: { id: "b2" } } }],
        },
      }),
    ),
  );
  t.is(acrossTables.message, deniedMessage("dynamodb:BatchWriteItem", dynamoDbLocalTableArn(f.tableB)));
  t.deepEqual(
    (await f.direct.doc.send(new ScanCommand({ TableName: f.tableA }))).Items?.map((item) => item.id),
    ["b1"],
    "a refused batch writes nothing",
  );

  const read = await f.role.doc.send(new BatchGetCommand({ RequestItems: { [f.tableA]: { Keys: [{ id: "b1" }] } } }));
  t.deepEqual(
    read.Responses?.[f.tableA]?.map((item) => item.id),
    ["b1"],
  );
  const readBoth = await failureOf(
    f.role.doc.send(
      new BatchGetCommand({
        RequestItems: { [f.tableA]: { Keys: [{ id: "b1" }] }, [f.tableB]: { Keys: [{ id: "b1" }] } },
      }),
    ),
  );
  t.is(readBoth.message, deniedMessage("dynamodb:BatchGetItem", dynamoDbLocalTableArn(f.tableB)));
});

test("proxy: stream reads only on the allowed stream, and only with iterators issued through the proxy", async (t) => {
  const f = await proxyFixture(t);
  await f.admin.doc.send(new PutCommand({ TableName: f.tableA, Item: { id: "s1", owner: "ada", kind: "web" } }));
  await f.admin.doc.send(new PutCommand({ TableName: f.tableB, Item: { id: "s1" } }));

  const listed = await f.role.streams.send(new ListStreamsCommand({ TableName: f.tableA }));
  t.deepEqual(
    listed.Streams?.map((stream) => stream.StreamArn),
    [f.streamA],
  );
  // ListStreams has no resource-level permissions: granted on "*", it lists any table's streams, as on AWS…
  t.deepEqual(
    (await f.role.streams.send(new ListStreamsCommand({ TableName: f.tableB }))).Streams?.map((s) => s.StreamArn),
    [f.streamB],
  );
  // …and granted on a table's stream family (the policy before the review), it lists none.
  const legacy = f.registry.credentialsFor("slipway-legacy");
  const legacyStreams = new DynamoDBStreamsClient(clientConfig(f.proxy.url, legacy.accessKeyId));
  t.teardown(() => legacyStreams.destroy());
  t.is(
    (await failureOf(legacyStreams.send(new ListStreamsCommand({ TableName: f.tableA })))).message,
    deniedMessage("dynamodb:ListStreams", "*").replace(/slipway-api/g, "slipway-legacy"),
  );

  const described = await f.role.streams.send(new DescribeStreamCommand({ StreamArn: f.streamA }));
  const shardId = described.StreamDescription!.Shards![0]!.ShardId!;
  t.is(
    (await failureOf(f.role.streams.send(new DescribeStreamCommand({ StreamArn: f.streamB })))).name,
    "AccessDeniedException",
  );

  const { ShardIterator } = await f.role.streams.send(
    new GetShardIteratorCommand({ StreamArn: f.streamA, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const first = await f.role.streams.send(new GetRecordsCommand({ ShardIterator }));
  t.deepEqual(
    first.Records?.map((record) => record.dynamodb?.Keys?.id?.S),
    ["s1"],
  );
  // The next iterator was learned from the GetRecords answer as it passed.
  await f.admin.doc.send(new PutCommand({ TableName: f.tableA, Item: { id: "s2", owner: "ada", kind: "web" } }));
  const second = await f.role.streams.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
  t.deepEqual(
    second.Records?.map((record) => record.dynamodb?.Keys?.id?.S),
    ["s2"],
  );

  // Stream B: no iterator for the role, and one the administrator obtained is still B's.
  const shardB = (await f.admin.streams.send(new DescribeStreamCommand({ StreamArn: f.streamB }))).StreamDescription!
    .Shards![0]!.ShardId!;
  t.is(
    (
      await failureOf(
        f.role.streams.send(
          new GetShardIteratorCommand({ StreamArn: f.streamB, ShardId: shardB, ShardIteratorType: "TRIM_HORIZON" }),
        ),
      )
    ).message,
    deniedMessage("dynamodb:GetShardIterator", f.streamB),
  );
  const adminIteratorB = await f.admin.streams.send(
    new GetShardIteratorCommand({ StreamArn: f.streamB, ShardId: shardB, ShardIteratorType: "TRIM_HORIZON" }),
  );
  t.is(
    (await failureOf(f.role.streams.send(new GetRecordsCommand({ ShardIterator: adminIteratorB.ShardIterator }))))
      .message,
    deniedMessage("dynamodb:GetRecords", f.streamB),
  );

  // An iterator for A that did not pass through the proxy is unknown: refused to the role, allowed to the administrator.
  const around = await f.direct.streams.send(
    new GetShardIteratorCommand({ StreamArn: f.streamA, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  const unknown = await failureOf(f.role.streams.send(new GetRecordsCommand({ ShardIterator: around.ShardIterator })));
  t.is(unknown.name, "AccessDeniedException");
  t.is(unknown.message, deniedMessage("dynamodb:GetRecords", "*"));
  t.like(f.logger.entries.at(-1)?.fields, {
    note: "shard iterator not issued through this proxy (unknown, forged or forgotten)",
  });
  t.is((await f.admin.streams.send(new GetRecordsCommand({ ShardIterator: around.ShardIterator }))).Records?.length, 2);
});

test("proxy: the administrator's key (not issued by the registry) passes everything", async (t) => {
  const f = await proxyFixture(t);
  const name = `iam-admin-${randomUUID().slice(0, 8)}`;
  await f.admin.db.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    }),
  );
  // The run's shared DynamoDB Local holds other files' tables and ListTables answers 100 names a page, in order:
  // start the page just before this test's names.
  const listed = await f.admin.db.send(new ListTablesCommand({ ExclusiveStartTableName: "iam-admin-" }));
  t.true(listed.TableNames?.includes(name));
  await f.admin.doc.send(new PutCommand({ TableName: f.tableB, Item: { id: "x" } }));
  await f.admin.db.send(new DeleteItemCommand({ TableName: f.tableB, Key: { id: { S: "x" } } }));
  await f.admin.db.send(new DeleteTableCommand({ TableName: name }));
  t.is((await failureOf(f.role.db.send(new ListTablesCommand({})))).message, deniedMessage("dynamodb:ListTables", "*"));
  t.deepEqual(
    f.logger.entries.map((entry) => entry.fields.action),
    ["dynamodb:ListTables"],
  );
});

interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly reusedSocket: boolean;
}

/** One POST as the SDK would send it, with only what matters: target, credential scope, JSON body. */
function rawPost(
  url: string,
  target: string,
  body: unknown,
  accessKeyId: string | undefined,
  agent?: Agent,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0", "x-amz-target": target };
  if (accessKeyId) {
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=0`;
  }
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      { host: hostname, port, method: "POST", path: "/", headers, ...(agent ? { agent } : {}) },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () =>
          resolve({
            status: answer.statusCode!,
            headers: answer.headers,
            body: Buffer.concat(chunks),
            reusedSocket: sent.reusedSocket,
          }),
        );
        answer.on("error", reject);
      },
    );
    sent.on("error", reject);
    sent.end(JSON.stringify(body));
  });
}

test("proxy: forwarding keeps DynamoDB Local's answers byte for byte, errors included, over kept-alive connections", async (t) => {
  const f = await proxyFixture(t);
  await f.admin.doc.send(
    new PutCommand({ TableName: f.tableA, Item: { id: "bytes", owner: "ada", kind: "web", n: 3, tags: ["x", "y"] } }),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const roleKey = f.registry.credentialsFor("slipway-api").accessKeyId;
  const requests: [string, unknown, string][] = [
    ["DynamoDB_20120810.GetItem", { TableName: f.tableA, Key: { id: { S: "bytes" } } }, roleKey],
    ["DynamoDB_20120810.GetItem", { TableName: f.tableA, Key: { id: { S: "absent" } } }, roleKey],
    ["DynamoDB_20120810.GetItem", { TableName: `missing-${f.tableA}`, Key: { id: { S: "x" } } }, ADMIN],
    ["DynamoDB_20120810.GetItem", { TableName: f.tableA, Key: { nope: { S: "x" } } }, roleKey],
  ];
  let reused = 0;
  for (const [target, body, key] of requests) {
    const direct = await rawPost(dynamoDb!.endpoint, target, body, key);
    const proxied = await rawPost(f.proxy.url, target, body, key, agent);
    t.is(proxied.status, direct.status);
    t.true(proxied.body.equals(direct.body), `${proxied.body.toString()} vs ${direct.body.toString()}`);
    for (const header of ["content-type", "content-length", "x-amz-crc32"])
      t.is(proxied.headers[header], direct.headers[header], header);
    t.truthy(proxied.headers["x-amzn-requestid"]);
    if (proxied.reusedSocket) reused++;
  }
  t.is(reused, requests.length - 1, "one connection carried every request");
});

test("proxy: its refusals are DynamoDB's, down to the headers", async (t) => {
  const f = await proxyFixture(t);
  const refused = await rawPost(
    f.proxy.url,
    "DynamoDB_20120810.DeleteItem",
    { TableName: f.tableA, Key: { id: { S: "1" } } },
    f.registry.credentialsFor("slipway-api").accessKeyId,
  );
  t.is(refused.status, 400);
  t.is(refused.headers["content-type"], "application/x-amz-json-1.0");
  t.regex(String(refused.headers["x-amzn-requestid"]), /^[A-Z0-9]{52}$/);
  t.is(refused.headers["x-amz-crc32"], String(crc32(refused.body)));
  t.deepEqual(JSON.parse(refused.body.toString()), {
    __type: "com.amazon.coral.service#AccessDeniedException",
    Message: deniedMessage("dynamodb:DeleteItem", dynamoDbLocalTableArn(f.tableA)),
  });

  const anonymous = await rawPost(f.proxy.url, "DynamoDB_20120810.ListTables", {}, undefined);
  t.is(anonymous.status, 400);
  t.deepEqual(JSON.parse(anonymous.body.toString()), {
    __type: "com.amazon.coral.service#MissingAuthenticationTokenException",
    message: "Request is missing Authentication Token",
  });
});

test("proxy: close ends kept-alive connections and stops listening", async (t) => {
  const registry = createPrincipalRegistry({ accountId: "000000000000", region: "ddblocal" });
  const proxy = await startDynamoDbProxy({
    target: dynamoDb!.endpoint,
    authorize: registry.authorize,
    resolveTableArn: dynamoDbLocalTableArn,
    logger: recordingLogger(),
  });
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  t.is((await rawPost(proxy.url, "DynamoDB_20120810.ListTables", {}, ADMIN, agent)).status, 200);
  const started = Date.now();
  await proxy.close();
  t.true(Date.now() - started < 1_000, "close does not wait for idle keep-alive connections");
  await t.throwsAsync(rawPost(proxy.url, "DynamoDB_20120810.ListTables", {}, ADMIN), { code: "ECONNREFUSED" } as never);
});

// ---- The AWS emulator's hook -----------------------------------------------------------------------------------------

test("emulatorAuthorize: the AWS emulator lets a role read its own secret and nothing else", async (t) => {
  const registry = createPrincipalRegistry({ accountId: "000000000000", region: "us-east-1" });
  const { accessKeyId } = registry.registerRole(
    "slipway-inspector",
    "arn:aws:iam::000000000000:role/slipway-inspector",
  );
  const logger = recordingLogger();
  const aws = await startAws({ authorize: emulatorAuthorize(registry, logger) });
  t.teardown(() => aws.close());
  const own = aws.putSecret("slipway/github-app-private-key", "-----BEGIN PRIVATE KEY-----");
  const other = aws.putSecret("someone-else/key", "not yours");
  registry.putRolePolicy("slipway-inspector", "inline", doc(allow("secretsmanager:GetSecretValue", own)));

  const role = new SecretsManagerClient(clientConfig(aws.url, accessKeyId));
  const admin = new SecretsManagerClient(clientConfig(aws.url, ADMIN));
  t.teardown(() => {
    role.destroy();
    admin.destroy();
  });
  t.is((await role.send(new GetSecretValueCommand({ SecretId: own }))).SecretString, "-----BEGIN PRIVATE KEY-----");
  t.is(
    (await role.send(new GetSecretValueCommand({ SecretId: "slipway/github-app-private-key" }))).SecretString,
    "-----BEGIN PRIVATE KEY-----",
  );
  const refused = await failureOf(role.send(new GetSecretValueCommand({ SecretId: other })));
  t.is(refused.name, "AccessDeniedException");
  t.regex(
    refused.message,
    /not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:.*someone-else\/key/,
  );
  t.is((await admin.send(new GetSecretValueCommand({ SecretId: other }))).SecretString, "not yours");
  t.deepEqual(
    logger.entries.map((entry) => entry.fields.reason),
    [
      `User: arn:aws:sts::000000000000:assumed-role/slipway-inspector/slipway-inspector is not authorized to perform: ` +
        `secretsmanager:GetSecretValue on resource: ${other} because no identity-based policy allows the ` +
        `secretsmanager:GetSecretValue action`,
    ],
  );
});
