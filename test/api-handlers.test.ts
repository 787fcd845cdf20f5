import { randomUUID } from "node:crypto";
import anyTest, { type TestFn } from "ava";
import fc from "fast-check";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { ApiDependencies } from "../runtime/api/apiDependencies";
import { createDeployment, RETRY_ADVICE } from "../runtime/api/createDeployment";
import { getDeployment } from "../runtime/api/getDeployment";
import { createDeployHandler, createGetDeploymentHandler, createListDeploymentsHandler } from "../runtime/api/handlers";
import { listDeployments } from "../runtime/api/listDeployments";
import { PUBLIC_FIELDS, type Deployment } from "../runtime/deployment";
import { DeploymentStore } from "../runtime/deployments/deploymentStore";
import { ENV } from "../runtime/environment";
import type { ApiResult } from "../runtime/http";
import { createLogger } from "../runtime/log";
import {
  getDeploymentEvent,
  invalidDeploymentRequest,
  listDeploymentsEvent,
  postDeploymentEvent,
  responseJson,
} from "./helpers/apiEvents";
import { LOCAL_AWS, useDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createTables, scanAll, type TableNames } from "./helpers/tables";

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;

useDynamoDbLocal(test);

const NOW = new Date("2030-06-01T12:00:00.000Z");

interface Fixture {
  readonly tables: TableNames;
  readonly deps: ApiDependencies;
  readonly ids: string[];
  readonly logs: Record<string, unknown>[];
}

/** Fresh tables, a real store over them, a fixed clock, and ids we can predict. */
async function fixture(client: DynamoDBDocumentClient, endpoint: string): Promise<Fixture> {
  const tables = await createTables(endpoint);
  const ids: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const deps: ApiDependencies = {
    deployments: new DeploymentStore({
      client,
      deploymentsTable: tables.deployments,
      idempotencyTable: tables.idempotency,
      clock: () => NOW,
    }),
    clock: () => NOW,
    randomUUID: () => {
      const id = randomUUID();
      ids.push(id);
      return id;
    },
    logger: createLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
  };
  return { tables, deps, ids, logs };
}

function errorOf(result: ApiResult) {
  return responseJson<{ error: { code: string; message: string; field?: string } }>(result).error;
}

test("POST /deployments records a PENDING deployment for the JWT's user and answers 202 with its public fields", async (t) => {
  const { deps, ids, tables, logs } = await fixture(t.context.client, t.context.local.endpoint);
  const result = await createDeployment(
    postDeploymentEvent({ repository: "acme/shop", ref: "main", rootDirectory: "./apps/web/" }, { userId: "alice" }),
    deps,
  );
  t.is(result.statusCode, 202);
  t.is(result.headers["content-type"], "application/json");
  t.is(result.headers.location, `/deployments/${ids[0]}`);
  t.is(result.headers["idempotent-replayed"], undefined);
  t.deepEqual(responseJson(result), {
    id: ids[0],
    repository: "acme/shop",
    ref: "main",
    rootDirectory: "apps/web",
    status: "PENDING",
    trigger: "manual",
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    history: [{ status: "PENDING", at: NOW.toISOString() }],
  });
  const [stored] = await scanAll(t.context.client, tables.deployments);
  t.like(stored, {
    id: ids[0],
    userId: "alice",
    status: "PENDING",
    rootDirectory: "apps/web",
    rootDirectoryRequested: true,
  });
  t.deepEqual(await scanAll(t.context.client, tables.idempotency), [], "no key, no idempotency record");
  t.like(logs[0], { level: "info", message: "deployment created", deploymentId: ids[0] });
});

test("without a rootDirectory the deployment leaves detection free to choose", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const result = await createDeployment(postDeploymentEvent({ repository: "acme/shop" }), deps);
  t.is(result.statusCode, 202);
  const [stored] = await scanAll(t.context.client, tables.deployments);
  t.false("rootDirectoryRequested" in (stored ?? {}));
  t.false("rootDirectory" in (stored ?? {}));
  t.false("ref" in (stored ?? {}));
});

test("a request without a user (no sub claim) is a 401 and writes nothing", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  for (const result of [
    await createDeployment(postDeploymentEvent({ repository: "acme/shop" }, { userId: null }), deps),
    await createDeployment(postDeploymentEvent({ repository: "acme/shop" }, { userId: "" }), deps),
    await getDeployment(getDeploymentEvent(randomUUID(), { userId: null }), deps),
    await listDeployments(listDeploymentsEvent({}, { userId: null }), deps),
  ]) {
    t.is(result.statusCode, 401);
    t.is(errorOf(result).code, "UNAUTHENTICATED");
  }
  t.deepEqual(await scanAll(t.context.client, tables.deployments), []);
});

