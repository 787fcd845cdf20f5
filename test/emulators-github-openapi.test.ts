/**
 * The GitHub emulator judged by GitHub's own artifacts: every operation the runtime makes (the inspector's and the
 * onboarding's: the user's installations, an installation's repositories, the listing token) is replayed against the
 * emulator, and each answer's status, headers and body are checked against GitHub's OpenAPI description
 * (`@octokit/openapi`, api.github.com, dereferenced) with ajv — and against GitHub's recorded interactions
 * (`@octokit/fixtures`) where one exists. GraphQL is not in the OpenAPI description: its answers are checked against
 * the fields GitHub's GraphQL schema documents for what the query selects. The OAuth code exchange
 * (`POST /login/oauth/access_token`) is not in the OpenAPI description either (github.com, not api.github.com): its
 * answers are checked against the shape GitHub's OAuth documentation gives (OAUTH_ANSWER below).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { request as octokitRequest } from "@octokit/request";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import anyTest, { type TestFn } from "ava";
import { secondaryRateLimit, startGitHub, type GitHubEmulator } from "../local/emulators/github";
import { createInstallationRepositories } from "../runtime/github/installationRepositories";
import { createInstallationTokens } from "../runtime/github/installationTokens";
import { createGitHubUserClient } from "../runtime/onboarding/githubUserClient";
import { createRepositorySessions } from "../runtime/inspect/repositorySessions";
import { generateAppKeys } from "./helpers/emulators";
import { withDependencies } from "./helpers/fakeRepo";

const test = anyTest as TestFn<{
  github: GitHubEmulator;
  token: string;
  jwt: string;
  installationId: number;
  commitSha: string;
  appTokens: ReturnType<typeof createInstallationTokens>;
}>;

const APP_ID = "31337";
const APP = { slug: "slipway-openapi", clientId: "Iv1.openapi", clientSecret: "s3cret", webhookSecret: "hook" };
const SPEC_FILE = require.resolve("@octokit/openapi/generated/api.github.com.deref.json");
const FIXTURES = path.dirname(require.resolve("@octokit/fixtures/package.json"));

type Schema = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }>; headers?: Record<string, unknown> }>;
}
const spec = JSON.parse(readFileSync(SPEC_FILE, "utf8")) as { paths: Record<string, Record<string, Operation>> };
/** GitHub's "basic-error" schema, as the description gives it for a 404 of the commits route. */
const BASIC_ERROR = () =>
  spec.paths["/repos/{owner}/{repo}/commits/{ref}"]!.get!.responses["404"]!.content!["application/json"]!.schema!;

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema (ajv reads JSON Schema): the type gains "null". OpenAPI-only
 * keywords (`example`, `discriminator`…) are ignored by ajv outside strict mode.
 */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === "nullable" ? undefined : toJsonSchema(value);
  delete out.nullable;
  if ((schema as Schema).nullable === true) {
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else return { anyOf: [out, { type: "null" }] };
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map<Schema, ValidateFunction>();
const validatorFor = (schema: Schema) => {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(toJsonSchema(schema) as Schema));
  return compiled.get(schema)!;
};

