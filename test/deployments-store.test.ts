import { randomUUID } from "node:crypto";
import anyTest, { type TestFn } from "ava";
import { PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Deployment } from "../runtime/deployment";
import { idempotencyRecordKey } from "../runtime/deployments/idempotencyRecordKey";
import { DeploymentStore, withFirstHistoryEntry } from "../runtime/deployments/deploymentStore";
import { InstallationStore } from "../runtime/deployments/installationStore";
import { isConflictError, isValidationError } from "../runtime/errors";
import { FINAL_STATUSES, STATUSES, TRANSITIONS, type DeploymentStatus } from "../runtime/schema";
import { useDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createTables, scanAll, type TableNames } from "./helpers/tables";

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;

useDynamoDbLocal(test);

const FIXED_NOW = new Date("2030-01-02T03:04:05.000Z");

/** Fresh tables and a store over them, so tests can run concurrently without seeing each other's items. */
async function fixture(client: DynamoDBDocumentClient, endpoint: string, clock: () => Date = () => FIXED_NOW) {
  const tables = await createTables(endpoint);
  const store = new DeploymentStore({
    client,
    deploymentsTable: tables.deployments,
    idempotencyTable: tables.idempotency,
    clock,
    sleep: async () => {},
  });
  return { tables, store };
}

