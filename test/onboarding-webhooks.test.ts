import { randomUUID } from "node:crypto";
import anyTest, { type TestFn } from "ava";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import examples from "@octokit/webhooks-examples";
import { DeploymentStore } from "../runtime/deployments/deploymentStore";
import { InstallationStore } from "../runtime/deployments/installationStore";
import { isPermanentError } from "../runtime/errors";
import { silentLogger } from "../runtime/log";
import { OnboardingStore } from "../runtime/onboarding/onboardingStore";
import { pickInstallation } from "../runtime/onboarding/pickInstallation";
import { ProjectStore, type Project } from "../runtime/onboarding/projectStore";
import { createSupersede } from "../runtime/onboarding/webhooks/supersedeDeployment";
import { handleWebhook } from "../runtime/onboarding/webhooks/handleWebhook";
import { useDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createOnboardingTable, createProjectsTable } from "./helpers/onboardingTables";
import { createTables, scanAll } from "./helpers/tables";

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;
useDynamoDbLocal(test);

const SECRET = "webhook-secret-for-tests";

/** @octokit/webhooks is ES modules only: imported dynamically under tsx (see handleWebhook.ts). */
async function signerFor(secret: string) {
  const { Webhooks } = await import("@octokit/webhooks");
  return new Webhooks({ secret });
}

/** GitHub's own example payloads (octokit/webhooks), by event and action. */
function example(event: string, pick: (payload: Record<string, unknown>) => boolean = () => true) {
  const found = examples.find((e) => e.name === event)?.examples.find((p) => pick(p as Record<string, unknown>));
  if (!found) throw new Error(`no ${event} example`);
  return structuredClone(found) as Record<string, unknown> & { installation?: { id: number } };
}

async function world(t: { context: { local: DynamoDbLocal; client: DynamoDBDocumentClient } }) {
  const endpoint = t.context.local.endpoint;
  const [tables, onboardingTable, projectsTable] = await Promise.all([
    createTables(endpoint),
    createOnboardingTable(endpoint),
    createProjectsTable(endpoint),
  ]);
  const client = t.context.client;
  const installations = new InstallationStore({ client, table: tables.installations });
  const projects = new ProjectStore({ client, table: projectsTable });
  const deployments = new DeploymentStore({ client, deploymentsTable: tables.deployments });
  let secretReads = 0;
  const deps = {
    loadSecret: async () => {
      secretReads += 1;
      return SECRET;
    },
    onboarding: new OnboardingStore({ client, table: onboardingTable }),
    installations,
    push: { projects, deployments, supersede: createSupersede(deployments) },
    logger: silentLogger,
  };
  const signer = await signerFor(SECRET);
  const send = async (
    event: string,
    payload: unknown,
    options: { delivery?: string; signature?: string | null } = {},
  ) => {
    const body = JSON.stringify(payload);
    const signature = options.signature === undefined ? await signer.sign(body) : options.signature;
    return handleWebhook(
      {
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": options.delivery ?? randomUUID(),
          ...(signature === null ? {} : { "x-hub-signature-256": signature }),
        },
        body,
        isBase64Encoded: false,
      },
      deps,
    );
  };
  const allDeployments = () => scanAll(client, tables.deployments);
  const project = (userId: string, branch: string, overrides: Partial<Project> = {}): Project => ({
    id: randomUUID(),
    repository: "codertocat/hello-world",
    userId,
    branch,
    autoDeploy: true,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    ...overrides,
  });
  return { send, installations, projects, deployments, allDeployments, project, secretReads: () => secretReads };
}

const pushTo = (branch: string, after: string) => {
  const payload = example("push", (p) => p.ref === "refs/heads/master" && p.deleted === false);
  return { ...payload, ref: `refs/heads/${branch}`, after };
};
const sha = (n: number) => n.toString(16).padStart(40, "a");

