import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import anyTest, { type TestFn } from "ava";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { InstallationStore } from "../runtime/deployments/installationStore";
import { createGitHubUserClient, type UserInstallation } from "../runtime/onboarding/githubUserClient";
import {
  linkInstallation,
  listInstallations,
  startInstall,
  unlinkInstallation,
  type InstallationRouteDependencies,
} from "../runtime/onboarding/installationRoutes";
import { OnboardingStore, STATE_TTL_SECONDS } from "../runtime/onboarding/onboardingStore";
import { pickInstallation } from "../runtime/onboarding/pickInstallation";
import { isPermanentError } from "../runtime/errors";
import { silentLogger } from "../runtime/log";
import type { ApiEvent } from "../runtime/http";
import { apiEvent, responseJson } from "./helpers/apiEvents";
import { useDynamoDbLocal, type DynamoDbLocal } from "./helpers/dynamodbLocal";
import { createOnboardingTable } from "./helpers/onboardingTables";
import { createTables } from "./helpers/tables";

const test = anyTest as TestFn<{ local: DynamoDbLocal; client: DynamoDBDocumentClient }>;
useDynamoDbLocal(test);

const INSTALL_URL = "https://github.com/apps/slipway-test/installations/new";

/**
 * A stand-in for github.com's OAuth token endpoint and `GET /user/installations`, answering as GitHub documents:
 * a bad code is `200 { error: "bad_verification_code" }`; each code works once.
 */