function newDeployment(overrides: Partial<Deployment> = {}): Deployment {
  const createdAt = overrides.createdAt ?? new Date().toISOString();
  return {
    id: randomUUID(),
    userId: "user-1",
    repository: "acme/shop",
    status: "PENDING",
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

async function storedStatus(store: DeploymentStore, id: string) {
  return (await store.get(id, { consistent: true }))?.status;
}

/** Puts a deployment in `status` directly (skipping the path through the state machine), for transition tests. */
async function seed(store: DeploymentStore, status: DeploymentStatus): Promise<Deployment> {
  const { deployment } = await store.create(newDeployment({ status }));
  return deployment;
}

test.serial(
  "create stores a deployment that get reads back; a second create with the same id is refused",
  async (t) => {
    const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
    const asked = newDeployment({ ref: "main", rootDirectory: undefined });
    const deployment = withFirstHistoryEntry(asked);
    t.deepEqual(deployment.history, [{ status: "PENDING", at: asked.createdAt }], "the history starts at creation");
    t.deepEqual(await store.create(asked), { deployment, replayed: false });
    const stored = await store.get(deployment.id, { consistent: true });
    t.deepEqual(stored, JSON.parse(JSON.stringify(deployment)) as Deployment);
    t.false("rootDirectory" in (stored ?? {}), "undefined fields are not stored");
    t.is(await store.get(randomUUID()), undefined);

    const clash = await t.throwsAsync(store.create({ ...deployment, repository: "evil/overwrite" }));
    t.true(isConflictError(clash));
    t.is((await store.get(deployment.id, { consistent: true }))?.repository, "acme/shop");
    t.is((await scanAll(t.context.client, tables.deployments)).length, 1);
  },
);

// Every (from, to) pair: the move happens exactly when TRANSITIONS allows it, and a refused move changes nothing.
// One table per starting status (each pair on its own deployment), to keep DynamoDB Local's table count down.
for (const from of STATUSES) {
  test.serial(`transitions from ${from}: exactly those TRANSITIONS allows`, async (t) => {
    const { store } = await fixture(t.context.client, t.context.local.endpoint);
    for (const to of STATUSES) {
      const allowed = TRANSITIONS[from].includes(to);
      const seeded = await seed(store, from);
      const moved = await store.transition(seeded.id, to, { statusReason: { code: "X", message: "why" } });
      const after = await store.get(seeded.id, { consistent: true });
      if (allowed) {
        t.is(moved?.status, to, `${from} → ${to}`);
        t.deepEqual(moved?.statusReason, { code: "X", message: "why" });
        t.is(moved?.updatedAt, FIXED_NOW.toISOString());
        t.deepEqual(after, moved);
      } else {
        t.is(moved, undefined, `${from} → ${to} refused`);
        t.deepEqual(after, seeded, "a refused transition leaves the item untouched");
      }
    }
  });
}

test.serial("no move out of a final status, of any kind", (t) => {
  for (const status of FINAL_STATUSES) t.deepEqual(TRANSITIONS[status], [], status);
  for (const status of STATUSES.filter((s) => !FINAL_STATUSES.includes(s))) {
    t.true(TRANSITIONS[status].includes("CANCELED"), `${status} can be canceled`);
  }
});

test.serial(
  "from narrows where a move may start; whenBuild refuses a deployment that records another build",
  async (t) => {
    const { store } = await fixture(t.context.client, t.context.local.endpoint);
    const building = await seed(store, "BUILDING");
    await store.update(building.id, { buildId: "proj:1" }, { whenStatus: "BUILDING" });
    t.is(await store.transition(building.id, "FAILED", {}, { from: ["PENDING", "PROCESSING"] }), undefined);
    t.is(await store.transition(building.id, "SUCCEEDED", {}, { whenBuild: "proj:2" }), undefined);
    t.is(await storedStatus(store, building.id), "BUILDING");
    t.is((await store.transition(building.id, "SUCCEEDED", {}, { whenBuild: "proj:1" }))?.status, "SUCCEEDED");
    const processing = await seed(store, "PROCESSING");
    const adopted = await store.transition(processing.id, "BUILDING", { buildId: "proj:3" }, { whenBuild: "proj:3" });
    t.is(adopted?.buildId, "proj:3", "no build recorded yet: whenBuild lets it through");
  },
);

test.serial(
  "the sparse index keys follow the status: QUEUED and BUILDING carry them, final statuses drop them",
  async (t) => {
    const { store } = await fixture(t.context.client, t.context.local.endpoint);
    const { id } = await seed(store, "PROCESSING");
    const queued = await store.transition(id, "QUEUED");
    t.is(queued?.activeStatus, "QUEUED");
    t.is(queued?.activeAt, FIXED_NOW.toISOString());
    t.is(queued?.queuedUserId, "user-1", "copied from userId");
    const building = await store.transition(id, "BUILDING", { buildId: "p:1" });
    t.is(building?.activeStatus, "BUILDING");
    t.is(building?.queuedUserId, undefined);
    const done = await store.transition(id, "SUCCEEDED");
    t.is(done?.activeStatus, undefined);
    t.is(done?.activeAt, undefined);
    const refused = await t.throwsAsync(store.transition(id, "FAILED", { activeStatus: "BUILDING" }));
    t.regex(refused!.message, /activeStatus cannot be set/);
  },
);

test.serial(
  "queuedByUser lists a user's QUEUED deployments oldest first; activeBefore pages one status by last activity",
  async (t) => {
    let now = new Date("2030-01-01T00:00:00.000Z");
    const { store } = await fixture(t.context.client, t.context.local.endpoint, () => now);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { deployment } = await store.create(
        newDeployment({ status: "PROCESSING", createdAt: `2030-01-01T00:00:0${i}.000Z` }),
      );
      ids.push(deployment.id);
    }
    const other = (await store.create(newDeployment({ status: "PROCESSING", userId: "user-2" }))).deployment;
    for (const id of [ids[2]!, ids[0]!, ids[1]!, other.id]) {
      now = new Date(now.getTime() + 1000);
      await store.transition(id, "QUEUED");
    }
    t.deepEqual(
      (await store.queuedByUser("user-1", 10)).map((d) => d.id),
      ids,
    );
    await store.transition(ids[0]!, "BUILDING", { buildId: "p:1" });
    const page1 = await store.activeBefore("QUEUED", "2030-01-01T00:00:04.000Z", { limit: 1 });
    t.deepEqual(
      page1.items.map((d) => d.id),
      [ids[2]],
    );
    const page2 = await store.activeBefore("QUEUED", "2030-01-01T00:00:04.000Z", {
      limit: 5,
      cursor: page1.nextCursor!,
    });
    t.deepEqual(
      page2.items.map((d) => d.id),
      [ids[1]],
      "the BUILDING one left the QUEUED partition; user-2's is newer",
    );
    t.deepEqual(
      (await store.activeBefore("BUILDING", "2031-01-01T00:00:00.000Z", { limit: 5 })).items.map((d) => d.id),
      [ids[0]],
    );
  },
);

test.serial(
  "recordProgress moves the phase forward only: an older or repeated observation changes nothing",
  async (t) => {
    const { store } = await fixture(t.context.client, t.context.local.endpoint);
    const { id } = await seed(store, "PROCESSING");
    await store.transition(id, "BUILDING", { buildId: "p:1" });
    const at = (s: number) => `2030-01-01T00:00:${String(s).padStart(2, "0")}.000Z`;
    t.is(
      (await store.recordProgress(id, "p:1", { phase: "INSTALL", phaseRank: 4, phaseAt: at(10) }))?.phase,
      "INSTALL",
    );
    t.is(await store.recordProgress(id, "p:1", { phase: "PROVISIONING", phaseRank: 2, phaseAt: at(20) }), undefined);
    t.is(await store.recordProgress(id, "p:1", { phase: "INSTALL", phaseRank: 4, phaseAt: at(10) }), undefined);
    t.is(
      await store.recordProgress(id, "p:2", { phase: "BUILD", phaseRank: 6, phaseAt: at(30) }),
      undefined,
      "another build",
    );
    t.is((await store.recordProgress(id, "p:1", { phase: "INSTALL", phaseRank: 4, phaseAt: at(11) }))?.phaseAt, at(11));
    t.is((await store.recordProgress(id, "p:1", { phase: "BUILD", phaseRank: 6, phaseAt: at(5) }))?.phase, "BUILD");
    await store.transition(id, "SUCCEEDED");
    t.is(await store.recordProgress(id, "p:1", { phase: "COMPLETED", phaseRank: 10, phaseAt: at(40) }), undefined);
  },
);

test.serial("a claim cannot happen twice: two concurrent PENDING → PROCESSING moves, one wins", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const { id } = await seed(store, "PENDING");
  // PROCESSING → PROCESSING is allowed (resume), so race PENDING → FAILED instead to see exactly one winner.
  const results = await Promise.all([store.transition(id, "FAILED"), store.transition(id, "FAILED")]);
  t.is(results.filter((r) => r !== undefined).length, 1);
  t.is(await storedStatus(store, id), "FAILED");
});

