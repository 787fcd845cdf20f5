import test from "ava";
import fc from "fast-check";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheControlFor, createDashboardSite } from "../local/platform/dashboardSite";
import { createLocalSignIn } from "../local/platform/localSignIn";
import { generateKeyPairSync } from "node:crypto";
import { PermanentError } from "../runtime/errors";
import { DetectionError } from "../runtime/detect/detectionError";
import { statusReasonOf } from "../runtime/inspect/inspectDeployment";
import { longestWaterfall } from "./helpers/browser";
import { apiErrorOf, createApiClient, isMissingRoute } from "../web/src/api";
import { nextDelay, startPolling } from "../web/src/backoff";
import { parseDashboardConfig } from "../web/src/dashboardConfig";
import { installationState, linkRequestFromSetupUrl, projectRequest } from "../web/src/onboarding";
import { createKeyKeeper, deploymentRequest } from "../web/src/deploymentRequest";
import { mergeFirstPage } from "../web/src/mergeDeployments";
import { relativeTime } from "../web/src/relativeTime";
import { elapsed, historyLines } from "../web/src/statusHistory";
import { createRepositoryList, filterRepositories, mergeRepositories, refAfterPick } from "../web/src/repositoryList";
import { followLog, isScrolledToBottom } from "../web/src/logFollower";
import { cancelState, statusDisplay } from "../web/src/status";
import { suggestedActions } from "../web/src/suggestedActions";
import type { Deployment } from "../web/src/types";

const NOW = Date.parse("2026-11-30T12:00:00Z");

test("relativeTime: the largest unit that fits", (t) => {
  t.is(relativeTime("2026-11-30T11:59:55Z", NOW), "just now");
  t.is(relativeTime("2026-11-30T11:59:30Z", NOW), "30 seconds ago");
  t.is(relativeTime("2026-11-30T11:55:00Z", NOW), "5 minutes ago");
  t.is(relativeTime("2026-11-30T09:00:00Z", NOW), "3 hours ago");
  t.is(relativeTime("2026-11-29T12:00:00Z", NOW), "yesterday");
  t.is(relativeTime("not a date", NOW), "not a date");
});

test("nextDelay: back to the minimum on a change, grows to the maximum otherwise", (t) => {
  const settings = { minMs: 1000, maxMs: 8000, factor: 2 };
  t.is(nextDelay(8000, "changed", settings), 1000);
  t.is(nextDelay(1000, "unchanged", settings), 2000);
  t.is(nextDelay(4000, "failed", settings), 8000);
  t.is(nextDelay(8000, "unchanged", settings), 8000);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1e6 }),
      fc.constantFrom("changed", "unchanged", "failed" as const),
      (previous, outcome) => {
        const next = nextDelay(previous, outcome, settings);
        return next >= settings.minMs && next <= settings.maxMs;
      },
    ),
  );
});