test("the user comes from the token, never the body", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const result = await createDeployment(postDeploymentEvent({ repository: "acme/shop", userId: "mallory" }), deps);
  t.is(result.statusCode, 400);
  t.is(errorOf(result).field, "userId");
  t.deepEqual(await scanAll(t.context.client, tables.deployments), []);
});

test("every bad request is a 400 naming the field, and nothing is written", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const examples: [string, string, Record<string, string>?][] = [
    ["", "body"],
    ["not json", "body"],
    ["[1]", "body"],
    ["{}", "repository"],
    ['{"repository": "acme"}', "repository"],
    ['{"repository": "acme/shop", "ref": "bad..ref"}', "ref"],
    ['{"repository": "acme/shop", "rootDirectory": "../up"}', "rootDirectory"],
    ['{"repository": "acme/shop", "extra": 1}', "extra"],
    [JSON.stringify({ repository: "acme/shop", ref: "r".repeat(5000) }), "body"],
    ['{"repository": "acme/shop"}', "content-type", { "content-type": "text/plain" }],
    ['{"repository": "acme/shop"}', "idempotency-key", { "idempotency-key": "" }],
    ['{"repository": "acme/shop"}', "idempotency-key", { "idempotency-key": "é" }],
  ];
  for (const [body, field, headers] of examples) {
    const result = await createDeployment(postDeploymentEvent(body, { headers: headers ?? {} }), deps);
    t.is(result.statusCode, 400, body.slice(0, 80));
    const error = errorOf(result);
    t.is(error.code, "INVALID_REQUEST");
    t.is(error.field, field, body.slice(0, 80));
    t.true(error.message.length > 0);
  }
  await fc.assert(
    fc.asyncProperty(invalidDeploymentRequest, fc.boolean(), async ({ body, field, mutation }, withKey) => {
      const event = postDeploymentEvent(body, withKey ? { idempotencyKey: randomUUID() } : {});
      const result = await createDeployment(event, deps);
      if (result.statusCode !== 400 || errorOf(result).field !== field) {
        throw new Error(`${mutation}: expected 400 on ${field}, got ${result.statusCode} ${result.body}`);
      }
    }),
    { numRuns: 200 },
  );
  t.deepEqual(await scanAll(t.context.client, tables.deployments), []);
  t.deepEqual(await scanAll(t.context.client, tables.idempotency), []);
});

test("Idempotency-Key: a retry of the same request gets the same deployment; another body gets a 422", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const key = randomUUID();
  const first = await createDeployment(
    postDeploymentEvent({ repository: "acme/shop", rootDirectory: "apps/web" }, { idempotencyKey: key }),
    deps,
  );
  t.is(first.statusCode, 202);
  // The same request written differently: other field order, another spelling of the same folder.
  const retry = await createDeployment(
    postDeploymentEvent('{"rootDirectory": "./apps/web/", "repository": "acme/shop"}', { idempotencyKey: key }),
    deps,
  );
  t.is(retry.statusCode, 202);
  t.is(retry.headers["idempotent-replayed"], "true");
  t.is(retry.headers.location, first.headers.location);
  t.deepEqual(responseJson(retry), responseJson(first));

  const other = await createDeployment(
    postDeploymentEvent({ repository: "acme/shop", rootDirectory: "apps/api" }, { idempotencyKey: key }),
    deps,
  );
  t.is(other.statusCode, 422);
  t.is(errorOf(other).code, "IDEMPOTENCY_KEY_REUSED");
  t.regex(errorOf(other).message, /new Idempotency-Key/);

  const otherUser = await createDeployment(
    postDeploymentEvent({ repository: "acme/shop", rootDirectory: "apps/web" }, { idempotencyKey: key, userId: "bob" }),
    deps,
  );
  t.is(otherUser.statusCode, 202, "keys belong to their user");
  t.not(responseJson(otherUser).id, responseJson(first).id);
  t.is((await scanAll(t.context.client, tables.deployments)).length, 2);
});