test.serial("resume: PROCESSING → PROCESSING is allowed and counts attempts", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const { id } = await seed(store, "PENDING");
  const first = await store.transition(id, "PROCESSING", {}, { incrementAttempts: true });
  t.is(first?.attempts, 1, "ADD on a missing attribute starts from 0");
  const resumed = await store.transition(id, "PROCESSING", {}, { incrementAttempts: true });
  t.is(resumed?.status, "PROCESSING");
  t.is(resumed?.attempts, 2);
  const building = await store.transition(id, "BUILDING", { buildId: "proj:1" });
  t.is(building?.attempts, 2, "a move without incrementAttempts keeps the count");
  t.is(building?.buildId, "proj:1");
});

test.serial(
  "history: each move appends { status, at } in the write that makes it, with the reason's code",
  async (t) => {
    let now = new Date("2030-01-02T03:00:00.000Z");
    const tick = () => (now = new Date(now.getTime() + 1000));
    const { store } = await fixture(t.context.client, t.context.local.endpoint, () => now);
    const { id, createdAt } = await seed(store, "PENDING");
    const at = (n: number) => new Date(Date.parse("2030-01-02T03:00:00.000Z") + n * 1000).toISOString();
    tick();
    await store.transition(id, "PROCESSING", {}, { incrementAttempts: true });
    tick();
    await store.transition(id, "PROCESSING", {}, { incrementAttempts: true }); // a resume is recorded as one
    tick();
    await store.transition(id, "QUEUED");
    tick();
    await store.update(id, { commitSha: "a".repeat(40) }, { whenStatus: "QUEUED" }); // no status change: no entry
    await store.transition(id, "BUILDING", { buildId: "p:1" });
    tick();
    await store.recordProgress(id, "p:1", { phase: "BUILD", phaseRank: 7, phaseAt: at(4) }); // a phase: no entry
    tick();
    const failed = await store.transition(id, "FAILED", {
      statusReason: { code: "BUILD_FAILED", message: "m", phase: "BUILD" },
    });
    const expected = [
      { status: "PENDING", at: createdAt },
      { status: "PROCESSING", at: at(1) },
      { status: "PROCESSING", at: at(2) },
      { status: "QUEUED", at: at(3) },
      { status: "BUILDING", at: at(4) },
      { status: "FAILED", at: at(6), reasonCode: "BUILD_FAILED" },
    ];
    t.deepEqual(failed?.history, expected, "ALL_NEW returns it");
    tick();
    t.is(await store.transition(id, "SUCCEEDED", {}), undefined);
    t.is(await store.transition(id, "CANCELED", { statusReason: { code: "CANCELED", message: "m" } }), undefined);
    t.deepEqual((await store.get(id, { consistent: true }))?.history, expected, "a refused move appends nothing");
  },
);

