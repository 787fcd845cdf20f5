import { execFileSync } from "node:child_process";
import { createSign } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createAppAuth } from "@octokit/auth-app";
import { request as octokitRequest } from "@octokit/request";
import anyTest from "ava";
import { secondaryRateLimit, type GitHubEmulator } from "../local/emulators/github";
import { blobsQuery } from "../runtime/github/repositoryClient";
import { readZip } from "./helpers/zipEntries";
import { generateAppKeys, git, manualClock, startGitHubFor, temporaryFolder } from "./helpers/emulators";

/**
 * Serial: @octokit/auth-app shares in-flight token requests between all its instances by installation id and
 * repositories, and installation ids are the same in every emulator (derived from the owner), so two tests minting
 * for "acme" at once could receive each other's token.
 */
const test = anyTest.serial;

const APP_ID = 1234;
const keys = generateAppKeys();
const otherKeys = generateAppKeys();

const REPOSITORIES = {
  "acme/web": {
    files: {
      "package.json": '{ "name": "web", "dependencies": { "next": "14.0.0" } }',
      "src/index.js": "console.log('hello')\n",
      "bin/start": { content: "#!/bin/sh\nnode src/index.js\n", executable: true },
      "public/logo.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]),
    },
    branches: { "feature/login": { "package.json": '{ "name": "web-login" }' } },
    tags: { "v1.0.0": "main" },
  },
  "acme/api": { files: { "go.mod": "module acme/api\n" } },
  "acme/empty": { files: {} },
  "globex/site": { files: { "index.html": "<h1>globex</h1>" } },
};

interface Failure {
  status: number;
  message: string;
  name: string;
  response?: { headers: Record<string, string>; data: unknown };
}

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error("expected the request to fail");
}

/** The emulator, a request bound to it, and a token minted through @octokit/auth-app as Slipway mints it. */
async function setup(
  t: Parameters<typeof startGitHubFor>[0],
  options: Partial<Parameters<typeof startGitHubFor>[1]> = {},
  repositoryNames: string[] | "all" = ["web"],
) {
  const github = await startGitHubFor(t, {
    appId: APP_ID,
    appPublicKey: keys.publicKey,
    repositories: REPOSITORIES,
    ...options,
  });
  const request = octokitRequest.defaults({ baseUrl: github.url });
  const auth = createAppAuth({ appId: APP_ID, privateKey: keys.privateKey, request });
  const { token } = await auth({
    type: "installation",
    installationId: github.installationIdFor("acme"),
    ...(repositoryNames === "all" ? {} : { repositoryNames }),
  });
  const api = request.defaults({ headers: { authorization: `token ${token}` } });
  return { github, request, api, token };
}

