import anyTest, { type TestFn } from "ava";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { InstallationStore } from "../runtime/deployments/installationStore";
import type { ApiEvent } from "../runtime/http";
import { silentLogger } from "../runtime/log";
import { deleteProject, getProject, listProjects, putProject } from "../runtime/onboarding/projectRoutes";
import { ProjectStore } from "../runtime/onboarding/projectStore";
import { apiEvent, responseJson } from "./helpers/apiEvents";
import { useDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createProjectsTable } from "./helpers/onboardingTables";
import { createTables } from "./helpers/tables";

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;
useDynamoDbLocal(test);

const event = (userId: string, method: string, owner: string, name: string, body?: unknown): ApiEvent =>
  apiEvent(method as "GET", `/projects/${owner}/${name}`, "/projects/{owner}/{name}", {
    userId,
    pathParameters: { owner, name },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

test("two users keep their own projects on one repository; an installation on the owner is required", async (t) => {
  const [tables, projectsTable] = await Promise.all([
    createTables(t.context.local.endpoint),
    createProjectsTable(t.context.local.endpoint),
  ]);
  const installations = new InstallationStore({ client: t.context.client, table: tables.installations });
  const projects = new ProjectStore({ client: t.context.client, table: projectsTable });
  const deps = { projects, installations, logger: silentLogger };
  await installations.put({ userId: "alice", installationId: 1, accountLogin: "Acme" });
  await installations.put({ userId: "bob", installationId: 1, accountLogin: "acme" });
  await installations.put({
    userId: "carol",
    installationId: 2,
    accountLogin: "acme",
    deletedAt: "2026-01-01T00:00:00Z",
  });

  const a = await putProject(event("alice", "PUT", "acme", "shop", { branch: "main", autoDeploy: true }), deps);
  t.is(a.statusCode, 201, a.body);
  const b = await putProject(event("bob", "PUT", "acme", "shop", { rootDirectory: "web/", autoDeploy: false }), deps);
  t.is(b.statusCode, 201);
  t.like(responseJson(b), { branch: null, rootDirectory: "web", autoDeploy: false });
  const again = await putProject(event("alice", "PUT", "acme", "shop", { branch: "release", autoDeploy: true }), deps);
  t.is(again.statusCode, 200);
  t.is(responseJson<{ id: string }>(again).id, responseJson<{ id: string }>(a).id, "an update keeps the project id");

  const refused = await putProject(event("carol", "PUT", "acme", "shop", { autoDeploy: true }), deps);
  t.is(refused.statusCode, 422);
  t.like(responseJson(refused), { error: { code: "INSTALLATION_REQUIRED" } });
  t.is((await putProject(event("alice", "PUT", "other", "shop", { autoDeploy: true }), deps)).statusCode, 422);

  for (const [body, field] of [
    [{ branch: "main" }, "autoDeploy"],
    [{ branch: "a..b", autoDeploy: true }, "branch"],
    [{ rootDirectory: "../up", autoDeploy: true }, "rootDirectory"],
    [{ autoDeploy: true, extra: 1 }, "extra"],
  ] as const) {
    const result = await putProject(event("alice", "PUT", "acme", "shop", body), deps);
    t.is(result.statusCode, 400, JSON.stringify(body));
    t.is(responseJson<{ error: { field: string } }>(result).error.field, field);
  }

  t.like(responseJson(await getProject(event("bob", "GET", "acme", "shop"), deps)), { autoDeploy: false });
  t.deepEqual(
    responseJson<{ projects: { branch: string }[] }>(
      await listProjects(apiEvent("GET", "/projects", "/projects", { userId: "alice" }), deps),
    ).projects.map((p) => p.branch),
    ["release"],
  );
  t.is((await projects.listForRepository("ACME/Shop")).length, 2);
  t.is((await deleteProject(event("bob", "DELETE", "acme", "shop"), deps)).statusCode, 204);
  t.is((await deleteProject(event("bob", "DELETE", "acme", "shop"), deps)).statusCode, 404);
  t.is((await getProject(event("bob", "GET", "acme", "shop"), deps)).statusCode, 404);
  t.is((await projects.listForRepository("acme/shop")).length, 1, "alice's project is untouched");
});