test.serial("history: racing moves append exactly the winner's entry, so history and status agree", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const { id } = await seed(store, "PROCESSING");
  const outcomes = await Promise.all([
    store.transition(id, "FAILED", { statusReason: { code: "NO_FRAMEWORK", message: "m" } }),
    store.transition(id, "CANCELED", { statusReason: { code: "CANCELED", message: "m" } }),
    store.transition(id, "BUILDING", { buildId: "p:1" }),
  ]);
  const stored = await store.get(id, { consistent: true });
  t.true(
    outcomes.some((o) => o !== undefined),
    "one move at least wins",
  );
  const statuses = stored?.history?.map((entry) => entry.status) ?? [];
  t.is(statuses[statuses.length - 1], stored?.status, "the last entry is the status");
  t.is(new Set(statuses).size, statuses.length, "no move recorded twice");
  t.is(statuses.length, outcomes.filter((o) => o !== undefined).length + 1);
});

test.serial("history: a deployment stored before the history was kept starts one with its next move", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const old = newDeployment({ status: "BUILDING", buildId: "p:1" });
  await t.context.client.send(new PutCommand({ TableName: tables.deployments, Item: old }));
  t.is((await store.get(old.id, { consistent: true }))?.history, undefined);
  const done = await store.transition(old.id, "SUCCEEDED", {}, { whenBuild: "p:1" });
  t.deepEqual(done?.history, [{ status: "SUCCEEDED", at: FIXED_NOW.toISOString() }]);
});

test.serial("final statuses are final: no move of any kind, including a redelivered claim", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const { id } = await seed(store, "PENDING");
  await store.transition(id, "PROCESSING", {}, { incrementAttempts: true });
  await store.transition(id, "BUILDING", { buildId: "proj:1" });
  const ended = await store.transition(id, "SUCCEEDED");
  for (const to of STATUSES) {
    t.is(await store.transition(id, to, { buildId: "proj:2" }, { incrementAttempts: true }), undefined, `→ ${to}`);
  }
  t.deepEqual(await store.get(id, { consistent: true }), ended);
});

test.serial("transition of a missing deployment returns undefined and creates nothing", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  t.is(await store.transition(randomUUID(), "PROCESSING"), undefined);
  t.is(await store.transition(randomUUID(), "FAILED"), undefined);
  t.deepEqual(await scanAll(t.context.client, tables.deployments), []);
});

test.serial("transition refuses fields the store owns, before writing anything", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const seeded = await seed(store, "PENDING");
  for (const field of ["id", "userId", "createdAt", "status", "updatedAt", "attempts", "history"] as const) {
    await t.throwsAsync(store.transition(seeded.id, "PROCESSING", { [field]: "x" } as Partial<Deployment>), {
      message: new RegExp(`^${field} cannot be set`),
    });
  }
  t.deepEqual(await store.get(seeded.id, { consistent: true }), seeded);
});

test.serial("update records fields only while the status matches, and never changes the status", async (t) => {
  let now = FIXED_NOW;
  const { store } = await fixture(t.context.client, t.context.local.endpoint, () => now);
  const { id } = await seed(store, "PENDING");
  await store.transition(id, "PROCESSING", {}, { incrementAttempts: true });

  now = new Date("2030-01-02T03:05:00.000Z");
  const recorded = await store.update(
    id,
    { commitSha: "a".repeat(40), framework: "nextjs", builder: "node", lastError: { code: "E", message: "m" } },
    { whenStatus: "PROCESSING" },
  );
  t.like(recorded, { status: "PROCESSING", commitSha: "a".repeat(40), framework: "nextjs", builder: "node" });
  t.is(recorded?.updatedAt, now.toISOString());
  t.is(recorded?.attempts, 1);

  t.is(await store.update(id, { framework: "other" }, { whenStatus: "PENDING" }), undefined);
  t.is((await store.get(id, { consistent: true }))?.framework, "nextjs");
  t.is(await store.update(randomUUID(), { framework: "x" }, { whenStatus: "PROCESSING" }), undefined);
});