test("a missing or wrong signature is refused before anything is parsed or stored", async (t) => {
  const w = await world(t);
  await w.projects.put(w.project("alice", "master"));
  const push = pushTo("master", sha(1));
  const missing = await w.send("push", push, { signature: null });
  t.is(missing.statusCode, 401);
  const wrong = await w.send("push", push, { signature: await (await signerFor("other")).sign(JSON.stringify(push)) });
  t.is(wrong.statusCode, 401);
  t.is((await w.send("push", push, { signature: "sha256=zz" })).statusCode, 401);
  // A body that is not JSON with a bad signature is still a 401, not a parse error.
  t.is((await w.send("push", "{not json", { signature: "sha256=00" })).statusCode, 401);
  t.deepEqual(await w.allDeployments(), []);
  const ok = await w.send("push", push);
  t.is(ok.statusCode, 200, ok.body);
  t.is((await w.allDeployments()).length, 1);
});

test("a redelivered webhook is processed once", async (t) => {
  const w = await world(t);
  await w.projects.put(w.project("alice", "master"));
  const delivery = randomUUID();
  const push = pushTo("master", sha(2));
  t.is((await w.send("push", push, { delivery })).statusCode, 200);
  const again = await w.send("push", push, { delivery });
  t.is(again.statusCode, 200);
  t.regex(again.body ?? "", /already processed/);
  t.is((await w.allDeployments()).length, 1);
});

test("GitHub's installation examples: suspend, unsuspend, delete, and a late 'created' cannot revive a deleted one", async (t) => {
  const w = await world(t);
  const suspend = example("installation", (p) => p.action === "suspend");
  const id = suspend.installation!.id;
  const login = (suspend.installation as unknown as { account: { login: string } }).account.login;
  await w.installations.put({
    userId: "alice",
    installationId: id,
    accountLogin: login,
    githubUpdatedAt: "2000-01-01T00:00:00Z",
  });
  const forId = (event: Record<string, unknown>) => ({
    ...event,
    installation: { ...(event.installation as object), id },
  });

  t.is((await w.send("installation", forId(suspend))).statusCode, 200);
  t.truthy((await w.installations.get("alice"))?.suspendedAt);
  const failure = (repo: string) => {
    return async () => {
      try {
        pickInstallation(await w.installations.listForUser("alice"), repo, "https://example.test/install");
        return "picked";
      } catch (error) {
        return isPermanentError(error) ? error.code : "other";
      }
    };
  };
  t.is(await failure(`${login}/repo`)(), "GITHUB_APP_SUSPENDED");

  const unsuspend = example("installation", (p) => p.action === "unsuspend");
  t.is((await w.send("installation", forId(unsuspend))).statusCode, 200);
  t.is((await w.installations.get("alice"))?.suspendedAt, undefined);
  t.is(await failure(`${login}/repo`)(), "picked");

  const deleted = example("installation", (p) => p.action === "deleted");
  t.is((await w.send("installation", forId(deleted))).statusCode, 200);
  const created = example("installation", (p) => p.action === "created");
  t.is((await w.send("installation", forId(created))).statusCode, 200);
  t.is((await w.send("installation", forId(unsuspend))).statusCode, 200);
  t.truthy((await w.installations.get("alice"))?.deletedAt, "deletion is final whatever arrives after it");
  t.is(await failure(`${login}/repo`)(), "GITHUB_APP_UNINSTALLED");
});

test("an older suspend arriving after a newer unsuspend is ignored", async (t) => {
  const w = await world(t);
  const suspend = example("installation", (p) => p.action === "suspend");
  const unsuspend = example("installation", (p) => p.action === "unsuspend");
  const id = 424242;
  await w.installations.put({ userId: "bob", installationId: id, accountLogin: "octo" });
  const at = (event: Record<string, unknown>, updated: string) => ({
    ...event,
    installation: { ...(event.installation as object), id, updated_at: updated },
  });
  await w.send("installation", at(unsuspend, "2026-03-02T00:00:00Z"));
  await w.send("installation", at(suspend, "2026-03-01T00:00:00Z"));
  t.is((await w.installations.get("bob"))?.suspendedAt, undefined);
});