async function fakeGitHub(codes: Record<string, { token: string; installations: UserInstallation[] }>) {
  const used: string[] = [];
  const readBody = async (req: IncomingMessage) => {
    let text = "";
    for await (const chunk of req) text += String(chunk);
    return text;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      res.setHeader("content-type", "application/json");
      if (req.method === "POST" && req.url === "/login/oauth/access_token") {
        const { code, client_id, client_secret } = JSON.parse(body) as Record<string, string>;
        const known = code !== undefined ? codes[code] : undefined;
        if (client_id !== "Iv1.client" || client_secret !== "shh" || !known || used.includes(code!)) {
          res.end(
            JSON.stringify({
              error: "bad_verification_code",
              error_description: "The code passed is incorrect or expired.",
              error_uri: "https://docs.github.com",
            }),
          );
          return;
        }
        used.push(code!);
        res.end(JSON.stringify({ access_token: known.token, token_type: "bearer", scope: "" }));
        return;
      }
      const url = new URL(req.url ?? "/", "http://x");
      if (req.method === "GET" && url.pathname === "/user/installations") {
        const owner = Object.values(codes).find((c) => `token ${c.token}` === req.headers.authorization);
        if (!owner) {
          res.statusCode = 401;
          res.end(JSON.stringify({ message: "Bad credentials" }));
          return;
        }
        const perPage = Number(url.searchParams.get("per_page") ?? 30);
        const page = Number(url.searchParams.get("page") ?? 1);
        const slice = owner.installations.slice((page - 1) * perPage, page * perPage);
        res.end(
          JSON.stringify({
            total_count: owner.installations.length,
            installations: slice.map((i) => ({
              id: i.id,
              account: { login: i.accountLogin },
              repository_selection: i.repositorySelection,
              suspended_at: i.suspendedAt ?? null,
              updated_at: i.updatedAt ?? "2026-01-01T00:00:00Z",
            })),
          }),
        );
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ message: "Not Found" }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function world(
  t: { context: { local: DynamoDbLocal; client: DynamoDBDocumentClient } },
  clock = () => new Date(),
) {
  const [tables, onboardingTable] = await Promise.all([
    createTables(t.context.local.endpoint),
    createOnboardingTable(t.context.local.endpoint),
  ]);
  const github = await fakeGitHub({
    "code-alice": {
      token: "ghu_alice",
      installations: [
        { id: 11, accountLogin: "alice", repositorySelection: "all" },
        { id: 12, accountLogin: "acme", repositorySelection: "selected" },
      ],
    },
    "code-alice-3": {
      token: "ghu_alice",
      installations: [
        { id: 11, accountLogin: "alice", repositorySelection: "all" },
        { id: 12, accountLogin: "acme", repositorySelection: "selected" },
      ],
    },
    "code-alice-2": {
      token: "ghu_alice",
      installations: [{ id: 11, accountLogin: "alice", repositorySelection: "all" }],
    },
    "code-mallory": {
      token: "ghu_mallory",
      installations: [{ id: 66, accountLogin: "mallory", repositorySelection: "all" }],
    },
  });
  const installations = new InstallationStore({ client: t.context.client, table: tables.installations });
  const deps: InstallationRouteDependencies = {
    installations,
    onboarding: new OnboardingStore({ client: t.context.client, table: onboardingTable, clock }),
    github: createGitHubUserClient({
      clientId: "Iv1.client",
      loadClientSecret: async () => "shh",
      baseUrl: github.url,
    }),
    installUrl: INSTALL_URL,
    logger: silentLogger,
    clock,
  };
  return { deps, installations, close: github.close };
}

const as = (
  userId: string,
  method: string,
  path: string,
  route: string,
  extra: Partial<ApiEvent> & { json?: unknown } = {},
) => {
  const { json, ...rest } = extra;
  return {
    ...apiEvent(method as "GET", path, route, {
      userId,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    }),
    ...rest,
  } as ApiEvent;
};

async function issue(deps: InstallationRouteDependencies, userId: string): Promise<string> {
  const result = await startInstall(as(userId, "GET", "/github/install", "/github/install"), deps);
  const { url, state } = responseJson<{ url: string; state: string }>(result);
  const parsed = new URL(url);
  if (`${parsed.origin}${parsed.pathname}` !== INSTALL_URL || parsed.searchParams.get("state") !== state) {
    throw new Error(`install url ${url} does not carry the state`);
  }
  return state;
}

const link = (deps: InstallationRouteDependencies, userId: string, body: unknown) =>
  linkInstallation(as(userId, "POST", "/github/installations", "/github/installations", { json: body }), deps);

test("a user links two installations after proving them; the list shows both and unlink removes one", async (t) => {
  const { deps, installations, close } = await world(t);
  t.teardown(close);
  const first = await link(deps, "alice", {
    installationId: 11,
    code: "code-alice",
    state: await issue(deps, "alice"),
  });
  t.is(first.statusCode, 201, first.body);
  t.like(responseJson(first), { installationId: 11, account: "alice", repositorySelection: "all", suspended: false });
  const second = await link(deps, "alice", {
    installationId: 11,
    code: "code-alice-2",
    state: await issue(deps, "alice"),
  });
  t.is(second.statusCode, 201);
  t.is((await installations.listForUser("alice")).length, 1, "relinking the same installation keeps one link");
  const reused = await link(deps, "alice", {
    installationId: 12,
    code: "code-alice",
    state: await issue(deps, "alice"),
  });
  t.is(reused.statusCode, 400, "GitHub refuses a used code");
  t.like(responseJson(reused), { error: { field: "code" } });
  const org = await link(deps, "alice", {
    installationId: 12,
    code: "code-alice-3",
    state: await issue(deps, "alice"),
  });
  t.is(org.statusCode, 201);

  const listed = responseJson<{ installations: { installationId: number }[] }>(
    await listInstallations(as("alice", "GET", "/github/installations", "/github/installations"), deps),
  );
  t.deepEqual(
    listed.installations.map((i) => i.installationId),
    [11, 12],
  );

  const removed = await unlinkInstallation(
    as("alice", "DELETE", "/github/installations/11", "/github/installations/{id}", { pathParameters: { id: "11" } }),
    deps,
  );
  t.is(removed.statusCode, 204);
  const again = await unlinkInstallation(
    as("alice", "DELETE", "/github/installations/11", "/github/installations/{id}", { pathParameters: { id: "11" } }),
    deps,
  );
  t.is(again.statusCode, 404);
  t.deepEqual(
    (await installations.listForUser("alice")).map((i) => i.accountLogin),
    ["acme"],
  );
});

test("a forged installation_id (one the GitHub user cannot access) links nothing", async (t) => {
  const { deps, installations, close } = await world(t);
  t.teardown(close);
  const result = await link(deps, "mallory", {
    installationId: 12,
    code: "code-mallory",
    state: await issue(deps, "mallory"),
  });
  t.is(result.statusCode, 404);
  t.like(responseJson(result), { error: { code: "INSTALLATION_NOT_ACCESSIBLE" } });
  t.deepEqual(await installations.listForUser("mallory"), []);
});

test("a state is single use, bound to its caller, and expires in minutes", async (t) => {
  let now = new Date("2030-01-01T00:00:00Z");
  const { deps, installations, close } = await world(t, () => now);
  t.teardown(close);
  const aliceState = await issue(deps, "alice");
  const foreign = await link(deps, "mallory", { installationId: 66, code: "code-mallory", state: aliceState });
  t.is(foreign.statusCode, 400);
  t.like(responseJson(foreign), { error: { field: "state" } });
  t.is(
    (await link(deps, "alice", { installationId: 11, code: "code-alice", state: aliceState })).statusCode,
    201,
    "a foreign try does not burn the owner's state",
  );
  const replayed = await link(deps, "alice", { installationId: 11, code: "code-alice-2", state: aliceState });
  t.is(replayed.statusCode, 400, "replayed state");
  t.like(responseJson(replayed), { error: { field: "state" } });

  const late = await issue(deps, "alice");
  now = new Date(now.getTime() + (STATE_TTL_SECONDS + 1) * 1000);
  t.is(
    (await link(deps, "alice", { installationId: 11, code: "code-alice-2", state: late })).statusCode,
    400,
    "expired state",
  );
  t.is((await link(deps, "alice", { installationId: 11, code: "code-alice-2", state: "made-up" })).statusCode, 400);
  t.is((await installations.listForUser("mallory")).length, 0);
});

test("bad bodies name the field and change nothing", async (t) => {
  const { deps, installations, close } = await world(t);
  t.teardown(close);
  const state = await issue(deps, "alice");
  const cases: [unknown, string][] = [
    [{ installationId: "x", code: "c", state }, "installationId"],
    [{ installationId: -1, code: "c", state }, "installationId"],
    [{ installationId: 11, state }, "code"],
    [{ installationId: 11, code: "c" }, "state"],
    [{ installationId: 11, code: "c", state, extra: 1 }, "extra"],
    ["[]", "body"],
  ];
  for (const [body, field] of cases) {
    const result = await link(deps, "alice", body);
    t.is(result.statusCode, 400, JSON.stringify(body));
    t.is(responseJson<{ error: { field: string } }>(result).error.field, field);
  }
  const badCode = await link(deps, "alice", { installationId: 11, code: "nope", state });
  t.like(responseJson(badCode), { error: { field: "code" } });
  t.deepEqual(await installations.listForUser("alice"), []);
  t.is(
    (await startInstall(as(null as unknown as string, "GET", "/github/install", "/github/install"), deps)).statusCode,
    401,
  );
});

test("the inspector picks the installation whose account owns the repository, and explains deleted or suspended ones", (t) => {
  const links = [
    { userId: "u", installationId: 1, accountLogin: "alice" },
    { userId: "u", installationId: 2, accountLogin: "Acme", suspendedAt: "2026-01-01T00:00:00Z" },
    { userId: "u", installationId: 3, accountLogin: "gone", deletedAt: "2026-01-01T00:00:00Z" },
  ];
  t.is(pickInstallation(links, "alice/app").installationId, 1);
  const reasons = (repository: string) => {
    try {
      pickInstallation(links, repository, INSTALL_URL);
      return "picked";
    } catch (error) {
      return isPermanentError(error) ? error.code : "other";
    }
  };
  t.is(reasons("acme/shop"), "GITHUB_APP_SUSPENDED");
  t.is(reasons("gone/x"), "GITHUB_APP_UNINSTALLED");
  t.is(reasons("stranger/x"), "GITHUB_APP_NOT_INSTALLED");
  t.is(
    pickInstallation([{ userId: "u", installationId: 9 }], "any/repo").installationId,
    9,
    "an operator's unnamed link",
  );
});