function signJwt(privateKey: string, payload: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode({ alg: "RS256", typ: "JWT" })}.${encode(payload)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey, "base64url")}`;
}

const mint = (github: GitHubEmulator, jwt: string, body: Record<string, unknown> = {}) =>
  octokitRequest("POST /app/installations/{installation_id}/access_tokens", {
    baseUrl: github.url,
    installation_id: github.installationIdFor("acme"),
    headers: { authorization: `Bearer ${jwt}` },
    ...body,
  });

// ---- tokens ----------------------------------------------------------------------------------------------------------

test("mints an installation token through @octokit/auth-app, limited to the asked repositories", async (t) => {
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const request = octokitRequest.defaults({ baseUrl: github.url });
  const auth = createAppAuth({ appId: String(APP_ID), privateKey: keys.privateKey, request });
  const before = Date.now();
  const result = await auth({
    type: "installation",
    installationId: github.installationIdFor("acme"),
    repositoryNames: ["web"],
    permissions: { contents: "read", metadata: "read" },
  });
  t.regex(result.token, /^ghs_[A-Za-z0-9]{36}$/);
  t.is(result.repositorySelection, "selected");
  t.deepEqual(result.repositoryNames, ["web"]);
  t.deepEqual(result.permissions, { contents: "read", metadata: "read" });
  // One hour from when it was minted, somewhere between `before` and now (expires_at has whole seconds).
  const expires = Date.parse(result.expiresAt);
  t.true(
    expires >= before + 3_600_000 - 1_000 && expires <= Date.now() + 3_600_000,
    `expires ${expires - before} ms after the request`,
  );

  const repository = await request("GET /repos/{owner}/{repo}", {
    owner: "acme",
    repo: "web",
    headers: { authorization: `token ${result.token}` },
  });
  t.is(repository.data.full_name, "acme/web");
  t.is(repository.data.default_branch, "main");
  t.true(repository.data.private);
});

test("installation ids are stable per owner and differ between owners", async (t) => {
  const first = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const second = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey });
  t.is(first.installationIdFor("acme"), second.installationIdFor("acme"));
  t.is(first.installationIdFor("acme"), first.installationIdFor("ACME"));
  t.not(first.installationIdFor("acme"), first.installationIdFor("globex"));
});

test("refuses a JWT signed with another key", async (t) => {
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const auth = createAppAuth({
    appId: APP_ID,
    privateKey: otherKeys.privateKey,
    request: octokitRequest.defaults({ baseUrl: github.url }),
  });
  const failure = await failureOf(auth({ type: "installation", installationId: github.installationIdFor("acme") }));
  t.is(failure.status, 401);
  t.regex(failure.message, /A JSON web token could not be decoded/);
});

test("refuses expired, over-long, future-dated and foreign JWTs with GitHub's messages", async (t) => {
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const now = Math.floor(Date.now() / 1000);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ iat: now - 1200, exp: now - 600, iss: APP_ID }, /'Expiration time' claim \('exp'\) must be a numeric value/],
    [{ iat: now - 30, exp: now + 3600, iss: APP_ID }, /'Expiration time' claim \('exp'\) is too far in the future/],
    [{ iat: now + 300, exp: now + 600, iss: APP_ID }, /'Issued at' claim \('iat'\) must be an Integer/],
    [{ exp: now + 600, iss: APP_ID }, /'Issued at' claim \('iat'\)/],
    [{ iat: now - 30, exp: now + 500, iss: "not-a-number" }, /'Issuer' claim \('iss'\) must be an Integer/],
    [{ iat: now - 30, exp: now + 500, iss: APP_ID + 1 }, /A JSON web token could not be decoded/],
  ];
  for (const [payload, message] of cases) {
    const failure = await failureOf(mint(github, signJwt(keys.privateKey, payload)));
    t.is(failure.status, 401, JSON.stringify(payload));
    t.regex(failure.message, message);
  }
  // The same claims, valid, with iss as a string or a number: both accepted, as GitHub accepts both.
  for (const iss of [APP_ID, String(APP_ID)]) {
    const minted = await mint(github, signJwt(keys.privateKey, { iat: now - 30, exp: now + 570, iss }));
    t.is(minted.status, 201);
  }
  const noJwt = await failureOf(mint(github, "garbage"));
  t.is(noJwt.status, 401);
});

test("a GitHub clock ahead of ours: auth-app's hook corrects itself from the Date header, a bare auth() does not", async (t) => {
  const clock = manualClock(Date.now() + 2 * 3_600_000); // GitHub's clock two hours ahead of this machine's
  const github = await startGitHubFor(t, {
    appId: APP_ID,
    appPublicKey: keys.publicKey,
    repositories: REPOSITORIES,
    now: clock.now,
  });
  const request = octokitRequest.defaults({ baseUrl: github.url });
  const auth = createAppAuth({ appId: APP_ID, privateKey: keys.privateKey, request, log: { warn: () => {} } });
  const installation_id = github.installationIdFor("acme");

  // auth() signs with this machine's clock and does not retry: GitHub's "exp" message comes back as a 401.
  const direct = await failureOf(auth({ type: "installation", installationId: installation_id }));
  t.is(direct.status, 401);
  t.regex(direct.message, /'Expiration time' claim \('exp'\) must be a numeric value/);

  // The hook (what an Octokit instance uses) reads the emulator's Date header and signs again with the difference.
  const minted = await auth.hook(request, "POST /app/installations/{installation_id}/access_tokens", {
    installation_id,
  });
  t.is(minted.status, 201);
  t.deepEqual(
    github.requests().map((entry) => entry.status),
    [401, 401, 201],
  );
});

test("an unknown installation is 404; a repository outside the installation or permissions beyond it are 422", async (t) => {
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const now = Math.floor(Date.now() / 1000);
  const jwt = signJwt(keys.privateKey, { iat: now - 30, exp: now + 570, iss: APP_ID });
  const unknown = await failureOf(
    octokitRequest("POST /app/installations/{installation_id}/access_tokens", {
      baseUrl: github.url,
      installation_id: 999,
      headers: { authorization: `Bearer ${jwt}` },
    }),
  );
  t.is(unknown.status, 404);
  const foreign = await failureOf(mint(github, jwt, { repositories: ["web", "site"] }));
  t.is(foreign.status, 422);
  t.regex(foreign.message, /not accessible to the parent installation/);
  const tooMuch = await failureOf(mint(github, jwt, { permissions: { contents: "write" } }));
  t.is(tooMuch.status, 422);
  const all = await mint(github, jwt);
  t.is(all.data.repository_selection, "all");
  t.is(all.data.repositories, undefined);
});

// ---- scoping -------------------------------------------------------------------------------------------------------

test("a token sees only its repositories: others are 404, as GitHub hides them", async (t) => {
  const { api } = await setup(t);
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" })).status, 200);
  for (const [owner, repo] of [
    ["acme", "api"],
    ["globex", "site"],
    ["acme", "nothing"],
  ] as const) {
    const failure = await failureOf(api("GET /repos/{owner}/{repo}", { owner, repo }));
    t.is(failure.status, 404, `${owner}/${repo}`);
    t.deepEqual((failure.response?.data as { message: string }).message, "Not Found");
  }
  const hiddenCommit = await failureOf(
    api("GET /repos/{owner}/{repo}/commits/{ref}", { owner: "acme", repo: "api", ref: "main" }),
  );
  t.is(hiddenCommit.status, 404);
});

test("a token for all the installation's repositories sees each of them, and no other owner's", async (t) => {
  const { api } = await setup(t, {}, "all");
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "api" })).status, 200);
  t.is((await failureOf(api("GET /repos/{owner}/{repo}", { owner: "globex", repo: "site" }))).status, 404);
});

test("unknown, expired and uninstalled tokens are 401 Bad credentials", async (t) => {
  const clock = manualClock();
  const { api, request } = await setup(t, { now: clock.now });
  const unknown = await failureOf(
    request("GET /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "web",
      headers: { authorization: "token ghs_unknown" },
    }),
  );
  t.is(unknown.status, 401);
  t.is((unknown.response?.data as { message: string }).message, "Bad credentials");

  clock.advance(59 * 60_000);
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" })).status, 200);
  clock.advance(60_001);
  t.is((await failureOf(api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }))).status, 401);

  const second = await setup(t);
  second.github.uninstall("acme");
  t.is((await failureOf(second.api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }))).status, 401);
  const auth = createAppAuth({ appId: APP_ID, privateKey: keys.privateKey, request: second.request });
  const minting = await failureOf(
    auth({ type: "installation", installationId: second.github.installationIdFor("acme") }),
  );
  t.is(minting.status, 404);
});

test("a token without contents permission reads metadata but gets 403 on contents", async (t) => {
  const { api } = await setup(t, { permissions: { metadata: "read" } });
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" })).status, 200);
  const failure = await failureOf(
    api("GET /repos/{owner}/{repo}/commits/{ref}", { owner: "acme", repo: "web", ref: "main" }),
  );
  t.is(failure.status, 403);
  t.regex(failure.message, /Resource not accessible by integration/);
});

// ---- refs, commits, trees --------------------------------------------------------------------------------------------

const resolve = async (api: Awaited<ReturnType<typeof setup>>["api"], ref: string, repo = "web") =>
  String(
    (
      await api("GET /repos/{owner}/{repo}/commits/{ref}", {
        owner: "acme",
        repo,
        ref,
        headers: { accept: "application/vnd.github.sha" },
      })
    ).data,
  );

test("resolves branches, tags, SHAs and HEAD to commit SHAs", async (t) => {
  const { api } = await setup(t);
  const main = await resolve(api, "main");
  t.regex(main, /^[0-9a-f]{40}$/);
  t.is(await resolve(api, "HEAD"), main);
  t.is(await resolve(api, "v1.0.0"), main);
  t.is(await resolve(api, "refs/heads/main"), main);
  t.is(await resolve(api, main), main);
  t.is(await resolve(api, main.slice(0, 7)), main);
  const feature = await resolve(api, "feature/login");
  t.regex(feature, /^[0-9a-f]{40}$/);
  t.not(feature, main);

  const json = await api("GET /repos/{owner}/{repo}/commits/{ref}", { owner: "acme", repo: "web", ref: "main" });
  t.is(json.headers["content-type"], "application/json; charset=utf-8");
  t.is(json.data.sha, main);
  t.regex(json.data.commit.tree.sha, /^[0-9a-f]{40}$/);
  t.is(typeof json.data.commit.message, "string");
});

test("an unknown ref is 422 'No commit found', an unknown repository 404, an empty one 409", async (t) => {
  const { api } = await setup(t, {}, "all");
  const unknownRef = await failureOf(resolve(api, "no-such-branch"));
  t.is(unknownRef.status, 422);
  t.is((unknownRef.response?.data as { message: string }).message, "No commit found for SHA: no-such-branch");
  t.is((await failureOf(resolve(api, "../../etc"))).status, 422);
  const unknownRepo = await failureOf(resolve(api, "main", "nothing"));
  t.is(unknownRepo.status, 404);
  t.is((unknownRepo.response?.data as { message: string }).message, "Not Found");
  const empty = await failureOf(resolve(api, "main", "empty"));
  t.is(empty.status, 409);
  t.is((empty.response?.data as { message: string }).message, "Git Repository is empty.");
});

test("lists a recursive tree with folders, modes and sizes; non-recursive lists the top level", async (t) => {
  const { api } = await setup(t);
  const main = await resolve(api, "main");
  const { data } = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "acme",
    repo: "web",
    tree_sha: main,
    recursive: "1",
  });
  t.false(data.truncated);
  const byPath = new Map(data.tree.map((entry) => [entry.path, entry]));
  t.deepEqual(
    data.tree.map((entry) => entry.path),
    ["bin", "bin/start", "package.json", "public", "public/logo.png", "src", "src/index.js"],
  );
  t.is(byPath.get("src")?.type, "tree");
  t.is(byPath.get("src")?.mode, "040000");
  t.is(byPath.get("bin/start")?.mode, "100755");
  t.is(byPath.get("package.json")?.type, "blob");
  t.is(byPath.get("package.json")?.size, REPOSITORIES["acme/web"].files["package.json"].length);
  t.is(byPath.get("src")?.size, undefined);

  const top = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "acme",
    repo: "web",
    tree_sha: main,
  });
  t.deepEqual(
    top.data.tree.map((entry) => entry.path),
    ["bin", "package.json", "public", "src"],
  );
  t.is(top.data.sha, data.sha);
  const subtree = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "acme",
    repo: "web",
    tree_sha: byPath.get("src")!.sha!,
  });
  t.deepEqual(
    subtree.data.tree.map((entry) => entry.path),
    ["index.js"],
  );

  const missing = await failureOf(
    api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", { owner: "acme", repo: "web", tree_sha: "f".repeat(40) }),
  );
  t.is(missing.status, 404);
});

test("marks a tree truncated beyond maxTreeEntries", async (t) => {
  const { api } = await setup(t, { maxTreeEntries: 3 });
  const { data } = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "acme",
    repo: "web",
    tree_sha: "main",
    recursive: "1",
  });
  t.true(data.truncated);
  t.is(data.tree.length, 3);
});

test("in-memory repositories hash their trees exactly as git does", async (t) => {
  const files = {
    "a.b": "dot",
    "a/c.txt": "nested",
    "a-b": "dash",
    "deep/er/still/file.md": "# deep\n",
    "run.sh": { content: "#!/bin/sh\n", executable: true },
  };
  const { api } = await setup(t, { repositories: { "acme/web": { files } } });
  const { data } = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "acme",
    repo: "web",
    tree_sha: "main",
  });

  const folder = temporaryFolder(t);
  git(folder, "init", "-q");
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    writeFileSync(path.join(folder, file), typeof content === "string" ? content : content.content);
    if (typeof content !== "string") chmodSync(path.join(folder, file), 0o755);
  }
  git(folder, "add", "-A");
  t.is(data.sha, git(folder, "write-tree"));
});

// ---- git checkouts and plain folders -------------------------------------------------------------------------------

function makeCheckout(t: Parameters<typeof temporaryFolder>[0]): { root: string; folder: string } {
  const root = temporaryFolder(t);
  const folder = path.join(root, "octo", "app");
  mkdirSync(path.join(folder, "src"), { recursive: true });
  git(folder, "init", "-q", "-b", "main");
  writeFileSync(path.join(folder, "package.json"), '{ "name": "app" }');
  writeFileSync(path.join(folder, "src", "server.js"), "require('http')\n");
  git(folder, "add", "-A");
  git(folder, "commit", "-q", "-m", "first");
  git(folder, "tag", "v1");
  writeFileSync(path.join(folder, "README.md"), "# app\n");
  git(folder, "add", "-A");
  git(folder, "commit", "-q", "-m", "second");
  git(folder, "tag", "-a", "v2", "-m", "release 2");
  git(folder, "checkout", "-q", "-b", "feature/api");
  writeFileSync(path.join(folder, "api.js"), "module.exports = {}\n");
  git(folder, "add", "-A");
  git(folder, "commit", "-q", "-m", "third");
  git(folder, "checkout", "-q", "main");
  return { root, folder };
}

test("serves a git checkout's real commits, trees, files and archive", async (t) => {
  const { root, folder } = makeCheckout(t);
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, root });
  const request = octokitRequest.defaults({ baseUrl: github.url });
  const auth = createAppAuth({ appId: APP_ID, privateKey: keys.privateKey, request });
  const { token } = await auth({
    type: "installation",
    installationId: github.installationIdFor("octo"),
    repositoryNames: ["app"],
  });
  const api = request.defaults({ headers: { authorization: `token ${token}` } });
  const sha = async (ref: string) =>
    String(
      (
        await api("GET /repos/{owner}/{repo}/commits/{ref}", {
          owner: "octo",
          repo: "app",
          ref,
          headers: { accept: "application/vnd.github.sha" },
        })
      ).data,
    );

  for (const ref of ["main", "HEAD", "v1", "v2", "feature/api"]) {
    t.is(await sha(ref), git(folder, "rev-parse", `${ref}^{commit}`), ref);
  }
  const head = git(folder, "rev-parse", "HEAD");
  t.is(await sha(head.slice(0, 8)), head);
  t.is((await failureOf(sha("nope"))).status, 422);

  const commit = await api("GET /repos/{owner}/{repo}/commits/{ref}", { owner: "octo", repo: "app", ref: "main" });
  t.is(commit.data.commit.message, "second");
  t.is(commit.data.commit.author?.email, "author@example.test");
  t.deepEqual(
    commit.data.parents.map((parent) => parent.sha),
    [git(folder, "rev-parse", "v1")],
  );

  const tree = await api("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
    owner: "octo",
    repo: "app",
    tree_sha: head,
    recursive: "1",
  });
  t.is(tree.data.sha, git(folder, "rev-parse", "HEAD^{tree}"));
  t.deepEqual(
    tree.data.tree.map((entry) => `${entry.type} ${entry.path}`),
    ["blob README.md", "blob package.json", "tree src", "blob src/server.js"],
  );

  const feature = await sha("feature/api");
  const blobs = await api("POST /graphql", {
    query:
      "query($owner:String!,$name:String!,$e0:String!,$e1:String!){repository(owner:$owner,name:$name){f0:object(expression:$e0){...on Blob{text}} f1:object(expression:$e1){...on Blob{text}}}}",
    variables: { owner: "octo", name: "app", e0: `${feature}:api.js`, e1: `${head}:api.js` },
  });
  t.deepEqual((blobs.data as { data: unknown }).data, {
    repository: { f0: { text: "module.exports = {}\n" }, f1: null },
  });

  const zip = await api("GET /repos/{owner}/{repo}/zipball/{ref}", { owner: "octo", repo: "app", ref: head });
  const { entries, comment } = readZip(new Uint8Array(zip.data as ArrayBuffer));
  const prefix = `octo-app-${head.slice(0, 7)}/`;
  t.deepEqual(entries.map((entry) => entry.path).sort(), [
    prefix,
    `${prefix}README.md`,
    `${prefix}package.json`,
    `${prefix}src/`,
    `${prefix}src/server.js`,
  ]);
  t.is(comment, head);
});

test("a plain folder is branch main at a commit hashed from its content; an edit moves the branch", async (t) => {
  const root = temporaryFolder(t);
  const folder = path.join(root, "solo", "site");
  mkdirSync(path.join(folder, "pages"), { recursive: true });
  writeFileSync(path.join(folder, "index.html"), "<h1>v1</h1>");
  writeFileSync(path.join(folder, "pages", "about.html"), "about");
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, root });
  const request = octokitRequest.defaults({ baseUrl: github.url });
  const auth = createAppAuth({ appId: APP_ID, privateKey: keys.privateKey, request });
  const { token } = await auth({
    type: "installation",
    installationId: github.installationIdFor("solo"),
    repositoryNames: ["site"],
  });
  const api = request.defaults({ headers: { authorization: `token ${token}` } });
  const resolveMain = async () =>
    String(
      (
        await api("GET /repos/{owner}/{repo}/commits/{ref}", {
          owner: "solo",
          repo: "site",
          ref: "main",
          headers: { accept: "application/vnd.github.sha" },
        })
      ).data,
    );

  const first = await resolveMain();
  t.is(await resolveMain(), first, "the same content gives the same SHA");
  writeFileSync(path.join(folder, "index.html"), "<h1>v2</h1>");
  const second = await resolveMain();
  t.not(second, first);
  // The first commit stays readable by SHA after the folder changed.
  const old = await api("POST /graphql", {
    query: 'query($e:String!){repository(owner:"solo",name:"site"){f0:object(expression:$e){...on Blob{text}}}}',
    variables: { e: `${first}:index.html` },
  });
  t.deepEqual((old.data as { data: unknown }).data, { repository: { f0: { text: "<h1>v1</h1>" } } });
});

// ---- GraphQL ---------------------------------------------------------------------------------------------------------

test("reads many files in one GraphQL request: text, missing, binary, folder; and the rate limit", async (t) => {
  const { api, github } = await setup(t);
  const main = await resolve(api, "main");
  const paths = ["package.json", "nope.txt", "public/logo.png", "src"];
  const declarations = ["$owner:String!", "$name:String!", ...paths.map((_, i) => `$e${i}:String!`)].join(",");
  const fields = paths
    .map((_, i) => `f${i}:object(expression:$e${i}){...on Blob{text isBinary byteSize isTruncated}}`)
    .join(" ");
  const variables = Object.fromEntries([
    ["owner", "acme"],
    ["name", "web"],
    ...paths.map((file, i) => [`e${i}`, `${main}:${file}`]),
  ]);
  const response = await api("POST /graphql", {
    query: `query(${declarations}){repository(owner:$owner,name:$name){${fields}} rateLimit{cost remaining resetAt}}`,
    variables,
  });
  t.is(response.headers["x-ratelimit-resource"], "graphql");
  const data = (
    response.data as {
      data: { repository: Record<string, unknown>; rateLimit: { cost: number; remaining: number; resetAt: string } };
    }
  ).data;
  t.deepEqual(data.repository.f0, {
    text: REPOSITORIES["acme/web"].files["package.json"],
    isBinary: false,
    byteSize: REPOSITORIES["acme/web"].files["package.json"].length,
    isTruncated: false,
  });
  t.is(data.repository.f1, null);
  t.deepEqual(data.repository.f2, { text: null, isBinary: true, byteSize: 7, isTruncated: false });
  t.deepEqual(data.repository.f3, {}, "a folder is a Tree: the Blob fragment selects nothing");
  t.is(data.rateLimit.cost, 1);
  t.is(data.rateLimit.remaining, 4999);
  t.regex(data.rateLimit.resetAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(github.requests().filter((entry) => entry.operation === "POST /graphql").length, 1);
});

test("GraphQL understands literals, named fragments, refs in expressions and __typename", async (t) => {
  const { api } = await setup(t);
  const response = await api("POST /graphql", {
    query: `
      # a comment
      query Files {
        repository(owner: "acme", name: "web") {
          nameWithOwner
          a: object(expression: "main:src/index.js") { __typename ...BlobText }
          b: object(expression: "feature/login:package.json") { ... on Blob { text } }
          c: object(expression: "v1.0.0") { __typename ... on Commit { oid } }
        }
      }
      fragment BlobText on Blob { text }`,
  });
  const data = (response.data as { data: { repository: Record<string, unknown> } }).data;
  t.is(data.repository.nameWithOwner, "acme/web");
  t.deepEqual(data.repository.a, { __typename: "Blob", text: "console.log('hello')\n" });
  t.deepEqual(data.repository.b, { text: '{ "name": "web-login" }' });
  t.deepEqual(data.repository.c, { __typename: "Commit", oid: await resolve(api, "main") });
});

test("GraphQL refuses what it does not know, like GitHub: syntax, unknown fields, mutations, bad variables", async (t) => {
  const { api, request } = await setup(t);
  const errorsOf = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await api("POST /graphql", { query, variables });
    t.is(response.status, 200);
    return ((response.data as { errors?: { message: string }[] }).errors ?? []).map((error) => error.message);
  };
  t.deepEqual(await errorsOf('query { repository(owner: "acme" name: "web") { '), ["Unexpected end of document"]);
  t.deepEqual(
    await errorsOf('{ repository(owner:"acme",name:"web") { object(expression:"main:x") { ... on Blob { bogus } } } }'),
    ["Field 'bogus' doesn't exist on type 'Blob'"],
  );
  t.regex((await errorsOf("mutation { addStar { clientMutationId } }"))[0] ?? "", /queries only/);
  t.regex(
    (await errorsOf('query($e:String!){ repository(owner:"acme",name:"web"){ object(expression:$e){ oid } } }'))[0] ??
      "",
    /Variable \$e of type String! was provided invalid value/,
  );
  t.regex(
    (await errorsOf('{ repository(owner:"acme",name:"web"){ object(expression:$nope){ oid } } }'))[0] ?? "",
    /Variable \$nope is used .* but not declared/,
  );
  t.regex((await errorsOf('{ repository(owner:"acme") { name } }'))[0] ?? "", /missing required arguments: name/);

  const hidden = await api("POST /graphql", { query: '{ repository(owner:"acme",name:"api"){ name } }' });
  t.deepEqual((hidden.data as { data: unknown }).data, { repository: null });
  t.is((hidden.data as { errors: { type: string }[] }).errors[0]?.type, "NOT_FOUND");

  const anonymous = await failureOf(request("POST /graphql", { query: "{ rateLimit { remaining } }" }));
  t.is(anonymous.status, 401);
  t.is(anonymous.response?.headers["x-ratelimit-limit"], "60", "refusals carry rate-limit headers too");
  const badToken = await failureOf(
    request("POST /graphql", { query: "{ rateLimit { remaining } }", headers: { authorization: "bearer ghs_nope" } }),
  );
  t.is(badToken.status, 401);
});

test("GraphQL answers an unknown field and a syntax error in GitHub's error shape, with no data", async (t) => {
  const { api } = await setup(t);
  const unknown = await api("POST /graphql", {
    query:
      '{\n  repository(owner:"acme",name:"web") {\n    f0: object(expression:"main:x") { ... on Blob { bogus } }\n  }\n}',
  });
  t.is(unknown.status, 200);
  // refined-github/refined-github#6946: the static path from "query", the code and names in `extensions`.
  t.deepEqual(unknown.data, {
    errors: [
      {
        path: ["query", "repository", "f0", "... on Blob", "bogus"],
        extensions: { code: "undefinedField", typeName: "Blob", fieldName: "bogus" },
        locations: [{ line: 3, column: 53 }],
        message: "Field 'bogus' doesn't exist on type 'Blob'",
      },
    ],
  });

  const syntax = await api("POST /graphql", { query: 'query {\n  repository(owner: "acme", name: ) { name }\n}' });
  t.is(syntax.status, 200);
  // pyvec/python.cz#417: `Parse error on ")" (RPAREN) at [25, 23]`.
  t.deepEqual(syntax.data, {
    errors: [{ message: 'Parse error on ")" (RPAREN) at [2, 35]', locations: [{ line: 2, column: 35 }] }],
  });
});

test("GraphQL runs the file-read query the runtime sends, one alias per file, a failed alias nulled alone", async (t) => {
  const { api, github } = await setup(t);
  const main = await resolve(api, "main");
  github.configure({ blobTextLimitBytes: 10 });
  github.failObjects({ expression: /:src\/index\.js$/, message: "Something went wrong while resolving this object." });
  const { query, variables } = blobsQuery("acme", "web", main, ["package.json", "src/index.js", "nope.txt"]);
  const response = await api("POST /graphql", { query, variables });
  t.is(response.status, 200);
  t.deepEqual(response.data, {
    data: {
      repository: {
        f0: { text: '{ "name": ', isBinary: false, isTruncated: true },
        f1: null,
        f2: null,
      },
    },
    errors: [
      {
        type: "INTERNAL",
        path: ["repository", "f1"],
        locations: [{ line: 1, column: query.indexOf("f1:") + 1 }],
        message: "Something went wrong while resolving this object.",
      },
    ],
  });
});

// ---- archives --------------------------------------------------------------------------------------------------------

test("zipball redirects to a codeload link on another origin that serves a ZIP with one top-level folder", async (t) => {
  const clock = manualClock();
  const { api, github } = await setup(t, { now: clock.now });
  const main = await resolve(api, "main");
  const response = await api("GET /repos/{owner}/{repo}/zipball/{ref}", { owner: "acme", repo: "web", ref: "main" });
  t.is(response.status as number, 200, "fetch followed the redirect");
  t.not(new URL(github.codeloadUrl).origin, new URL(github.url).origin, "codeload is another origin");
  t.true(response.url.startsWith(`${github.codeloadUrl}/acme/web/legacy.zip/${main}?token=`));
  t.is(response.headers["content-length"], undefined, "a freshly generated archive is streamed without a length");
  const again = await fetch(response.url);
  t.is(again.headers.get("content-length"), String((response.data as ArrayBuffer).byteLength), "then with one");
  const archive = Buffer.from(response.data as ArrayBuffer);
  const prefix = `acme-web-${main.slice(0, 7)}/`;
  const { entries, comment } = readZip(archive);
  t.is(comment, main);
  t.true(entries.every((entry) => entry.path.startsWith(prefix)));
  const files = new Map(entries.map((entry) => [entry.path, entry]));
  t.is(files.get(`${prefix}src/index.js`)?.content.toString(), "console.log('hello')\n");
  t.deepEqual(
    [...(files.get(`${prefix}public/logo.png`)?.content ?? [])],
    [...REPOSITORIES["acme/web"].files["public/logo.png"]],
  );
  t.is((files.get(`${prefix}bin/start`)?.mode ?? 0) & 0o777, 0o755);

  // unzip, when the machine has it, must agree (it checks every CRC with -t).
  const folder = temporaryFolder(t);
  const file = path.join(folder, "source.zip");
  writeFileSync(file, archive);
  let listing: string | undefined;
  try {
    listing = execFileSync("unzip", ["-l", file], { encoding: "utf8" });
    execFileSync("unzip", ["-tq", file]);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    t.log("unzip is not installed: checked through the central directory only");
  }
  if (listing !== undefined) {
    for (const entry of entries) t.true(listing.includes(entry.path), entry.path);
  }

  const location = response.url;
  const redirect = github.requests().find((entry) => entry.status === 302);
  t.truthy(redirect);
  t.false(
    JSON.stringify(github.requests()).includes(new URL(location).searchParams.get("token")!),
    "the log redacts the link's token",
  );
  const tampered = await fetch(location.replace(/token=\d+\./, "token=1."));
  t.is(tampered.status, 404);
  const untokened = await fetch(location.split("?")[0]!);
  t.is(untokened.status, 404);
  clock.advance(6 * 60_000);
  t.is((await fetch(location)).status, 404, "the link expires");
});

// ---- rate limits -----------------------------------------------------------------------------------------------------

test("rate limits: headers on every answer; 403 with remaining 0 and reset when the budget is spent", async (t) => {
  const clock = manualClock();
  // Tokens outlive the rate-limit window here, so the test can wait for the reset with the same token.
  const { api, github, token } = await setup(t, {
    now: clock.now,
    rateLimit: { core: 3, graphql: 1 },
    tokenLifetimeMs: 3 * 3_600_000,
  });
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const response = await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" });
    remaining.push(response.headers["x-ratelimit-remaining"]!);
    t.is(response.headers["x-ratelimit-limit"], "3");
    t.is(response.headers["x-ratelimit-resource"], "core");
  }
  t.deepEqual(remaining, ["2", "1", "0"]);
  const limited = await failureOf(api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }));
  t.is(limited.status, 403);
  t.regex(limited.message, /API rate limit exceeded for installation ID \d+/);
  const headers = limited.response!.headers;
  t.is(headers["x-ratelimit-remaining"], "0");
  t.is(headers["x-ratelimit-used"], "3");
  const reset = Number(headers["x-ratelimit-reset"]);
  t.true(reset * 1000 > clock.now() && reset * 1000 <= clock.now() + 3_600_000 + 1000);

  clock.advance(reset * 1000 - clock.now() + 1);
  const afterReset = await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" });
  t.is(afterReset.headers["x-ratelimit-remaining"], "2");

  // GraphQL has its own budget; exhausted, GitHub answers 200 with a RATE_LIMITED error.
  const query = { query: "{ rateLimit { remaining } }" };
  t.is(
    ((await api("POST /graphql", query)).data as { data: { rateLimit: { remaining: number } } }).data.rateLimit
      .remaining,
    0,
  );
  const graphqlLimited = await api("POST /graphql", query);
  t.is(graphqlLimited.status, 200);
  t.is(graphqlLimited.headers["x-ratelimit-remaining"], "0");
  t.is((graphqlLimited.data as { errors: { type: string }[] }).errors[0]?.type, "RATE_LIMITED");

  github.exhaustRateLimit(token);
  t.is((await failureOf(api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }))).status, 403);
});

// ---- faults ----------------------------------------------------------------------------------------------------------

test("injected 5xx answer the next matching requests, then the emulator answers again", async (t) => {
  const { api, github } = await setup(t);
  github.inject({
    operation: "GET /repos/{owner}/{repo}/commits/{ref}",
    status: 502,
    body: { message: "Server Error" },
    times: 2,
  });
  t.is((await failureOf(resolve(api, "main"))).status, 502);
  // Another route is not affected by the fault.
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" })).status, 200);
  t.is((await failureOf(resolve(api, "main"))).status, 502);
  t.regex(await resolve(api, "main"), /^[0-9a-f]{40}$/);
  const commits = github.requests().filter((entry) => entry.operation === "GET /repos/{owner}/{repo}/commits/{ref}");
  t.deepEqual(
    commits.map((entry) => [entry.status, entry.faulted]),
    [
      [502, true],
      [502, true],
      [200, false],
    ],
  );
});

test("a secondary rate limit is a fault with retry-after, as 429 or 403", async (t) => {
  const { api, github } = await setup(t);
  github.inject({ method: "POST", path: /^\/graphql$/, ...secondaryRateLimit({ retryAfterSeconds: 30, status: 429 }) });
  const failure = await failureOf(api("POST /graphql", { query: "{ rateLimit { remaining } }" }));
  t.is(failure.status, 429);
  t.is(failure.response?.headers["retry-after"], "30");
  t.regex(failure.message, /secondary rate limit/);
  github.inject({ path: "/repos/acme/web$", ...secondaryRateLimit() });
  const forbidden = await failureOf(api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" }));
  t.is(forbidden.status, 403);
  t.is(forbidden.response?.headers["retry-after"], "60");
});

test("a hung request never answers until the client gives up; close() still returns promptly", async (t) => {
  const { api, github } = await setup(t);
  github.inject({ path: /\/commits\//, hang: true });
  const started = Date.now();
  const failure = await failureOf(
    api("GET /repos/{owner}/{repo}/commits/{ref}", {
      owner: "acme",
      repo: "web",
      ref: "main",
      request: { signal: AbortSignal.timeout(300) },
    }),
  );
  // octokit reports a timed-out request as status 500 (what Slipway's retry treats as "GitHub did not answer").
  t.is(failure.status, 500);
  t.regex(failure.message, /abort|timeout/i);
  t.true(Date.now() - started >= 290);
  github.inject({ path: /\/commits\//, hang: true });
  const hanging = api("GET /repos/{owner}/{repo}/commits/{ref}", { owner: "acme", repo: "web", ref: "main" }).catch(
    (error: unknown) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = Date.now();
  await github.close();
  t.true(Date.now() - closing < 2000);
  t.truthy(await hanging, "the hung request ends with an error when the emulator closes");
  const hung = github.requests().filter((entry) => entry.faulted);
  t.deepEqual(
    hung.map((entry) => entry.status),
    [undefined, undefined],
  );
});

test("delays and extra headers apply to the real answer; the log holds no credentials; reset forgets faults", async (t) => {
  const { api, github, token } = await setup(t);
  github.inject({ method: "get", path: /^\/repos\/acme\/web$/, delayMs: 200, headers: { "x-emulator-note": "slow" } });
  const started = Date.now();
  const response = await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" });
  t.true(Date.now() - started >= 190);
  t.is(response.headers["x-emulator-note"], "slow");
  t.is(response.data.full_name, "acme/web");

  const log = JSON.stringify(github.requests());
  t.false(log.includes(token));
  t.false(log.toLowerCase().includes("authorization"));

  github.inject({ status: 500, times: Number.POSITIVE_INFINITY });
  github.reset();
  t.deepEqual(github.requests(), []);
  t.is((await api("GET /repos/{owner}/{repo}", { owner: "acme", repo: "web" })).status, 200);
});