test("GitHub's push examples: a tag, a deleted branch or another branch deploy nothing; the project's branch deploys its commit for every project owner", async (t) => {
  const w = await world(t);
  const alice = w.project("alice", "master");
  await w.projects.put(alice);
  await w.projects.put(w.project("bob", "master", { rootDirectory: "web" }));
  await w.projects.put(w.project("carol", "develop"));
  await w.projects.put(w.project("dave", "master", { autoDeploy: false }));
  for (const push of examples.find((e) => e.name === "push")!.examples) {
    const p = push as { ref: string; deleted: boolean };
    if (p.ref.startsWith("refs/tags/") || p.deleted) t.is((await w.send("push", push)).statusCode, 200);
  }
  await w.send("push", pushTo("feature", sha(3)));
  t.deepEqual(await w.allDeployments(), [], "tags, deletions and other branches deploy nothing");

  const push = pushTo("master", sha(4));
  (push as unknown as { repository: { full_name: string } }).repository.full_name = "Codertocat/Hello-World";
  t.is((await w.send("push", push)).statusCode, 200);
  const made = (await w.allDeployments()) as {
    userId: string;
    commitSha: string;
    trigger: string;
    projectId: string;
    rootDirectory?: string;
    repository: string;
    status: string;
  }[];
  t.deepEqual(made.map((d) => d.userId).sort(), ["alice", "bob"]);
  for (const d of made)
    t.like(d, { commitSha: sha(4), trigger: "push", status: "PENDING", repository: "Codertocat/Hello-World" });
  t.is(made.find((d) => d.userId === "alice")?.projectId, alice.id);
  t.is(made.find((d) => d.userId === "bob")?.rootDirectory, "web");
});

test("a burst of pushes builds the newest commit; superseded ones whose build did not exist yet are CANCELED", async (t) => {
  const w = await world(t);
  await w.projects.put(w.project("alice", "master"));
  type Row = {
    id: string;
    commitSha: string;
    status: string;
    statusReason?: { code: string; message: string };
    activeStatus?: string;
    queuedUserId?: string;
    finishedAt?: string;
  };
  const byCommit = async (n: number) => ((await w.allDeployments()) as Row[]).find((d) => d.commitSha === sha(n))!;
  await w.send("push", pushTo("master", sha(10)));
  // The first one's build is running: it keeps going.
  const building = await byCommit(10);
  await w.deployments.transition(building.id, "PROCESSING");
  await w.deployments.transition(building.id, "BUILDING", { buildId: "slipway-node:1" });
  await w.send("push", pushTo("master", sha(11)));
  // The inspector claimed the second (PROCESSING), the third waits for a build slot (QUEUED), the fourth is PENDING.
  await w.deployments.transition((await byCommit(11)).id, "PROCESSING");
  await w.send("push", pushTo("master", sha(12)));
  await w.deployments.transition((await byCommit(12)).id, "PROCESSING");
  await w.deployments.transition((await byCommit(12)).id, "QUEUED");
  await w.send("push", pushTo("master", sha(13)));
  await w.send("push", pushTo("master", sha(14)));
  const rows = (await w.allDeployments()) as Row[];
  t.deepEqual(Object.fromEntries(rows.map((d) => [d.commitSha, `${d.status}/${d.statusReason?.code ?? "-"}`])), {
    [sha(10)]: "BUILDING/-",
    [sha(11)]: "CANCELED/SUPERSEDED",
    [sha(12)]: "CANCELED/SUPERSEDED",
    [sha(13)]: "CANCELED/SUPERSEDED",
    [sha(14)]: "PENDING/-",
  });
  for (const n of [11, 12, 13]) {
    const superseded = rows.find((d) => d.commitSha === sha(n))!;
    t.true(superseded.statusReason!.message.includes(sha(n + 1)), "the message names the newer commit");
    t.truthy(superseded.finishedAt);
    t.is(superseded.activeStatus, undefined, "out of the active index");
    t.is(superseded.queuedUserId, undefined, "out of the user's queue");
    // The inspector's (PROCESSING → BUILDING) and the queue's (QUEUED → BUILDING) starts are refused: no build.
    t.is(await w.deployments.transition(superseded.id, "BUILDING", { buildId: "late" }), undefined);
  }
});

test("events Slipway does not use are acknowledged and change nothing; the secret is read per container", async (t) => {
  const w = await world(t);
  const result = await w.send("star", { action: "created" });
  t.is(result.statusCode, 202);
  t.true(w.secretReads() >= 1);
});