test.serial("an SDK error other than a failed condition is rethrown, not read as 'refused'", async (t) => {
  const store = new DeploymentStore({ client: t.context.client, deploymentsTable: `missing-${randomUUID()}` });
  const error = await t.throwsAsync(store.transition(randomUUID(), "PROCESSING"));
  t.is(error?.name, "ResourceNotFoundException");
  await t.throwsAsync(store.update(randomUUID(), {}, { whenStatus: "PENDING" }), { name: "ResourceNotFoundException" });
});

test.serial("listByUser pages through a user's deployments newest first, and only theirs", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  const base = Date.parse("2030-01-01T00:00:00.000Z");
  const mine: Deployment[] = [];
  for (let i = 0; i < 7; i++) {
    mine.push(newDeployment({ userId: "alice", createdAt: new Date(base + i * 60_000).toISOString() }));
  }
  // Two at the same instant: the cursor carries the table key too, so neither is skipped or repeated.
  mine.push(newDeployment({ userId: "alice", createdAt: new Date(base + 3 * 60_000).toISOString() }));
  const theirs = newDeployment({ userId: "bob", createdAt: new Date(base + 10 * 60_000).toISOString() });
  await Promise.all([...mine, theirs].map((d) => store.create(d)));

  const seen: Deployment[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.listByUser("alice", { limit: 3, ...(cursor ? { cursor } : {}) });
    t.true(page.items.length <= 3);
    seen.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  t.is(pages, 3, "8 items in pages of 3: the last page has no cursor (and no empty page follows)");
  t.deepEqual(seen.map((d) => d.id).sort(), mine.map((d) => d.id).sort());
  t.is(seen.length, mine.length, "no item twice");
  const times = seen.map((d) => d.createdAt);
  t.deepEqual(times, [...times].sort().reverse(), "newest first");
  t.false(seen.some((d) => d.userId !== "alice"));

  const exact = await store.listByUser("alice", { limit: 8 });
  t.is(exact.items.length, 8);
  t.is(exact.nextCursor, undefined, "exactly a page's worth: no cursor to an empty page");
  t.deepEqual(await store.listByUser("nobody", { limit: 5 }), { items: [] });
});

test.serial("listByUser rejects a tampered cursor and another user's cursor", async (t) => {
  const { store } = await fixture(t.context.client, t.context.local.endpoint);
  for (let i = 0; i < 3; i++)
    await store.create(newDeployment({ userId: "alice", createdAt: `2030-01-0${i + 1}T00:00:00.000Z` }));
  const { nextCursor } = await store.listByUser("alice", { limit: 1 });
  t.truthy(nextCursor);
  const cursor = nextCursor as string;
  const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, string>;
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  const tampered: Record<string, string> = {
    "another user's cursor": encode({ ...key, userId: "bob" }),
    "an extra attribute": encode({ ...key, status: "PENDING" }),
    "a missing attribute": encode({ id: key.id, userId: key.userId }),
    "a non-string attribute": encode({ ...key, createdAt: 5 }),
    "not JSON": Buffer.from("{nope").toString("base64url"),
    "an array": encode([key.id, key.userId, key.createdAt]),
    "not base64url": cursor + "!",
    padding: cursor + "=",
    "very long": "A".repeat(5000),
  };
  for (const [what, bad] of Object.entries(tampered)) {
    const error = await t.throwsAsync(store.listByUser("alice", { limit: 1, cursor: bad }), undefined, what);
    t.true(isValidationError(error), what);
    t.is((error as { field?: string }).field, "cursor", what);
  }
  // The genuine cursor still works, and is refused when another user presents it.
  t.is((await store.listByUser("alice", { limit: 1, cursor })).items.length, 1);
  await t.throwsAsync(store.listByUser("bob", { limit: 1, cursor }), { message: /cursor/ });
});

