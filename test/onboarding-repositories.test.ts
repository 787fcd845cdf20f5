import anyTest, { type TestFn } from "ava";
import type { RepositoryPage } from "../runtime/api/apiShapes";
import type { Installation } from "../runtime/deployment";
import { createInstallationRepositories } from "../runtime/github/installationRepositories";
import { createInstallationTokens, type InstallationTokens } from "../runtime/github/installationTokens";
import { silentLogger } from "../runtime/log";
import { listRepositories, type RepositoryRouteDependencies } from "../runtime/onboarding/repositoryRoutes";
import { encodeRepositoryCursor } from "../runtime/onboarding/repositoryCursor";
import { startGitHub, type GitHubEmulator, type MemoryRepository } from "../local/emulators/github";
import { apiEvent, responseJson } from "./helpers/apiEvents";
import { generateAppKeys } from "./helpers/emulators";

const test = anyTest as TestFn<{
  github: GitHubEmulator;
  tokens: InstallationTokens;
  deps: (links: Installation[]) => RepositoryRouteDependencies;
}>;
const APP_ID = 4242;
const repo = (extra: Partial<MemoryRepository> = {}): MemoryRepository => ({
  files: { "README.md": "# r\n" },
  ...extra,
});

// octo has 150 repositories (two of GitHub's 100-item pages), acme 3, gone is uninstalled on GitHub.
const OCTO = Array.from({ length: 150 }, (_, i) => `octo/r${String(i).padStart(3, "0")}`);
const ACME = ["acme/api", "acme/web", "acme/docs"];

test.before(async (t) => {
  const keys = generateAppKeys();
  const repositories: Record<string, MemoryRepository> = {};
  for (const name of OCTO) repositories[name] = repo();
  for (const name of ACME)
    repositories[name] = repo(name === "acme/docs" ? { private: false, defaultBranch: "trunk" } : {});
  repositories["gone/old"] = repo();
  const github = await startGitHub({ appId: APP_ID, appPublicKey: keys.publicKey, repositories });
  github.uninstall("gone");
  const tokens = createInstallationTokens({
    appId: String(APP_ID),
    loadPrivateKey: async () => keys.privateKey,
    baseUrl: github.url,
  });
  t.context = {
    github,
    tokens,
    deps: (links) => ({
      installations: { listForUser: async (userId) => links.filter((link) => link.userId === userId) },
      github: createInstallationRepositories({ tokens, baseUrl: github.url }),
      logger: silentLogger,
    }),
  };
});
test.after.always(async (t) => {
  await t.context.github.close();
});

const link = (github: GitHubEmulator, owner: string, extra: Partial<Installation> = {}): Installation => ({
  userId: "user-1",
  installationId: github.installationIdFor(owner),
  accountLogin: owner,
  ...extra,
});

const list = async (deps: RepositoryRouteDependencies, query: Record<string, string> = {}, userId = "user-1") => {
  const response = await listRepositories(
    apiEvent("GET", "/repositories", "/repositories", { userId, queryStringParameters: query }),
    deps,
  );
  return {
    status: response.statusCode,
    body: responseJson(response) as RepositoryPage & { error?: { field?: string } },
  };
};

test("every repository of every live linked installation, a page at a time, each once", async (t) => {
  const { github } = t.context;
  const links = [link(github, "octo"), link(github, "acme"), link(github, "gone")];
  const deps = t.context.deps(links);
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { status, body } = await list(deps, { limit: "40", ...(cursor ? { cursor } : {}) });
    t.is(status, 200);
    t.true(body.items.length <= 40);
    seen.push(...body.items.map((item) => item.fullName));
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor && pages < 20);
  t.deepEqual([...seen].sort(), [...OCTO, ...ACME].sort());
  t.is(new Set(seen).size, seen.length, "no repository twice");
});

test("the response shape the dashboard consumes, default limit 30", async (t) => {
  const { github } = t.context;
  const deps = t.context.deps([link(github, "acme")]);
  const { status, body } = await list(deps);
  t.is(status, 200);
  t.deepEqual(
    [...body.items].sort((a, b) => a.name.localeCompare(b.name)),
    [
      {
        owner: "acme",
        name: "api",
        fullName: "acme/api",
        defaultBranch: "main",
        private: true,
        installationId: github.installationIdFor("acme"),
      },
      {
        owner: "acme",
        name: "docs",
        fullName: "acme/docs",
        defaultBranch: "trunk",
        private: false,
        installationId: github.installationIdFor("acme"),
      },
      {
        owner: "acme",
        name: "web",
        fullName: "acme/web",
        defaultBranch: "main",
        private: true,
        installationId: github.installationIdFor("acme"),
      },
    ],
  );
  t.is(body.nextCursor, undefined);
  const octo = await list(t.context.deps([link(github, "octo")]));
  t.is(octo.body.items.length, 30);
  t.truthy(octo.body.nextCursor);
});

test("deleted, suspended and other users' links are not listed", async (t) => {
  const { github } = t.context;
  const deps = t.context.deps([
    link(github, "octo", { deletedAt: "2026-01-01T00:00:00Z" }),
    link(github, "acme", { suspendedAt: "2026-01-01T00:00:00Z" }),
    link(github, "octo", { userId: "someone-else" }),
  ]);
  const { status, body } = await list(deps);
  t.is(status, 200);
  t.deepEqual(body.items, []);
  t.is(body.nextCursor, undefined);
});

test.serial(
  "a bad limit or a cursor the route did not give out is a 400 naming the field, and asks GitHub nothing",
  async (t) => {
    const { github } = t.context;
    const deps = t.context.deps([link(github, "acme")]);
    github.reset();
    for (const limit of ["0", "101", "abc", "1.5"]) {
      const { status, body } = await list(deps, { limit });
      t.is(status, 400, limit);
      t.is(body.error?.field, "limit");
    }
    const forged = [
      "not-base64!",
      Buffer.from('{"i":1}').toString("base64url"),
      Buffer.from('{"i":1,"o":-1}').toString("base64url"),
      Buffer.from('{"i":1,"o":0,"x":1}').toString("base64url"),
      Buffer.from('{"i":"1","o":0}').toString("base64url"),
      Buffer.from("[1,2]").toString("base64url"),
    ];
    for (const cursor of forged) {
      const { status, body } = await list(deps, { cursor });
      t.is(status, 400, cursor);
      t.is(body.error?.field, "cursor");
    }
    t.deepEqual(
      github.requests().filter((request) => request.operation === "GET /installation/repositories"),
      [],
    );
    // A well-formed cursor past every linked installation: an empty page.
    const past = await list(deps, { cursor: encodeRepositoryCursor({ installationId: 99_999_999_999, offset: 0 }) });
    t.is(past.status, 200);
    t.deepEqual(past.body.items, []);
  },
);

test("listing tokens are metadata-only: they list the installation but read no repository's contents", async (t) => {
  const { github, tokens } = t.context;
  const token = await tokens.forListing(github.installationIdFor("acme"), "acme");
  const headers = { authorization: `token ${token}` };
  const listed = await fetch(`${github.url}/installation/repositories`, { headers });
  t.is(listed.status, 200);
  t.is(((await listed.json()) as { total_count: number }).total_count, 3);
  const contents = await fetch(`${github.url}/repos/acme/api/contents/README.md`, { headers });
  t.is(contents.status, 403);
});
