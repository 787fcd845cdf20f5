import anyTest, { type TestFn } from "ava";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ApiDependencies } from "../../runtime/api/apiDependencies";
import { createDeployment, RETRY_ADVICE } from "../../runtime/api/createDeployment";
import { DeploymentStore } from "../../runtime/deployments/deploymentStore";
import { createRateLimiter, rateWindow } from "../../runtime/deployments/rateLimiter";
import type { ApiResult } from "../../runtime/http";
import { silentLogger } from "../../runtime/log";
import { postDeploymentEvent, responseJson } from "../helpers/apiEvents";
import { useDynamoDbLocal, type DynamoDbLocal } from "../helpers/dynamodbLocal";
import { createTables, scanAll, type TableNames } from "../helpers/tables";

/*
 * Issue 8, findings 4, 5, 6 and 8, and the attacker's bad inputs, against the deploy route's real code and DynamoDB
 * Local. Every refusal is checked three ways: the status, the error body, and that no table holds anything new.
 */

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;
useDynamoDbLocal(test);

/** 12:00:15 UTC: 45 s before the minute turns. */
const START = Date.parse("2030-06-01T12:00:15.000Z");

interface World {
  readonly tables: TableNames;
  readonly deps: ApiDependencies;
  readonly clock: { now: number };
  post(
    body: unknown,
    options?: { userId?: string; idempotencyKey?: string; headers?: Record<string, string> },
  ): Promise<ApiResult>;
  /** Every item of every table, by table. */
  contents(): Promise<Record<string, Record<string, unknown>[]>>;
}

async function world(
  t: { context: { local: DynamoDbLocal; client: DynamoDBDocumentClient } },
  limit = 3,
): Promise<World> {
  const { client, local } = t.context;
  const tables = await createTables(local.endpoint);
  const clock = { now: START };
  const now = () => new Date(clock.now);
  const deps: ApiDependencies = {
    deployments: new DeploymentStore({
      client,
      deploymentsTable: tables.deployments,
      idempotencyTable: tables.idempotency,
      clock: now,
      rateLimiter: createRateLimiter({ client, table: tables.rateLimits, scope: "deployments", limit, clock: now }),
    }),
    clock: now,
    logger: silentLogger,
  };
  return {
    tables,
    deps,
    clock,
    post: (body, options = {}) =>
      createDeployment(
        postDeploymentEvent(body, {
          userId: options.userId ?? "alice",
          ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
          ...(options.headers ? { headers: options.headers } : {}),
        }),
        deps,
      ),
    async contents() {
      const entries = await Promise.all(
        Object.entries(tables).map(async ([name, table]) => [name, await scanAll(client, table)] as const),
      );
      return Object.fromEntries(entries);
    },
  };
}

const errorOf = (result: ApiResult) =>
  responseJson<{ error: { code: string; message: string; field?: string } }>(result).error;

test("finding 4: at the per-minute limit a user gets 429 with Retry-After, writes nothing, and no one else is affected", async (t) => {
  const w = await world(t, 3);
  for (let i = 0; i < 3; i++) t.is((await w.post({ repository: `alice/app-${i}` })).statusCode, 202);
  const before = await w.contents();

  const refused = await w.post({ repository: "alice/one-too-many" });
  t.is(refused.statusCode, 429);
  t.is(refused.headers["retry-after"], "45", "seconds until the minute turns");
  t.deepEqual(errorOf(refused), {
    code: "DEPLOYMENTS_RATE_LIMITED",
    message:
      "You may start at most 3 deployments per minute. Try again in 45 s (the Retry-After header); nothing was recorded.",
  });
  t.deepEqual(await w.contents(), before, "a refused deployment writes nothing, not even to the counter");

  // Another user is untouched by alice's limit.
  t.is((await w.post({ repository: "bob/app" }, { userId: "bob" })).statusCode, 202);
  // A bad request at the limit is still a 400 (validation comes first) and is not counted either.
  t.is((await w.post({ repository: "alice" })).statusCode, 400);

  // The minute turns: alice may deploy again.
  w.clock.now = Date.parse("2030-06-01T12:01:00.000Z");
  t.is((await w.post({ repository: "alice/next-minute" })).statusCode, 202);
  const deployments = (await w.contents()).deployments!;
  t.is(deployments.filter((d) => d.userId === "alice").length, 4);
  t.is(deployments.filter((d) => d.userId === "bob").length, 1);
});