test.serial("idempotency: the same key and fingerprint replays the first deployment", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const first = newDeployment();
  const created = await store.create(first, { key: "k-1", fingerprint: "fp-A" });
  t.deepEqual(created, { deployment: withFirstHistoryEntry(first), replayed: false });
  const again = await store.create(newDeployment(), { key: "k-1", fingerprint: "fp-A" });
  t.deepEqual(again, { deployment: withFirstHistoryEntry(first), replayed: true });
  t.is((await scanAll(t.context.client, tables.deployments)).length, 1);

  const [record] = await scanAll(t.context.client, tables.idempotency);
  t.like(record, {
    key: idempotencyRecordKey("user-1", "k-1"),
    userId: "user-1",
    deploymentId: first.id,
    fingerprint: "fp-A",
  });
  t.is(record?.expiresAt, Math.floor(FIXED_NOW.getTime() / 1000) + 24 * 60 * 60, "24 h by default");
});

test.serial("idempotency: the same key with another fingerprint is a conflict that says what to do", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  await store.create(newDeployment(), { key: "k-1", fingerprint: "fp-A" });
  const error = await t.throwsAsync(store.create(newDeployment(), { key: "k-1", fingerprint: "fp-B" }));
  t.true(isConflictError(error));
  t.is((error as { code?: string }).code, "IDEMPOTENCY_KEY_REUSED");
  t.regex(error?.message ?? "", /different request body.*new Idempotency-Key/);
  t.is((await scanAll(t.context.client, tables.deployments)).length, 1);
});

test.serial("idempotency: keys are per user", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const alice = await store.create(newDeployment({ userId: "alice" }), { key: "shared", fingerprint: "fp-A" });
  const bob = await store.create(newDeployment({ userId: "bob" }), { key: "shared", fingerprint: "fp-B" });
  t.false(alice.replayed);
  t.false(bob.replayed);
  t.is((await scanAll(t.context.client, tables.deployments)).length, 2);
});

test.serial("idempotency: concurrent creates with one key make exactly one deployment", async (t) => {
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint);
  const candidates = Array.from({ length: 8 }, () => newDeployment());
  const results = await Promise.all(candidates.map((d) => store.create(d, { key: "race", fingerprint: "fp" })));
  const stored = await scanAll(t.context.client, tables.deployments);
  t.is(stored.length, 1);
  t.is(results.filter((r) => !r.replayed).length, 1);
  t.true(
    results.every((r) => r.deployment.id === stored[0]?.id),
    "every caller gets the one that was stored",
  );
});