/** GitHub's documented answer for `status` of an operation, or its generic error shape for limits any route may meet. */
function documented(route: string, method: string, status: number) {
  const operation = spec.paths[route]?.[method];
  if (!operation) throw new Error(`GitHub's OpenAPI description has no ${method.toUpperCase()} ${route}`);
  return operation.responses[String(status)];
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Checks an answer against the description: a documented status, its documented headers, its body's schema. */
function conforms(
  t: {
    true(value: boolean, message?: string): void;
    false(value: boolean, message?: string): void;
    is(a: unknown, b: unknown, message?: string): void;
  },
  route: string,
  method: string,
  answer: Answer,
  options: { mediaType?: string; undocumentedStatusSchema?: string; singlePage?: boolean } = {},
) {
  const label = `${method.toUpperCase()} ${route} → ${answer.status}`;
  const response = documented(route, method, answer.status);
  // Rate limits (403/429) can meet any route; GitHub documents their body as basic-error.
  const fallback = options.undocumentedStatusSchema ? BASIC_ERROR() : undefined;
  t.true(response !== undefined || fallback !== undefined, `${label}: a status GitHub documents for this operation`);
  for (const name of Object.keys(response?.headers ?? {})) {
    // GitHub omits Link when every result fits on one page ("Using pagination in the REST API").
    if (name.toLowerCase() === "link" && options.singlePage) {
      t.false(answer.headers.has(name), `${label}: no Link on a single page`);
      continue;
    }
    t.true(answer.headers.has(name), `${label}: the ${name} header GitHub documents`);
  }
  const mediaType = options.mediaType ?? "application/json";
  const schema = response?.content?.[mediaType]?.schema ?? (response ? undefined : fallback);
  if (!schema) return;
  t.true(
    (answer.headers.get("content-type") ?? "").startsWith(
      mediaType === "application/json" ? "application/json" : mediaType,
    ),
    `${label}: content-type ${answer.headers.get("content-type")}`,
  );
  const body: unknown = mediaType === "application/json" ? JSON.parse(answer.text) : answer.text;
  const validate = validatorFor(schema);
  t.true(validate(body), `${label}: ${ajv.errorsText(validate.errors)}`);
}

test.before(async (t) => {
  const keys = generateAppKeys();
  const github = await startGitHub({
    appId: APP_ID,
    appPublicKey: keys.publicKey,
    app: APP,
    repositories: {
      "octo/site": {
        files: {
          "package.json": withDependencies(["next", "react", "react-dom"], { scripts: { build: "next build" } }),
          "pages/index.js": "export default () => null;\n",
          "README.md": "# site\n",
        },
      },
      "octo/empty": { files: {} },
    },
  });
  const installationId = github.installationIdFor("octo");
  const tokens = createInstallationTokens({
    appId: APP_ID,
    loadPrivateKey: async () => keys.privateKey,
    baseUrl: github.url,
  });
  const { token } = await tokens.mint(installationId, "octo", "site");
  // The App's own JWT, as auth-app makes it, for replaying the token request.
  const { createAppAuth } = await import("@octokit/auth-app");
  const { token: jwt } = await createAppAuth({ appId: APP_ID, privateKey: keys.privateKey })({ type: "app" });
  const commit = await octokitRequest("GET /repos/{owner}/{repo}/commits/{ref}", {
    baseUrl: github.url,
    owner: "octo",
    repo: "site",
    ref: "main",
    headers: { authorization: `token ${token}` },
  });
  Object.assign(t.context, { github, token, jwt, installationId, commitSha: commit.data.sha, appTokens: tokens });
});
test.after.always(async (t) => {
  await t.context.github?.close();
});

const call = async (
  url: string,
  init: {
    method?: string;
    token?: string;
    bearer?: string;
    accept?: string;
    body?: unknown;
    redirect?: "manual" | "follow";
  } = {},
): Promise<Answer> => {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    redirect: init.redirect ?? "manual",
    headers: {
      accept: init.accept ?? "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      ...(init.token ? { authorization: `token ${init.token}` } : {}),
      ...(init.bearer ? { authorization: `bearer ${init.bearer}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
};

// ---- the operations the inspector makes, one by one ---------------------------------------------------------------

const MINT = "/app/installations/{installation_id}/access_tokens";
const COMMIT = "/repos/{owner}/{repo}/commits/{ref}";
const TREE = "/repos/{owner}/{repo}/git/trees/{tree_sha}";
const ZIPBALL = "/repos/{owner}/{repo}/zipball/{ref}";
const CONTENTS = "/repos/{owner}/{repo}/contents/{path}";

test.serial("POST /app/installations/{installation_id}/access_tokens: 201, 404 and both 422s conform", async (t) => {
  const { github, jwt, installationId } = t.context;
  const mint = (id: number, body: unknown) =>
    call(`${github.url}/app/installations/${id}/access_tokens`, { method: "POST", bearer: jwt, body });
  const granted = await mint(installationId, {
    repositories: ["site"],
    permissions: { contents: "read", metadata: "read" },
  });
  t.is(granted.status, 201);
  conforms(t, MINT, "post", granted);
  const unknown = await mint(1, {});
  t.is(unknown.status, 404);
  conforms(t, MINT, "post", unknown);
  for (const body of [{ repositories: ["nope"] }, { permissions: { administration: "write" } }]) {
    const refused = await mint(installationId, body);
    t.is(refused.status, 422);
    conforms(t, MINT, "post", refused);
  }
});

test.serial("GET /repos/{owner}/{repo}/commits/{ref}: 200 (per_page=1), 404, 409 and 422 conform", async (t) => {
  const { github, token } = t.context;
  const commit = (repo: string, ref: string) =>
    call(`${github.url}/repos/octo/${repo}/commits/${ref}?per_page=1`, { token });
  const found = await commit("site", "main");
  t.is(found.status, 200);
  conforms(t, COMMIT, "get", found);
  const sha = await call(`${github.url}/repos/octo/site/commits/main`, { token, accept: "application/vnd.github.sha" });
  conforms(t, COMMIT, "get", sha, { mediaType: "application/vnd.github.sha" });
  t.regex(sha.text, /^[0-9a-f]{40}$/);
  t.is((await commit("nope", "main")).status, 404);
  conforms(t, COMMIT, "get", await commit("nope", "main"));
  const empty = await call(`${github.url}/repos/octo/empty/commits/HEAD`, { token: await tokenFor(t, "empty") });
  t.is(empty.status, 409);
  conforms(t, COMMIT, "get", empty);
  const missing = await commit("site", "no-such-branch");
  t.is(missing.status, 422);
  conforms(t, COMMIT, "get", missing);
});

async function tokenFor(t: { context: { github: GitHubEmulator; jwt: string; installationId: number } }, repo: string) {
  const answer = await call(`${t.context.github.url}/app/installations/${t.context.installationId}/access_tokens`, {
    method: "POST",
    bearer: t.context.jwt,
    body: { repositories: [repo] },
  });
  return (JSON.parse(answer.text) as { token: string }).token;
}

test.serial(
  "GET /repos/{owner}/{repo}/git/trees/{tree_sha}: recursive by ref, by SHA, top level, 404 conform",
  async (t) => {
    const { github, token, commitSha } = t.context;
    for (const query of ["HEAD?recursive=1", `${commitSha}?recursive=1`, commitSha]) {
      const tree = await call(`${github.url}/repos/octo/site/git/trees/${query}`, { token });
      t.is(tree.status, 200);
      conforms(t, TREE, "get", tree);
    }
    const missing = await call(`${github.url}/repos/octo/site/git/trees/${"0".repeat(40)}`, { token });
    t.is(missing.status, 404);
    conforms(t, TREE, "get", missing);
  },
);

test.serial(
  "GET /repos/{owner}/{repo}/zipball/{ref}: 302 to another origin, as GitHub's recording shows",
  async (t) => {
    const { github, token, commitSha } = t.context;
    const redirect = await call(`${github.url}/repos/octo/site/zipball/${commitSha}`, { token });
    t.is(redirect.status, 302);
    conforms(t, ZIPBALL, "get", redirect);
    const location = new URL(redirect.headers.get("location")!);
    t.not(location.origin, new URL(github.url).origin);
    // @octokit/fixtures' get-archive: api.github.com answers 302 with an empty body, to codeload's /{owner}/{repo}/legacy.*.
    const [recorded, download] = fixture("get-archive");
    t.is(recorded!.status, 302);
    t.is(redirect.headers.get("content-length"), recorded!.headers["content-length"] ?? null);
    t.regex(new URL(recorded!.headers.location!).pathname, /^\/[^/]+\/[^/]+\/legacy\.tar\.gz\//);
    t.regex(location.pathname, /^\/octo\/site\/legacy\.zip\//);
    t.is(download!.status, 200);
    const archive = await fetch(location);
    t.is(archive.status, 200);
    t.is(archive.headers.get("content-type"), "application/zip");
    t.is(archive.headers.get("x-ratelimit-limit"), null, "codeload sends no rate-limit headers");
  },
);

test.serial(
  "GET /repos/{owner}/{repo}/contents/{path}: a file as JSON and raw, 404, as GitHub's recording shows",
  async (t) => {
    const { github, token, commitSha } = t.context;
    const file = await call(`${github.url}/repos/octo/site/contents/README.md?ref=${commitSha}`, { token });
    t.is(file.status, 200);
    conforms(t, CONTENTS, "get", file);
    const raw = await call(`${github.url}/repos/octo/site/contents/README.md?ref=${commitSha}`, {
      token,
      accept: "application/vnd.github.raw+json",
    });
    t.is(raw.status, 200);
    t.is(raw.text, "# site\n");
    const recorded = fixture("get-content").find((entry) => entry.path.endsWith("/contents/README.md"))!;
    t.is(raw.headers.get("content-type"), recorded.headers["content-type"] ?? null);
    const missing = await call(`${github.url}/repos/octo/site/contents/nope.md?ref=${commitSha}`, { token });
    t.is(missing.status, 404);
    conforms(t, CONTENTS, "get", missing);
  },
);

test.serial(
  "errors and limits: 401, a spent budget and a secondary limit have GitHub's basic-error shape and headers",
  async (t) => {
    const { github, token } = t.context;
    const badToken = await call(`${github.url}/repos/octo/site/commits/main`, { token: "ghs_nope" });
    t.is(badToken.status, 401);
    conforms(t, COMMIT, "get", badToken, { undocumentedStatusSchema: "basic-error" });
    github.inject({ operation: `GET ${COMMIT}`, ...secondaryRateLimit({ retryAfterSeconds: null }) });
    const secondary = await call(`${github.url}/repos/octo/site/commits/main`, { token });
    t.is(secondary.status, 403);
    conforms(t, COMMIT, "get", secondary, { undocumentedStatusSchema: "basic-error" });
    for (const name of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"]) {
      t.true(secondary.headers.has(name), name);
    }
    github.exhaustRateLimit(token);
    const spent = await call(`${github.url}/repos/octo/site/commits/main`, { token });
    t.is(spent.status, 403);
    t.is(spent.headers.get("x-ratelimit-remaining"), "0");
    conforms(t, COMMIT, "get", spent, { undocumentedStatusSchema: "basic-error" });
    // The fixtures' recorded 422 and GitHub's 404s carry message and documentation_url, as the emulator's do.
    const [recorded] = fixture("errors");
    t.truthy((recorded!.response as { documentation_url?: string }).documentation_url);
    github.reset();
  },
);

test.serial("POST /graphql: the blob query's answer has the fields GitHub's schema gives Blob", async (t) => {
  const { github, token, commitSha } = t.context;
  const answer = await call(`${github.url}/graphql`, {
    method: "POST",
    token,
    body: {
      query:
        'query($e0:String!){repository(owner:"octo",name:"site"){f0:object(expression:$e0){...on Blob{text isBinary isTruncated}} f1:object(expression:"main:nope"){...on Blob{text}}}}',
      variables: { e0: `${commitSha}:README.md` },
    },
  });
  t.is(answer.status, 200);
  t.true((answer.headers.get("content-type") ?? "").startsWith("application/json"));
  t.is(answer.headers.get("x-ratelimit-resource"), "graphql");
  // Blob.text: String (nullable), isBinary: Boolean (nullable), isTruncated: Boolean! (GitHub's GraphQL reference).
  t.deepEqual(JSON.parse(answer.text), {
    data: { repository: { f0: { text: "# site\n", isBinary: false, isTruncated: false }, f1: null } },
  });
});

// ---- the onboarding's operations ------------------------------------------------------------------------------------

const USER_INSTALLATIONS = "/user/installations";
const INSTALLATION_REPOSITORIES = "/installation/repositories";

/**
 * `POST /login/oauth/access_token` is github.com's, not in the REST OpenAPI description: its answer as GitHub documents
 * it ("Generating a user access token for a GitHub App",
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app,
 * response parameters from github/docs data/reusables/apps/user-access-token-response-parameters.md): `access_token`
 * (`ghu_…`), `scope` always "", `token_type` always "bearer"; `expires_in` (28800), `refresh_token` (`ghr_…`) and
 * `refresh_token_expires_in` (15897600) together, or none of them when the App opted out of expiring tokens. Errors are
 * answered 200 with `error`, `error_description` and `error_uri` ("Troubleshooting OAuth app access token request
 * errors", https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors),
 * which is why @octokit/oauth-methods looks for `error` in a 200's body.
 */
const OAUTH_ANSWER = {
  type: "object",
  required: ["access_token", "scope", "token_type"],
  additionalProperties: false,
  properties: {
    access_token: { type: "string", pattern: "^ghu_" },
    expires_in: { type: "integer", const: 28800 },
    refresh_token: { type: "string", pattern: "^ghr_" },
    refresh_token_expires_in: { type: "integer", const: 15897600 },
    scope: { const: "" },
    token_type: { const: "bearer" },
  },
  dependentRequired: {
    expires_in: ["refresh_token", "refresh_token_expires_in"],
    refresh_token: ["expires_in", "refresh_token_expires_in"],
  },
};
const OAUTH_ERROR = {
  type: "object",
  required: ["error", "error_description", "error_uri"],
  additionalProperties: false,
  properties: {
    error: {
      enum: ["incorrect_client_credentials", "redirect_uri_mismatch", "bad_verification_code", "unverified_user_email"],
    },
    error_description: { type: "string", minLength: 1 },
    error_uri: { type: "string", format: "uri" },
  },
};
const validateOauthAnswer = ajv.compile(OAUTH_ANSWER);
const validateOauthError = ajv.compile(OAUTH_ERROR);

/** A web-flow code, as GitHub hands one to the callback URL after the user authorizes the App. */
async function authorizationCode(github: GitHubEmulator, login: string): Promise<string> {
  const answer = await fetch(`${github.url}/login/oauth/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: APP.clientId, login, redirect_uri: "http://127.0.0.1:1/cb", state: "s" }),
  });
  return new URL(answer.headers.get("location")!).searchParams.get("code")!;
}