test("startPolling: waits by nextDelay, stops on 'stop', and stop() aborts the request in flight", async (t) => {
  const waits: number[] = [];
  const pending: (() => void)[] = [];
  const timers = {
    set: (run: () => void, ms: number) => (waits.push(ms), pending.push(run), pending.length),
    clear: () => undefined,
  };
  const outcomes = ["unchanged", "unchanged", "changed", "stop"] as const;
  let calls = 0;
  startPolling(async () => outcomes[calls++]!, { minMs: 100, maxMs: 1000, factor: 2 }, timers);
  while (pending.length > 0) {
    pending.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.is(calls, 4);
  t.deepEqual(waits, [0, 200, 400, 100]);

  let signal: AbortSignal | undefined;
  const poller = startPolling(async (s) => {
    signal = s;
    return new Promise(() => undefined);
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  poller.stop();
  t.true(signal?.aborted);
});

test("mergeFirstPage: fresh items first, older loaded ones kept, changes noticed", (t) => {
  const d = (id: string, updatedAt = "1", status = "PENDING") => ({ id, updatedAt, status }) as unknown as Deployment;
  const shown = [d("b"), d("a")];
  t.deepEqual(mergeFirstPage(shown, [d("b"), d("a")]), { items: shown, changed: false });
  const moved = mergeFirstPage(shown, [d("b", "2", "BUILDING")]);
  t.true(moved.changed);
  t.deepEqual(
    moved.items.map((x) => x.id),
    ["b", "a"],
  );
  const added = mergeFirstPage(shown, [d("c"), d("b")]);
  t.deepEqual(
    added.items.map((x) => x.id),
    ["c", "b", "a"],
  );
  t.true(added.changed);
});

test("suggestedActions: AMBIGUOUS_ROOT candidates become redeploys, GITHUB_APP_NOT_INSTALLED its install link", (t) => {
  t.deepEqual(
    suggestedActions({
      code: "AMBIGUOUS_ROOT",
      message: "…",
      candidates: [{ rootDirectory: "apps/api", framework: "express" }, { rootDirectory: "" }],
    }),
    [
      { kind: "redeploy", rootDirectory: "apps/api", label: "Deploy apps/api (express)" },
      { kind: "redeploy", rootDirectory: "", label: "Deploy the repository root" },
    ],
  );
  t.deepEqual(
    suggestedActions({
      code: "GITHUB_APP_NOT_INSTALLED",
      message: "Install it on acme at https://github.com/apps/slipway/installations/new, then deploy again.",
    }),
    [{ kind: "link", href: "https://github.com/apps/slipway/installations/new", label: "Install the GitHub App" }],
  );
  t.deepEqual(
    suggestedActions({ code: "GITHUB_APP_NOT_INSTALLED", message: "Install it on acme, then deploy again." }),
    [],
  );
  t.deepEqual(suggestedActions({ code: "NO_FRAMEWORK", message: "…" }), []);
  t.deepEqual(suggestedActions(undefined), []);
});

test("statusReasonOf: a detection failure keeps its candidate folders; other permanent errors have none", (t) => {
  const ambiguous = new DetectionError("AMBIGUOUS_ROOT", "two apps", [
    { rootDirectory: "apps/api", framework: "express" },
    { rootDirectory: "apps/docker", framework: null },
  ]);
  t.deepEqual(statusReasonOf(ambiguous), {
    code: "AMBIGUOUS_ROOT",
    message: "two apps",
    candidates: [{ rootDirectory: "apps/api", framework: "express" }, { rootDirectory: "apps/docker" }],
  });
  t.deepEqual(statusReasonOf(new PermanentError("GITHUB_APP_NOT_INSTALLED", "install it")), {
    code: "GITHUB_APP_NOT_INSTALLED",
    message: "install it",
  });
});

test("the Deploy form: empty optional fields left out; one Idempotency-Key per intent", (t) => {
  t.deepEqual(deploymentRequest({ repository: " acme/shop ", ref: "", rootDirectory: " apps/web " }), {
    repository: "acme/shop",
    rootDirectory: "apps/web",
  });
  let n = 0;
  const keys = createKeyKeeper(() => `k${++n}`);
  const body = { repository: "acme/shop" };
  t.is(keys.keyFor(body), "k1");
  t.is(keys.keyFor({ ...body }), "k1", "a double click or retry reuses the key");
  t.is(keys.keyFor({ repository: "acme/shop", ref: "v2" }), "k2", "another body is another intent");
  keys.reset();
  t.is(keys.keyFor({ repository: "acme/shop", ref: "v2" }), "k3", "after a success the next click is new");
});

test("statusDisplay: final statuses stop polling; unknown ones keep updating", (t) => {
  t.true(statusDisplay("FAILED").final);
  t.true(statusDisplay("SUCCEEDED").final);
  t.false(statusDisplay("BUILDING").final);
  t.deepEqual(statusDisplay("NEWLY_INVENTED"), { label: "NEWLY_INVENTED", tone: "neutral", final: false });
});

test("parseDashboardConfig: names the field that is wrong", (t) => {
  const good = { apiUrl: "https://api.example.com", issuer: "https://issuer", clientId: "abc" };
  t.deepEqual(parseDashboardConfig(good), good);
  t.deepEqual(parseDashboardConfig({ ...good, apiUrl: "" }), { ...good, apiUrl: "" });
  t.throws(() => parseDashboardConfig({ ...good, clientId: 5 }), { message: /clientId must be a string/ });
  t.throws(() => parseDashboardConfig({ ...good, apiUrl: "https://api.example.com/" }), { message: /apiUrl/ });
  t.throws(() => parseDashboardConfig([]), { message: /JSON object/ });
});

test("the API client: the API's errors keep code, message and field; the gateway's 404 means a missing route", async (t) => {
  t.like(apiErrorOf(400, { error: { code: "INVALID_REQUEST", message: "bad ref", field: "ref" } }), {
    status: 400,
    code: "INVALID_REQUEST",
    message: "bad ref",
    field: "ref",
  });
  t.true(isMissingRoute(apiErrorOf(404, { message: "Not Found" })));
  t.false(isMissingRoute(apiErrorOf(404, { error: { code: "DEPLOYMENT_NOT_FOUND", message: "no" } })));

  const seen: { url: string; init: RequestInit }[] = [];
  let unauthorized = 0;
  const client = createApiClient({
    baseUrl: "https://api.example.com",
    token: () => "t0k",
    onUnauthorized: () => unauthorized++,
    fetch: async (url, init) => {
      seen.push({ url: String(url), init: init! });
      return String(url).endsWith("/deployments")
        ? new Response(JSON.stringify({ id: "d1" }), { status: 202 })
        : new Response(JSON.stringify({ message: "Unauthorized" }), { status: 401 });
    },
  });
  t.like(await client.createDeployment({ repository: "acme/shop" }, "key-1"), { id: "d1" });
  t.like(seen[0]!.init.headers, {
    authorization: "Bearer t0k",
    "idempotency-key": "key-1",
    "content-type": "application/json",
  });
  t.is(seen[0]!.init.body, JSON.stringify({ repository: "acme/shop" }));
  await t.throwsAsync(client.getDeployment("d1"), { message: "Unauthorized" });
  t.is(unauthorized, 1);
});

const issuerKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();

function signIn(now = () => NOW) {
  return createLocalSignIn({
    privateKeyPem: issuerKey,
    users: () => ["demo", "other"],
    redirectOrigins: () => ["http://127.0.0.1:3000"],
    now,
  });
}

const VERIFIER = "v".repeat(50);
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");
const AUTHORIZE = {
  client_id: "slipway-local",
  redirect_uri: "http://127.0.0.1:3000/callback",
  response_type: "code",
  code_challenge: CHALLENGE,
  code_challenge_method: "S256",
  state: "s1",
};

function authorize(handler: ReturnType<typeof signIn>, user: string, overrides: Record<string, string> = {}) {
  return handler({
    method: "POST",
    path: "/local-issuer/authorize",
    query: new URLSearchParams(),
    form: new URLSearchParams({ ...AUTHORIZE, ...overrides, user }),
  });
}

async function redeem(handler: ReturnType<typeof signIn>, code: string, overrides: Record<string, string> = {}) {
  const response = (await handler({
    method: "POST",
    path: "/local-issuer/token",
    query: new URLSearchParams(),
    form: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      client_id: "slipway-local",
      redirect_uri: AUTHORIZE.redirect_uri,
      code_verifier: VERIFIER,
      ...overrides,
    }),
  }))!;
  return { status: response.status, body: JSON.parse(response.body.toString()) };
}

test("local sign-in: the page lists the users; a code redeemed once with its PKCE verifier gives the user's token", async (t) => {
  const handler = signIn();
  const page = (await handler({
    method: "GET",
    path: "/local-issuer/authorize",
    query: new URLSearchParams(AUTHORIZE),
    form: new URLSearchParams(),
  }))!;
  t.is(page.status, 200);
  t.regex(page.body.toString(), /Sign in as demo.*Sign in as other/s);
  const redirect = (await authorize(handler, "demo"))!;
  t.is(redirect.status, 302);
  const location = new URL(redirect.headers.location!);
  t.is(location.searchParams.get("state"), "s1");
  const code = location.searchParams.get("code")!;
  const tokens = await redeem(handler, code);
  t.is(tokens.status, 200);
  t.is(tokens.body.token_type, "Bearer");
  const claims = JSON.parse(Buffer.from(tokens.body.access_token.split(".")[1], "base64url").toString());
  t.like(claims, { sub: "demo", aud: "slipway-local", iss: "https://slipway.local/" });
  t.like(await redeem(handler, code), { status: 400, body: { error: "invalid_grant" } }, "a code is single use");
});

test("local sign-in refuses what a real provider refuses", async (t) => {
  let now = NOW;
  const handler = signIn(() => now);
  const refused = async (overrides: Record<string, string>) =>
    (await handler({
      method: "GET",
      path: "/local-issuer/authorize",
      query: new URLSearchParams({ ...AUTHORIZE, ...overrides }),
      form: new URLSearchParams(),
    }))!;
  t.is((await refused({ client_id: "someone-else" })).status, 400);
  t.is((await refused({ redirect_uri: "https://evil.example/callback" })).status, 400);
  t.is((await refused({ code_challenge_method: "plain" })).status, 400);
  t.is((await authorize(handler, "has space"))!.status, 400);

  const codeOf = async () => new URL((await authorize(handler, "demo"))!.headers.location!).searchParams.get("code")!;
  t.like(await redeem(handler, await codeOf(), { code_verifier: "w".repeat(50) }), {
    status: 400,
    body: { error: "invalid_grant" },
  });
  t.like(await redeem(handler, await codeOf(), { redirect_uri: "http://127.0.0.1:3000/other" }), { status: 400 });
  t.like(await redeem(handler, await codeOf(), { client_id: "x" }), { status: 401, body: { error: "invalid_client" } });
  const late = await codeOf();
  now += 61_000;
  t.like(await redeem(handler, late), { status: 400, body: { error: "invalid_grant" } }, "codes expire");
});

test("the dashboard site: files with the build's cache headers, SPA fallback for pages only, no way out of dist", async (t) => {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-dist-"));
  fs.mkdirSync(path.join(dist, "assets"));
  fs.writeFileSync(path.join(dist, "index.html"), "<html>app</html>");
  fs.writeFileSync(path.join(dist, "assets", "index-abc.js"), "console.log(1)");
  fs.writeFileSync(path.join(os.tmpdir(), "secret.txt"), "no");
  const site = createDashboardSite({ distDir: dist, config: () => ({ apiUrl: "", issuer: "i", clientId: "c" }) });
  const get = (target: string, accept = "text/html") =>
    site({ method: "GET", target, headers: { accept }, body: Buffer.alloc(0) });

  const asset = (await get("/assets/index-abc.js"))!;
  t.is(asset.headers["cache-control"], "public, max-age=31536000, immutable");
  t.is(asset.headers["content-type"], "text/javascript; charset=utf-8");
  const page = (await get("/deployment/123"))!;
  t.is(page.body.toString(), "<html>app</html>");
  t.is(page.headers["cache-control"], "no-cache");
  t.is(await get("/deployments/1/logs", "application/json"), undefined, "a fetch gets the gateway's 404");
  t.is(await get("/assets/missing.js"), undefined);
  t.is(await get("/../secret.txt"), undefined);
  t.is(await get("/%2e%2e/secret.txt"), undefined);
  t.deepEqual(JSON.parse((await get("/config.json"))!.body.toString()), { apiUrl: "", issuer: "i", clientId: "c" });
  t.is(cacheControlFor("index.html"), "no-cache");
  fs.rmSync(dist, { recursive: true, force: true });
});

test("followLog: reads on from nextCursor, ends when a finished log has none, waits while nothing is logged", (t) => {
  const line = (message: string) => ({ timestamp: "2026-11-30T12:00:00.000Z", message });
  // Nothing logged yet (no build): no cursor from the start, not done while the deployment can still build.
  let step = followLog({ done: false }, { events: [] }, false);
  t.deepEqual(step, { state: { done: false }, text: "" });
  step = followLog(step.state, { events: [line("a"), line("b\n")], nextCursor: "f/1/s" }, false);
  t.deepEqual(step, { state: { cursor: "f/1/s", done: false }, text: "a\nb\n" }, "one line each, newline kept once");
  step = followLog(step.state, { events: [], nextCursor: "f/1/s" }, false);
  t.deepEqual(step, { state: { cursor: "f/1/s", done: false }, text: "" }, "an empty page while the build runs");
  step = followLog(step.state, { events: [line("c")], nextCursor: "f/2/s" }, true);
  t.false(step.state.done, "final, but lines may remain after this page");
  step = followLog(step.state, { events: [] }, true);
  t.deepEqual(step, { state: { done: true }, text: "" }, "no nextCursor after one: read to its end");
  t.true(followLog({ done: false }, { events: [] }, true).state.done, "ended before any build logged");
});

test("isScrolledToBottom: new log lines scroll the box only when its end was in view", (t) => {
  t.true(isScrolledToBottom({ scrollTop: 600, clientHeight: 400, scrollHeight: 1000 }));
  t.true(isScrolledToBottom({ scrollTop: 597, clientHeight: 400, scrollHeight: 1000 }), "a few pixels off");
  t.false(isScrolledToBottom({ scrollTop: 100, clientHeight: 400, scrollHeight: 1000 }), "the user scrolled up");
  t.true(isScrolledToBottom({ scrollTop: 0, clientHeight: 400, scrollHeight: 400 }), "nothing to scroll");
});

test("cancelState: Cancel while a deployment can be canceled and was not asked to be; none once it ended", (t) => {
  for (const status of ["PENDING", "PROCESSING", "QUEUED", "BUILDING"]) t.is(cancelState({ status }), "available");
  t.is(cancelState({ status: "BUILDING", cancelRequestedAt: "2026-11-30T12:00:00Z" }), "requested");
  for (const status of ["SUCCEEDED", "FAILED", "CANCELED", "NEWLY_INVENTED"]) t.is(cancelState({ status }), "none");
  t.deepEqual(
    ["QUEUED", "SUCCEEDED", "CANCELED"].map((status) => statusDisplay(status)),
    [
      { label: "Queued", tone: "neutral", final: false },
      { label: "Succeeded", tone: "success", final: true },
      { label: "Canceled", tone: "muted", final: true },
    ],
  );
});

test("the API client: logs with the cursor encoded, cancel's 409 keeps the API's message", async (t) => {
  const seen: string[] = [];
  const client = createApiClient({
    baseUrl: "",
    token: () => "t",
    onUnauthorized: () => undefined,
    fetch: async (url, init) => {
      seen.push(`${init?.method} ${String(url)}`);
      if (String(url).endsWith("/cancel")) {
        const error = {
          code: "DEPLOYMENT_FINISHED",
          message: "This deployment already ended SUCCEEDED; there is nothing to cancel.",
        };
        return new Response(JSON.stringify({ error }), { status: 409 });
      }
      return new Response(JSON.stringify({ events: [], nextCursor: "f/2/s" }), { status: 200 });
    },
  });
  t.deepEqual(await client.getLogs("d 1", "f/1/s"), { events: [], nextCursor: "f/2/s" });
  await t.throwsAsync(client.cancelDeployment("d1"), {
    message: "This deployment already ended SUCCEEDED; there is nothing to cancel.",
  });
  t.deepEqual(seen, ["GET /deployments/d%201/logs?cursor=f%2F1%2Fs", "POST /deployments/d1/cancel"]);
});

/** GET /repositories as the route answers: `{ items: [{ owner, name, fullName, defaultBranch, private, installationId }], nextCursor? }`. */
function repositoriesApi(pages: Record<string, unknown>, seen: string[]) {
  return createApiClient({
    baseUrl: "https://api.example.com",
    token: () => "t",
    onUnauthorized: () => undefined,
    fetch: async (url) => {
      const u = new URL(String(url));
      seen.push(u.pathname + u.search);
      const page = pages[u.searchParams.get("cursor") ?? ""];
      return page
        ? new Response(JSON.stringify(page), { status: 200 })
        : new Response(JSON.stringify({ message: "Not Found" }), { status: 404 });
    },
  });
}
const repo = (owner: string, name: string, extra: Partial<{ defaultBranch: string; private: boolean }> = {}) => ({
  owner,
  name,
  fullName: `${owner}/${name}`,
  defaultBranch: extra.defaultBranch ?? "main",
  private: extra.private ?? false,
  installationId: 7,
});

test("the Deploy dialog's repositories: pages loaded with nextCursor, duplicates left out, filtered by words", async (t) => {
  const seen: string[] = [];
  const client = repositoriesApi(
    {
      "": { items: [repo("acme", "shop"), repo("acme", "Docs", { private: true })], nextCursor: "c 2" },
      "c 2": { items: [repo("acme", "docs"), repo("zed", "shop-api", { defaultBranch: "trunk" })] },
    },
    seen,
  );
  const list = createRepositoryList((cursor) => client.listRepositories(cursor));
  t.is(list.available, undefined);
  await Promise.all([list.loadMore(), list.loadMore()]);
  t.deepEqual(seen, ["/repositories?limit=50"], "calls while a page loads share it");
  t.true(list.available);
  t.true(list.hasMore);
  await list.loadMore();
  t.deepEqual(seen, ["/repositories?limit=50", "/repositories?limit=50&cursor=c%202"]);
  t.false(list.hasMore);
  t.deepEqual(
    list.items.map((r) => r.fullName),
    ["acme/shop", "acme/Docs", "zed/shop-api"],
  );
  await list.loadMore();
  t.is(seen.length, 2, "nothing more to load");
  t.deepEqual(
    filterRepositories(list.items, " SHOP ").map((r) => r.fullName),
    ["acme/shop", "zed/shop-api"],
  );
  t.deepEqual(
    filterRepositories(list.items, "zed shop").map((r) => r.fullName),
    ["zed/shop-api"],
  );
  t.is(filterRepositories(list.items, "").length, 3);
  t.deepEqual(
    mergeRepositories([repo("a", "b")], [repo("A", "B"), repo("a", "c")]).map((r) => r.fullName),
    ["a/b", "a/c"],
  );
});

test("the Deploy dialog's repositories: the gateway's 404 leaves the typed field; other errors are errors", async (t) => {
  const absent = createRepositoryList((cursor) => repositoriesApi({}, []).listRepositories(cursor));
  await absent.loadMore();
  t.false(absent.available);
  t.deepEqual(absent.items, []);
  const failing = createRepositoryList(async () => {
    throw apiErrorOf(500, { error: { code: "INTERNAL", message: "try again" } });
  });
  await t.throwsAsync(failing.loadMore(), { message: "try again" });
  t.is(failing.available, undefined);
});

test("refAfterPick: the default branch fills the ref unless the person typed one", (t) => {
  const trunk = repo("zed", "api", { defaultBranch: "trunk" });
  t.is(refAfterPick("", undefined, trunk), "trunk");
  t.is(refAfterPick("main", "main", trunk), "trunk", "the branch an earlier pick filled in is replaced");
  t.is(refAfterPick("v2.0.0", "main", trunk), "v2.0.0", "a typed ref stays");
  t.is(refAfterPick("  ", undefined, trunk), "trunk");
});

test("the setup URL: installation_id, code and state become POST /github/installations's body, or each problem by field", (t) => {
  t.deepEqual(
    linkRequestFromSetupUrl(new URLSearchParams("installation_id=42&setup_action=install&code=abc&state=s-1")),
    {
      request: { installationId: 42, code: "abc", state: "s-1" },
      problems: [],
    },
  );
  const broken = linkRequestFromSetupUrl(new URLSearchParams("installation_id=42x&setup_action=install"));
  t.deepEqual(
    broken.problems.map((p) => p.field),
    ["installationId", "code", "state"],
  );
  t.regex(broken.problems[0]!.message, /installation_id must be GitHub's numeric installation id, not "42x"/);
  t.regex(broken.problems[1]!.message, /Request user authorization \(OAuth\) during installation/);
  t.deepEqual(
    linkRequestFromSetupUrl(new URLSearchParams("code=c&state=s")).problems.map((p) => p.field),
    ["installationId"],
  );
  t.is(
    linkRequestFromSetupUrl(new URLSearchParams("installation_id=99999999999999999&code=c&state=s")).problems.length,
    1,
  );
});

test("the onboarding calls: the paths, bodies and empty answers the routes have", async (t) => {
  const seen: string[] = [];
  const answers: Record<string, Response> = {
    "GET /github/install": Response.json({
      url: "https://github.com/apps/x/installations/new?state=s",
      state: "s",
      expiresAt: "2026-11-30T12:10:00.000Z",
    }),
    "POST /github/installations": Response.json(
      {
        installationId: 42,
        account: "acme",
        repositorySelection: "all",
        suspended: false,
        deleted: false,
        linkedAt: "2026-11-30T12:00:00.000Z",
      },
      { status: 201 },
    ),
    "DELETE /github/installations/42": new Response(null, { status: 204 }),
    "PUT /projects/acme/shop.web": Response.json({ id: "p1", repository: "acme/shop.web" }, { status: 201 }),
    "DELETE /projects/acme/shop.web": new Response(null, { status: 204 }),
    "POST /github/installations#refused": Response.json(
      { error: { code: "VALIDATION_ERROR", message: "state is unknown, expired, already used", field: "state" } },
      { status: 400 },
    ),
  };
  let refuse = false;
  const client = createApiClient({
    baseUrl: "",
    token: () => "t",
    onUnauthorized: () => undefined,
    fetch: async (url, init) => {
      const key = `${init?.method} ${String(url)}`;
      seen.push(`${key} ${init?.body ?? ""}`.trim());
      return (
        answers[refuse ? `${key}#refused` : key]?.clone() ??
        new Response(JSON.stringify({ message: "Not Found" }), { status: 404 })
      );
    },
  });
  t.is((await client.startInstall()).url, "https://github.com/apps/x/installations/new?state=s");
  t.like(await client.linkInstallation({ installationId: 42, code: "c", state: "s" }), { account: "acme" });
  t.is(await client.unlinkInstallation(42), undefined);
  t.like(await client.putProject("acme/shop.web", { autoDeploy: true, branch: "main" }), { id: "p1" });
  t.is(await client.deleteProject("acme/shop.web"), undefined);
  t.true(isMissingRoute(await client.listProjects().catch((e: unknown) => e)));
  refuse = true;
  await t.throwsAsync(client.linkInstallation({ installationId: 42, code: "c", state: "s" }), {
    message: /state is unknown/,
  });
  t.is(
    (
      (await client.linkInstallation({ installationId: 42, code: "c", state: "s" }).catch((e: unknown) => e)) as {
        field?: string;
      }
    ).field,
    "state",
  );
  t.deepEqual(seen.slice(0, 5), [
    "GET /github/install",
    'POST /github/installations {"installationId":42,"code":"c","state":"s"}',
    "DELETE /github/installations/42",
    'PUT /projects/acme/shop.web {"autoDeploy":true,"branch":"main"}',
    "DELETE /projects/acme/shop.web",
  ]);
});

test("the project form: owner/name checked first, empty optional fields left out, autoDeploy always sent", (t) => {
  t.deepEqual(
    projectRequest({ repository: " acme/shop ", branch: "", rootDirectory: " apps/web ", autoDeploy: false }),
    {
      repository: "acme/shop",
      body: { autoDeploy: false, rootDirectory: "apps/web" },
      problems: [],
    },
  );
  t.deepEqual(projectRequest({ repository: "acme/shop", branch: "release", rootDirectory: "", autoDeploy: true }), {
    repository: "acme/shop",
    body: { autoDeploy: true, branch: "release" },
    problems: [],
  });
  t.deepEqual(
    projectRequest({ repository: "shop", branch: "", rootDirectory: "", autoDeploy: true }).problems.map(
      (p) => p.field,
    ),
    ["repository"],
  );
});

test("installationState: uninstalled wins over suspended", (t) => {
  const link = { installationId: 1, account: "a", repositorySelection: "all" as const, linkedAt: null };
  t.is(installationState({ ...link, suspended: false, deleted: false }), "active");
  t.is(installationState({ ...link, suspended: true, deleted: false }), "suspended");
  t.is(installationState({ ...link, suspended: true, deleted: true }), "uninstalled");
});

test("longestWaterfall: requests overlapping in time are one step; a request waiting for another is the next", (t) => {
  const r = (url: string, start: number, end: number) => ({ url, start, end });
  const chain = longestWaterfall([
    r("/assets/index.js", 0, 50),
    r("/config.json", 5, 30),
    r("/deployments", 60, 90),
    r("/favicon", 10, 20),
  ]);
  t.deepEqual(
    chain.map((x) => x.url),
    ["/assets/index.js", "/deployments"],
  );
  t.is(longestWaterfall([r("/a", 0, 10), r("/b", 10, 20), r("/c", 25, 30)]).length, 3);
  t.deepEqual(longestWaterfall([]), []);
});

test("historyLines: oldest first, time since the line before, a repeated status marked, the reason's code kept", (t) => {
  const lines = historyLines({
    history: [
      { status: "PENDING", at: "2026-11-30T12:00:00.000Z" },
      { status: "PROCESSING", at: "2026-11-30T12:00:00.400Z" },
      { status: "PROCESSING", at: "2026-11-30T12:00:30.000Z" },
      { status: "BUILDING", at: "2026-11-30T12:03:00.000Z" },
      { status: "FAILED", at: "2026-11-30T14:03:00.000Z", reasonCode: "BUILD_FAILED" },
    ],
  });
  t.deepEqual(lines, [
    { status: "PENDING", again: false, at: "2026-11-30T12:00:00.000Z" },
    { status: "PROCESSING", again: false, at: "2026-11-30T12:00:00.400Z", after: "+0.4 s" },
    { status: "PROCESSING", again: true, at: "2026-11-30T12:00:30.000Z", after: "+30 s" },
    { status: "BUILDING", again: false, at: "2026-11-30T12:03:00.000Z", after: "+3 min" },
    { status: "FAILED", again: false, at: "2026-11-30T14:03:00.000Z", after: "+2 h", reasonCode: "BUILD_FAILED" },
  ]);
  t.is(historyLines({}), undefined, "a deployment stored before histories were kept");
  t.is(historyLines({ history: [] }), undefined);
  t.is(elapsed(-5), "", "clocks that disagree show nothing rather than a negative time");
  t.is(elapsed(Number.NaN), "");
});