test.serial(
  "idempotency: a TransactionConflict (real DynamoDB, concurrent same key) is retried, then replays",
  async (t) => {
    const { tables } = await fixture(t.context.client, t.context.local.endpoint);
    const real = t.context.client;
    const winner = newDeployment();
    let conflicts = 0;
    // DynamoDB Local serializes transactions and never reports TransactionConflict; the service does. The client
    // answers the first transaction the way the service does when another transaction holds the key.
    const conflicted = {
      send: async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === "TransactWriteCommand" && conflicts === 0) {
          conflicts++;
          // The other transaction (another Lambda, its own deployment id) takes the key meanwhile.
          const other = new DeploymentStore({
            client: real,
            deploymentsTable: tables.deployments,
            idempotencyTable: tables.idempotency,
          });
          await other.create(winner, { key: "k", fingerprint: "fp" });
          throw Object.assign(new Error("Transaction cancelled"), {
            name: "TransactionCanceledException",
            CancellationReasons: [{ Code: "TransactionConflict" }, { Code: "None" }],
          });
        }
        return real.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const sleeps: number[] = [];
    const store = new DeploymentStore({
      client: conflicted,
      deploymentsTable: tables.deployments,
      idempotencyTable: tables.idempotency,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const result = await store.create(newDeployment(), { key: "k", fingerprint: "fp" });
    t.deepEqual(result, { deployment: withFirstHistoryEntry(winner), replayed: true });
    t.is(sleeps.length, 1);
    t.is((await scanAll(real, tables.deployments)).length, 1);
  },
);

test.serial("idempotency: an expired record (TTL not yet swept) frees the key", async (t) => {
  let now = FIXED_NOW;
  const { store, tables } = await fixture(t.context.client, t.context.local.endpoint, () => now);
  const first = await store.create(newDeployment(), { key: "k", fingerprint: "fp-A", ttlSeconds: 60 });
  now = new Date(FIXED_NOW.getTime() + 61_000);
  const second = await store.create(newDeployment(), { key: "k", fingerprint: "fp-B" });
  t.false(second.replayed);
  t.not(second.deployment.id, first.deployment.id);
  t.is((await scanAll(t.context.client, tables.deployments)).length, 2);
});

test.serial("create with a key but no idempotency table is a configuration error", async (t) => {
  const tables: TableNames = await createTables(t.context.local.endpoint);
  const store = new DeploymentStore({ client: t.context.client, deploymentsTable: tables.deployments });
  await t.throwsAsync(store.create(newDeployment(), { key: "k", fingerprint: "f" }), { message: /idempotencyTable/ });
  t.deepEqual(await scanAll(t.context.client, tables.deployments), []);
});

test.serial("InstallationStore keeps several links per user, lists them, and unlinks one or all", async (t) => {
  const tables = await createTables(t.context.local.endpoint);
  const store = new InstallationStore({ client: t.context.client, table: tables.installations });
  t.is(await store.get("alice"), undefined);
  await store.put({ userId: "bob", installationId: 2 });
  await store.put({ userId: "alice", installationId: 1, accountLogin: "alice", createdAt: "2026-01-01T00:00:00Z" });
  await store.put({ userId: "alice", installationId: 3, accountLogin: "acme", createdAt: "2026-01-02T00:00:00Z" });
  t.like(await store.get("alice"), { userId: "alice", installationId: 3, accountLogin: "acme" });
  t.deepEqual(
    (await store.listForUser("alice")).map((i) => i.accountLogin),
    ["alice", "acme"],
  );
  t.deepEqual(
    (await store.list()).map((i) => [i.userId, i.installationId]),
    [
      ["alice", 1],
      ["alice", 3],
      ["bob", 2],
    ],
  );
  t.deepEqual(await store.delete("bob"), [{ userId: "bob", installationId: 2 }]);
  t.deepEqual(await store.delete("bob"), []);
  t.like(await store.delete("alice", 1), [{ installationId: 1 }]);
  t.deepEqual(
    (await store.list()).map((i) => [i.userId, i.installationId]),
    [["alice", 3]],
  );
});

test.serial("InstallationStore applies GitHub's facts in order and keeps a deletion final", async (t) => {
  const tables = await createTables(t.context.local.endpoint);
  const store = new InstallationStore({ client: t.context.client, table: tables.installations });
  await store.put({
    userId: "alice",
    installationId: 9,
    accountLogin: "acme",
    githubUpdatedAt: "2026-01-02T00:00:00Z",
  });
  t.false(await store.applyFacts("bob", 9, { suspendedAt: "2026-01-03T00:00:00Z" }), "no link, nothing created");
  t.true(
    await store.applyFacts("alice", 9, {
      suspendedAt: "2026-01-03T00:00:00Z",
      githubUpdatedAt: "2026-01-03T00:00:00Z",
    }),
  );
  t.false(
    await store.applyFacts("alice", 9, { suspendedAt: null, githubUpdatedAt: "2026-01-02T12:00:00Z" }),
    "an older unsuspend arriving late is ignored",
  );
  t.like(await store.get("alice"), { suspendedAt: "2026-01-03T00:00:00Z" });
  t.true(await store.applyFacts("alice", 9, { suspendedAt: null, githubUpdatedAt: "2026-01-04T00:00:00Z" }));
  t.is((await store.get("alice"))?.suspendedAt, undefined);
  t.true(await store.markDeleted("alice", 9, "2026-01-05T00:00:00Z"));
  t.false(await store.applyFacts("alice", 9, { repositorySelection: "all", githubUpdatedAt: "2026-01-06T00:00:00Z" }));
  t.like(await store.get("alice"), { deletedAt: "2026-01-05T00:00:00Z" });
  t.like(await store.listForInstallation(9), [{ userId: "alice" }]);
});