const exchange = (github: GitHubEmulator, form: Record<string, string>, accept: string) =>
  fetch(`${github.url}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: APP.clientId, client_secret: APP.clientSecret, ...form }),
  });

async function userToken(github: GitHubEmulator): Promise<string> {
  const answer = await exchange(github, { code: await authorizationCode(github, "octo") }, "application/json");
  return ((await answer.json()) as { access_token: string }).access_token;
}

test.serial(
  "POST /login/oauth/access_token: a token and each error, as JSON and form, have GitHub's documented shape",
  async (t) => {
    const { github } = t.context;
    const granted = await exchange(github, { code: await authorizationCode(github, "octo") }, "application/json");
    t.is(granted.status, 200);
    t.true((granted.headers.get("content-type") ?? "").startsWith("application/json"));
    const body: unknown = await granted.json();
    t.true(validateOauthAnswer(body), ajv.errorsText(validateOauthAnswer.errors));
    // Without Accept: application/json GitHub answers form-encoded (the default in GitHub's documentation).
    const form = await exchange(github, { code: await authorizationCode(github, "octo") }, "*/*");
    t.is(form.status, 200);
    t.true((form.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded"));
    const fields = Object.fromEntries(new URLSearchParams(await form.text()));
    t.true(validateOauthAnswer(fields), ajv.errorsText(validateOauthAnswer.errors));
    const errors: [Record<string, string>, string][] = [
      [{ code: "used-or-unknown" }, "bad_verification_code"],
      [{ client_secret: "wrong", code: "x" }, "incorrect_client_credentials"],
      [{ code: await authorizationCode(github, "octo"), redirect_uri: "http://elsewhere/cb" }, "redirect_uri_mismatch"],
    ];
    for (const [fields, error] of errors) {
      const refused = await exchange(github, fields, "application/json");
      t.is(refused.status, 200, `${error}: GitHub answers OAuth errors with 200`);
      const refusal = (await refused.json()) as { error?: string };
      t.true(validateOauthError(refusal), `${error}: ${ajv.errorsText(validateOauthError.errors)}`);
      t.is(refusal.error, error);
    }
  },
);

test.serial("GET /user/installations: 200 (one page, no Link) and 401 conform", async (t) => {
  const { github } = t.context;
  const token = await userToken(github);
  const list = await call(`${github.url}/user/installations?per_page=100&page=1`, { token });
  t.is(list.status, 200);
  conforms(t, USER_INSTALLATIONS, "get", list, { singlePage: true });
  t.deepEqual(
    (JSON.parse(list.text) as { installations: { id: number }[] }).installations.map((i) => i.id),
    [t.context.installationId],
  );
  const refused = await call(`${github.url}/user/installations`, { token: "ghu_nope" });
  t.is(refused.status, 401);
  conforms(t, USER_INSTALLATIONS, "get", refused);
});

test.serial(
  "GET /installation/repositories with the listing token: 201 mint, 200 pages with Link, one page without, 401 conform",
  async (t) => {
    const { github, jwt, installationId } = t.context;
    const minted = await call(`${github.url}${MINT.replace("{installation_id}", String(installationId))}`, {
      method: "POST",
      bearer: jwt,
      body: { permissions: { metadata: "read" } },
    });
    t.is(minted.status, 201);
    conforms(t, MINT, "post", minted);
    const token = (JSON.parse(minted.text) as { token: string }).token;
    for (const page of [1, 2]) {
      const answer = await call(`${github.url}/installation/repositories?per_page=1&page=${page}`, { token });
      t.is(answer.status, 200);
      conforms(t, INSTALLATION_REPOSITORIES, "get", answer);
      t.regex(answer.headers.get("link") ?? "", page === 1 ? /rel="next"/ : /rel="prev"/);
    }
    const whole = await call(`${github.url}/installation/repositories?per_page=100`, { token });
    t.is(whole.status, 200);
    conforms(t, INSTALLATION_REPOSITORIES, "get", whole, { singlePage: true });
    t.is((JSON.parse(whole.text) as { total_count: number }).total_count, 2);
    const refused = await call(`${github.url}/installation/repositories`, { token: "ghs_nope" });
    t.is(refused.status, 401);
    conforms(t, INSTALLATION_REPOSITORIES, "get", refused);
  },
);

test.serial("every operation the runtime makes (inspector and onboarding) is among those checked above", async (t) => {
  const { github } = t.context;
  github.reset();
  // The inspector's own GitHub session, as in Lambda: mint, snapshot (commit and tree), detection, download.
  const tokens = {
    tokenFor: async () => t.context.token,
    mint: async () => ({ token: t.context.token, createdAt: Date.now() - 60_000 }),
  };
  const session = await createRepositorySessions({ tokens, baseUrl: github.url })(
    { userId: "u", installationId: t.context.installationId },
    "octo",
    "site",
  );
  const snapshot = await session.snapshot(undefined, undefined);
  await snapshot.detect(undefined);
  const download = await snapshot.downloadArchive();
  for await (const chunk of download.body) void chunk;
  // The onboarding's: the code exchange and the user's installations (GET /github/installations, POST
  // /github/installations), the listing token and an installation's repositories (GET /repositories).
  const user = createGitHubUserClient({
    clientId: APP.clientId,
    loadClientSecret: async () => APP.clientSecret,
    baseUrl: github.url,
  });
  const installations = await user.listInstallations(await user.exchangeCode(await authorizationCode(github, "octo")));
  t.is(installations.length, 1);
  const listing = await createInstallationRepositories({ tokens: t.context.appTokens, baseUrl: github.url }).page(
    t.context.installationId,
    "octo",
    1,
    100,
  );
  t.is(listing.totalCount, 2);
  const checked = new Set([
    `POST ${MINT}`,
    `GET ${COMMIT}`,
    `GET ${TREE}`,
    `GET ${ZIPBALL}`,
    `GET ${CONTENTS}`,
    "POST /graphql",
    "POST /login/oauth/access_token",
    `GET ${USER_INSTALLATIONS}`,
    `GET ${INSTALLATION_REPOSITORIES}`,
  ]);
  const made = new Set(github.requests().map((request) => request.operation ?? request.path));
  made.delete("GET /{owner}/{repo}/legacy.zip/{sha}"); // codeload, checked with the zipball
  made.delete("POST /login/oauth/authorize"); // the user's browser on GitHub's page, not the runtime
  t.deepEqual(
    [...made].filter((operation) => !checked.has(operation)),
    [],
  );
  t.true(made.size >= 7, [...made].join(", "));
});

interface Recorded {
  readonly path: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly response: unknown;
}

function fixture(scenario: string): Recorded[] {
  return JSON.parse(
    readFileSync(path.join(FIXTURES, "scenarios", "api.github.com", scenario, "normalized-fixture.json"), "utf8"),
  ) as Recorded[];
}