test("Idempotency-Key: concurrent identical POSTs create exactly one deployment", async (t) => {
  const { deps, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const key = randomUUID();
  const results = await Promise.all(
    Array.from({ length: 6 }, () =>
      createDeployment(postDeploymentEvent({ repository: "acme/shop" }, { idempotencyKey: key }), deps),
    ),
  );
  t.true(results.every((r) => r.statusCode === 202));
  t.is(new Set(results.map((r) => responseJson(r).id)).size, 1);
  t.is(results.filter((r) => r.headers["idempotent-replayed"] === "true").length, 5);
  t.is((await scanAll(t.context.client, tables.deployments)).length, 1);
});

test("GET /deployments/{id}: the owner sees it; anyone else, a malformed or an unknown id get the same 404", async (t) => {
  const { deps } = await fixture(t.context.client, t.context.local.endpoint);
  const created = await createDeployment(postDeploymentEvent({ repository: "acme/shop" }, { userId: "alice" }), deps);
  const id = responseJson<{ id: string }>(created).id;

  const mine = await getDeployment(getDeploymentEvent(id, { userId: "alice" }), deps);
  t.is(mine.statusCode, 200);
  t.deepEqual(responseJson(mine), responseJson(created));
  t.true(Object.keys(responseJson(mine)).every((k) => (PUBLIC_FIELDS as readonly string[]).includes(k)));
  await (deps.deployments as DeploymentStore).transition(id, "CANCELED", {
    statusReason: { code: "CANCELED", message: "asked" },
  });
  const history = responseJson<{ history: { status: string; reasonCode?: string }[] }>(
    await getDeployment(getDeploymentEvent(id, { userId: "alice" }), deps),
  ).history;
  t.deepEqual(
    history.map((entry) => [entry.status, entry.reasonCode]),
    [
      ["PENDING", undefined],
      ["CANCELED", "CANCELED"],
    ],
    "GET /deployments/{id} shows each status entered, with the reason's code",
  );

  const notFound = [
    await getDeployment(getDeploymentEvent(id, { userId: "bob" }), deps),
    await getDeployment(getDeploymentEvent("not-a-uuid", { userId: "alice" }), deps),
    await getDeployment(getDeploymentEvent(id.toUpperCase(), { userId: "alice" }), deps),
    await getDeployment(getDeploymentEvent(randomUUID(), { userId: "alice" }), deps),
  ];
  for (const result of notFound) {
    t.is(result.statusCode, 404);
    t.is(result.body, notFound[0]?.body, "one body for every 404: existence cannot be probed");
  }
  t.is(errorOf(notFound[0] as ApiResult).code, "DEPLOYMENT_NOT_FOUND");
});

test("GET /deployments lists the caller's deployments newest first, page by page", async (t) => {
  const { deps } = await fixture(t.context.client, t.context.local.endpoint);
  const store = deps.deployments as DeploymentStore;
  const base = Date.parse("2030-01-01T00:00:00.000Z");
  const mine: Deployment[] = Array.from({ length: 5 }, (_, i) => ({
    id: randomUUID(),
    userId: "alice",
    repository: `acme/app-${i}`,
    status: "PENDING",
    attempts: 3,
    createdAt: new Date(base + i * 1000).toISOString(),
    updatedAt: new Date(base + i * 1000).toISOString(),
  }));
  await Promise.all([...mine, { ...mine[0]!, id: randomUUID(), userId: "bob" }].map((d) => store.create(d)));

  const pages: { items: Record<string, unknown>[]; nextCursor?: string }[] = [];
  let cursor: string | undefined;
  do {
    const result = await listDeployments(
      listDeploymentsEvent({ limit: "2", ...(cursor ? { cursor } : {}) }, { userId: "alice" }),
      deps,
    );
    t.is(result.statusCode, 200);
    const page = responseJson<{ items: Record<string, unknown>[]; nextCursor?: string }>(result);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  t.deepEqual(
    pages.map((p) => p.items.length),
    [2, 2, 1],
  );
  t.false("nextCursor" in (pages[2] ?? {}), "the last page has no nextCursor");
  t.deepEqual(
    pages.flatMap((p) => p.items.map((d) => d.repository)),
    ["acme/app-4", "acme/app-3", "acme/app-2", "acme/app-1", "acme/app-0"],
  );
  t.true(
    pages.flatMap((p) => p.items).every((d) => !("userId" in d) && !("attempts" in d)),
    "public fields only",
  );
  t.true(
    pages.flatMap((p) => p.items).every((d) => !("history" in d)),
    "list items leave the history to GET /deployments/{id}",
  );

  const all = responseJson<{ items: unknown[] }>(
    await listDeployments(listDeploymentsEvent({}, { userId: "alice" }), deps),
  );
  t.is(all.items.length, 5, "default limit 20 covers them all");
  t.deepEqual(responseJson(await listDeployments(listDeploymentsEvent({}, { userId: "carol" }), deps)), { items: [] });
});

test("GET /deployments refuses a bad limit, a tampered cursor and another user's cursor with a 400", async (t) => {
  const { deps } = await fixture(t.context.client, t.context.local.endpoint);
  for (let i = 0; i < 3; i++)
    await createDeployment(postDeploymentEvent({ repository: `acme/app-${i}` }, { userId: "alice" }), deps);
  const first = responseJson<{ nextCursor: string }>(
    await listDeployments(listDeploymentsEvent({ limit: "1" }, { userId: "alice" }), deps),
  );
  t.truthy(first.nextCursor);

  const refusals: [Record<string, string>, string, string][] = [
    [{ limit: "0" }, "alice", "limit"],
    [{ limit: "101" }, "alice", "limit"],
    [{ limit: "ten" }, "alice", "limit"],
    [{ cursor: first.nextCursor.slice(0, -2) }, "alice", "cursor"],
    [{ cursor: "bm90LWEtY3Vyc29y" }, "alice", "cursor"],
    [{ cursor: first.nextCursor }, "bob", "cursor"],
  ];
  for (const [query, userId, field] of refusals) {
    const result = await listDeployments(listDeploymentsEvent(query, { userId }), deps);
    t.is(result.statusCode, 400, JSON.stringify(query));
    t.is(errorOf(result).field, field, JSON.stringify(query));
  }
});

test("an unexpected failure is a generic 500, logged as facts without the request's body or headers", async (t) => {
  const logs: Record<string, unknown>[] = [];
  const deps: ApiDependencies = {
    // A table that does not exist: the SDK's real ResourceNotFoundException, which no route expects.
    deployments: new DeploymentStore({
      client: t.context.client,
      deploymentsTable: `missing-${randomUUID()}`,
      idempotencyTable: `missing-${randomUUID()}`,
    }),
    logger: createLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
  };
  const event = postDeploymentEvent(
    { repository: "acme/secret-repo" },
    { idempotencyKey: "key-value-123", headers: { authorization: "Bearer token-value-xyz" } },
  );
  const created = await createDeployment(event, deps);
  t.is(created.statusCode, 500);
  t.deepEqual(errorOf(created), { code: "INTERNAL_ERROR", message: RETRY_ADVICE }, "POST says how to retry safely");
  for (const result of [
    await getDeployment(getDeploymentEvent(randomUUID()), deps),
    await listDeployments(listDeploymentsEvent(), deps),
  ]) {
    t.is(result.statusCode, 500);
    t.deepEqual(errorOf(result), {
      code: "INTERNAL_ERROR",
      message: "Something went wrong on our side. Try again in a moment.",
    });
  }
  const errors = logs.filter((l) => l.level === "error");
  t.is(errors.length, 3);
  t.like(errors[0], { message: "request failed", code: "ResourceNotFoundException", routeKey: "POST /deployments" });
  t.truthy(errors[0]?.requestId);
  const logged = JSON.stringify(logs);
  for (const secret of ["token-value-xyz", "key-value-123", "secret-repo"]) t.false(logged.includes(secret), secret);
});

test("the handler factories read their environment once and serve all three routes against DynamoDB Local", async (t) => {
  const tables = await createTables(t.context.local.endpoint);
  // The factories build their own SDK client from the ambient AWS configuration, as in Lambda; this test file runs in
  // its own process, so these settings reach no other test.
  Object.assign(process.env, {
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  const env = {
    [ENV.deploymentsTable]: tables.deployments,
    [ENV.idempotencyTable]: tables.idempotency,
    [ENV.rateLimitsTable]: tables.rateLimits,
    [ENV.deploymentsPerUserPerMinute]: "10",
    [ENV.dynamodbEndpoint]: t.context.local.endpoint,
  };
  const deploy = createDeployHandler(env);
  const get = createGetDeploymentHandler(env);
  const list = createListDeploymentsHandler(env);

  const created = await deploy(
    postDeploymentEvent({ repository: "acme/shop" }, { userId: "alice", idempotencyKey: "k1" }),
  );
  t.is(created.statusCode, 202);
  const { id } = responseJson<{ id: string }>(created);
  const replayed = await deploy(
    postDeploymentEvent({ repository: "acme/shop" }, { userId: "alice", idempotencyKey: "k1" }),
  );
  t.is(responseJson(replayed).id, id);
  t.is((await get(getDeploymentEvent(id, { userId: "alice" }))).statusCode, 200);
  t.is((await get(getDeploymentEvent(id, { userId: "bob" }))).statusCode, 404);
  t.deepEqual(
    responseJson<{ items: { id: string }[] }>(await list(listDeploymentsEvent({}, { userId: "alice" }))).items.map(
      (d) => d.id,
    ),
    [id],
  );

  t.throws(() => createDeployHandler({ [ENV.deploymentsTable]: "x" }), { message: /IDEMPOTENCY_TABLE/ });
  t.throws(() => createGetDeploymentHandler({}), { message: /DEPLOYMENTS_TABLE/ });
});