test("finding 4: concurrent requests cannot get past the limit together (one conditional counter per window)", async (t) => {
  const w = await world(t, 3);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => w.post({ repository: `alice/race-${i}` })));
  const statuses = results.map((r) => r.statusCode).sort();
  t.deepEqual(statuses, [202, 202, 202, ...Array<number>(9).fill(429)]);
  const { deployments, rateLimits } = await w.contents();
  t.is(deployments!.length, 3);
  t.is(rateLimits!.length, 1);
  t.like(rateLimits![0], { count: 3, key: rateWindow("deployments", "alice", START, 60).key });
  t.false(String(rateLimits![0]!.key).includes("alice"), "the counter's key holds a hash of the user id, not the id");
});

test("finding 4: a replay with the same Idempotency-Key is not counted, so a client retrying at the limit gets its deployment", async (t) => {
  const w = await world(t, 1);
  const first = await w.post({ repository: "alice/app" }, { idempotencyKey: "retry-me" });
  t.is(first.statusCode, 202);
  const retry = await w.post({ repository: "alice/app" }, { idempotencyKey: "retry-me" });
  t.is(retry.statusCode, 202);
  t.is(retry.headers["idempotent-replayed"], "true");
  t.is(responseJson<{ id: string }>(retry).id, responseJson<{ id: string }>(first).id);
  t.is((await w.post({ repository: "alice/other" }, { idempotencyKey: "new" })).statusCode, 429);
  t.is((await w.contents()).deployments!.length, 1);
});

test("finding 5: idempotency keys cannot cross users, whatever a user id contains", async (t) => {
  const w = await world(t, 10);
  const victim = await w.post({ repository: "victim/app" }, { userId: "victim#x", idempotencyKey: "k1" });
  const attacker = await w.post({ repository: "victim/app" }, { userId: "victim", idempotencyKey: "x#k1" });
  t.is(victim.statusCode, 202);
  t.is(attacker.statusCode, 202);
  t.is(attacker.headers["idempotent-replayed"], undefined, "not a replay of the other user's deployment");
  t.not(responseJson<{ id: string }>(attacker).id, responseJson<{ id: string }>(victim).id);
  const { deployments, idempotency } = await w.contents();
  t.deepEqual(deployments!.map((d) => d.userId).sort(), ["victim", "victim#x"]);
  t.is(new Set(idempotency!.map((r) => r.key)).size, 2, "two records, two keys");
});

test("finding 6: lone surrogates and the replacement character are 400s naming the field, and nothing is written", async (t) => {
  const w = await world(t);
  const cases: [string, Record<string, unknown>, string][] = [
    ["lone high surrogate in ref", { repository: "acme/shop", ref: "a\ud800" }, "ref"],
    ["lone low surrogate in ref", { repository: "acme/shop", ref: "\udc00main" }, "ref"],
    ["lone surrogate in rootDirectory", { repository: "acme/shop", rootDirectory: "apps/\ud83d" }, "rootDirectory"],
    ["U+FFFD in ref", { repository: "acme/shop", ref: "feature/\ufffd\ufffd" }, "ref"],
    ["U+FFFD in rootDirectory", { repository: "acme/shop", rootDirectory: "app\ufffd" }, "rootDirectory"],
    ["lone surrogate in repository", { repository: "acme/sh\ud800op" }, "repository"],
  ];
  for (const [what, body, field] of cases) {
    const result = await w.post(body);
    t.is(result.statusCode, 400, what);
    const error = errorOf(result);
    t.is(error.code, "INVALID_REQUEST", what);
    t.is(error.field, field, what);
    if (field !== "repository") t.regex(error.message, /surrogate|U\+FFFD/, what);
  }
  // Invalid UTF-8 as API Gateway hands it over: as text (decoded, so U+FFFD) or as base64 (the raw bytes).
  const bytes = Buffer.concat([
    Buffer.from('{"repository":"acme/shop","ref":"'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"}'),
  ]);
  const asText = await w.post(bytes.toString("utf8"));
  t.is(asText.statusCode, 400);
  t.is(errorOf(asText).field, "ref");
  const asBase64 = await createDeployment(
    postDeploymentEvent(bytes.toString("base64"), { userId: "alice", isBase64Encoded: true }),
    w.deps,
  );
  t.is(asBase64.statusCode, 400);
  t.is(errorOf(asBase64).field, "body");
  // Well-formed text outside ASCII is fine where git allows it: a surrogate pair is one character.
  t.is((await w.post({ repository: "acme/shop", ref: "feature/🚀-ünïcode" })).statusCode, 202);
  const { deployments, idempotency, rateLimits } = await w.contents();
  t.is(deployments!.length, 1);
  t.is(deployments![0]!.ref, "feature/🚀-ünïcode");
  t.deepEqual(idempotency, []);
  t.is(rateLimits![0]!.count, 1, "refused requests are not counted");
});

test("finding 8: a 500 after the write tells the client to retry with the same Idempotency-Key, which gets the one deployment", async (t) => {
  const w = await world(t, 10);
  // The deployment is written, then the function fails before answering (as a killed or timed-out one would).
  let failAfterWrite = true;
  const deps: ApiDependencies = {
    ...w.deps,
    deployments: {
      ...w.deps.deployments,
      get: (id, options) => w.deps.deployments.get(id, options),
      listByUser: (userId, options) => w.deps.deployments.listByUser(userId, options),
      create: async (deployment, idempotency) => {
        const created = await w.deps.deployments.create(deployment, idempotency);
        if (failAfterWrite) {
          failAfterWrite = false;
          throw new Error("socket hang up");
        }
        return created;
      },
    },
  };
  const event = () => postDeploymentEvent({ repository: "acme/shop" }, { userId: "alice", idempotencyKey: "once" });
  const failed = await createDeployment(event(), deps);
  t.is(failed.statusCode, 500);
  t.deepEqual(errorOf(failed), { code: "INTERNAL_ERROR", message: RETRY_ADVICE });
  t.regex(errorOf(failed).message, /Retry with the same Idempotency-Key/);
  const retried = await createDeployment(event(), deps);
  t.is(retried.statusCode, 202);
  t.is(retried.headers["idempotent-replayed"], "true");
  t.is((await w.contents()).deployments!.length, 1, "one deployment, not two");
});

/**
 * What an attacker sends: each a 400 naming the field, and nothing written anywhere. (Gateway-level attacks are in
 * http-api.test.ts; property-based mutations of every field in test/api-handlers.test.ts.)
 */
const BAD_INPUTS: readonly { what: string; body: string; field: string; headers?: Record<string, string> }[] = [
  { what: "empty body", body: "", field: "body" },
  { what: "whitespace", body: "   ", field: "body" },
  { what: "not JSON", body: "repository=acme/shop", field: "body" },
  { what: "truncated JSON", body: '{"repository": "acme/sh', field: "body" },
  { what: "JSON null", body: "null", field: "body" },
  { what: "JSON array", body: '[{"repository":"acme/shop"}]', field: "body" },
  { what: "JSON string", body: '"acme/shop"', field: "body" },
  { what: "over 4 KiB", body: JSON.stringify({ repository: "acme/shop", ref: "a".repeat(5000) }), field: "body" },
  { what: "prototype pollution", body: '{"repository":"acme/shop","__proto__":{"admin":true}}', field: "__proto__" },
  { what: "constructor key", body: '{"repository":"acme/shop","constructor":{}}', field: "constructor" },
  { what: "userId in the body", body: '{"repository":"acme/shop","userId":"bob"}', field: "userId" },
  { what: "status in the body", body: '{"repository":"acme/shop","status":"BUILDING"}', field: "status" },
  { what: "missing repository", body: '{"ref":"main"}', field: "repository" },
  { what: "repository as number", body: '{"repository":42}', field: "repository" },
  { what: "repository as object", body: '{"repository":{"owner":"acme","name":"shop"}}', field: "repository" },
  { what: "repository URL", body: '{"repository":"https://github.com/acme/shop"}', field: "repository" },
  { what: "repository traversal", body: '{"repository":"../../etc/passwd"}', field: "repository" },
  { what: "repository with query", body: '{"repository":"acme/shop?x=1"}', field: "repository" },
  { what: "repository with newline", body: '{"repository":"acme/shop\\n"}', field: "repository" },
  { what: "repository with NUL", body: '{"repository":"acme/sh\\u0000op"}', field: "repository" },
  { what: "repository with homoglyph", body: '{"repository":"аcme/shop"}', field: "repository" },
  { what: "ref as array", body: '{"repository":"acme/shop","ref":["main"]}', field: "ref" },
  { what: "ref command substitution", body: '{"repository":"acme/shop","ref":"$(curl evil)"}', field: "ref" },
  { what: "ref semicolon and space", body: '{"repository":"acme/shop","ref":"main; rm -rf /"}', field: "ref" },
  { what: "ref option injection", body: '{"repository":"acme/shop","ref":"--upload-pack=evil"}', field: "ref" },
  { what: "ref newline", body: '{"repository":"acme/shop","ref":"main\\nevil"}', field: "ref" },
  { what: "ref traversal", body: '{"repository":"acme/shop","ref":"../../HEAD"}', field: "ref" },
  { what: "ref reflog syntax", body: '{"repository":"acme/shop","ref":"main@{1}"}', field: "ref" },
  { what: "ref too long", body: JSON.stringify({ repository: "acme/shop", ref: "r".repeat(256) }), field: "ref" },
  { what: "ref lone surrogate", body: '{"repository":"acme/shop","ref":"a\\ud800"}', field: "ref" },
  { what: "rootDirectory absolute", body: '{"repository":"acme/shop","rootDirectory":"/etc"}', field: "rootDirectory" },
  {
    what: "rootDirectory traversal",
    body: '{"repository":"acme/shop","rootDirectory":"apps/../../x"}',
    field: "rootDirectory",
  },
  {
    what: "rootDirectory backslash",
    body: '{"repository":"acme/shop","rootDirectory":"..\\\\x"}',
    field: "rootDirectory",
  },
  { what: "rootDirectory NUL", body: '{"repository":"acme/shop","rootDirectory":"a\\u0000b"}', field: "rootDirectory" },
  { what: "rootDirectory number", body: '{"repository":"acme/shop","rootDirectory":1}', field: "rootDirectory" },
  {
    what: "rootDirectory replacement char",
    body: '{"repository":"acme/shop","rootDirectory":"a\\ufffd"}',
    field: "rootDirectory",
  },
  {
    what: "form post",
    body: "repository=acme%2Fshop",
    field: "content-type",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  },
  {
    what: "text/plain",
    body: '{"repository":"acme/shop"}',
    field: "content-type",
    headers: { "content-type": "text/plain" },
  },
  {
    what: "empty Idempotency-Key",
    body: '{"repository":"acme/shop"}',
    field: "idempotency-key",
    headers: { "idempotency-key": "" },
  },
  {
    what: "non-ASCII Idempotency-Key",
    body: '{"repository":"acme/shop"}',
    field: "idempotency-key",
    headers: { "idempotency-key": "ключ" },
  },
  {
    what: "Idempotency-Key with a control character",
    body: '{"repository":"acme/shop"}',
    field: "idempotency-key",
    headers: { "idempotency-key": "a\u0001b" },
  },
  {
    what: "Idempotency-Key over 255",
    body: '{"repository":"acme/shop"}',
    field: "idempotency-key",
    headers: { "idempotency-key": "k".repeat(256) },
  },
];

test("bad inputs: each is a 400 naming the field with a fix, and nothing is written to any table", async (t) => {
  const w = await world(t);
  for (const { what, body, field, headers } of BAD_INPUTS) {
    const result = await w.post(body, { ...(headers ? { headers } : {}) });
    t.is(result.statusCode, 400, what);
    const error = errorOf(result);
    t.is(error.code, "INVALID_REQUEST", what);
    t.is(error.field, field, what);
    t.true(error.message.length > 20, `${what}: the message says how to fix it`);
    t.false(error.message.includes("evil"), `${what}: the message does not echo the payload`);
  }
  t.deepEqual(await w.contents(), {
    deployments: [],
    installations: [],
    idempotency: [],
    rateLimits: [],
    buildSlots: [],
  });
});

test("a request with a user id nobody else could reach still only touches its own counter and records", async (t) => {
  const w = await world(t, 1);
  const odd = ["", "#", "a#b#c", "\u0000", "x".repeat(2000), "🚀"].map((suffix) => `user${suffix}`);
  for (const userId of odd)
    t.is((await w.post({ repository: "acme/shop" }, { userId, idempotencyKey: "k" })).statusCode, 202);
  const { deployments, rateLimits, idempotency } = await w.contents();
  t.is(deployments!.length, odd.length);
  t.is(rateLimits!.length, odd.length, "one counter per user");
  t.is(idempotency!.length, odd.length, "one key record per user");
  t.true(
    rateLimits!.every((item) => String(item.key).length < 120),
    "keys stay short whatever the user id",
  );
});
