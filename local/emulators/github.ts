import { createHash, createHmac, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { createAppJwtVerifier } from "./github/appJwt";
import { executeGitHubGraphql } from "./github/executeGitHubGraphql";
import { createInstallationTokenStore, type InstallationGrant } from "./github/installationTokenStore";
import {
  ANONYMOUS_KEY_PREFIX,
  createRateLimits,
  rateLimitHeaders,
  type RateLimitBudget,
  type RateLimitResource,
} from "./github/rateLimits";
import { paginationLink } from "./github/paginationLink";
import { createAppFlow, type GitHubAppSettings, type WebhookDelivery } from "./github/appFlow";
import { createRepositoryCatalog } from "./github/repositoryCatalog";
import type { CommitInfo, RepositorySource } from "./github/repositorySource";
import type { MemoryRepository } from "./github/snapshotSource";
import {
  createSharedServerState,
  startEmulatorServer,
  type EmulatorRequest,
  type EmulatorResponse,
  type RequestRecord,
} from "./http/emulatorServer";
import type { Fault } from "./http/faults";

export type { MemoryRepository } from "./github/snapshotSource";
export type { FileContent } from "./github/gitSnapshot";
export type { Fault } from "./http/faults";
export type { RequestRecord } from "./http/emulatorServer";
export type { GitHubAppSettings, WebhookDelivery } from "./github/appFlow";

export interface GitHubEmulatorOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number;
  /** The GitHub App's id: App JWTs must carry it as `iss`. */
  readonly appId: number | string;
  /** The App's public key (PEM or KeyObject): App JWTs must be signed by the matching private key. */
  readonly appPublicKey: string | KeyObject;
  /** A folder laid out `<root>/<owner>/<name>/`: plain folders (one commit on `main`) or git checkouts. */
  readonly root?: string;
  /** Repositories in memory, `"owner/name"` → files (and branches, tags); they win over a folder of the same name. */
  readonly repositories?: Readonly<Record<string, MemoryRepository>>;
  /** What every installation grants. Default `{ contents: "read", metadata: "read" }`. */
  readonly permissions?: Readonly<Record<string, string>>;
  /** Budgets per token (GitHub's defaults when absent). */
  readonly rateLimit?: RateLimitBudget;
  /** Default one hour, as GitHub's installation tokens. */
  readonly tokenLifetimeMs?: number;
  /** Trees with more entries come back `truncated: true` (GitHub: 100,000 entries or 7 MB). */
  readonly maxTreeEntries?: number;
  /**
   * GraphQL `Blob.text` longer than this is cut and `isTruncated`. Default 512,000 bytes, where GitHub cuts it
   * (the `Blob.text` field's limit, seen in the GraphQL explorer; the REST contents API serves such files whole).
   */
  readonly blobTextLimitBytes?: number;
  /**
   * For this long after minting, a token is not yet known everywhere and GitHub answers 401 to it (the replication
   * lag @octokit/auth-app retries for 5 s). Default 0.
   */
  readonly tokenReplicationLagMs?: number;
  /** GitHub Enterprise Server's layout: REST under `/api/v3`, GraphQL at `/api/graphql`. Default: GitHub.com's. */
  readonly enterprise?: boolean;
  /**
   * How an exhausted GraphQL budget is reported: `RATE_LIMITED` (200, the shape octokit/plugin-throttling.js#632
   * shows) or `RATE_LIMIT` with `code: "graphql_rate_limit"` (403, the shape yanyongyu/githubkit#271 shows). Default
   * `RATE_LIMITED`.
   */
  readonly graphqlRateLimitStyle?: "RATE_LIMITED" | "RATE_LIMIT";
  /** The emulator's clock (ms since the epoch). */
  readonly now?: () => number;
  /** The App's web side: install page, OAuth, user tokens and webhook deliveries (github/appFlow.ts). */
  readonly app?: GitHubAppSettings;
}

export interface GitHubEmulator {
  /** The API root, for `baseUrl` (octokit) or `GITHUB_API_URL` (`…/api/v3` in the enterprise layout). */
  readonly url: string;
  /** codeload's origin: zipball redirects go there, another origin than the API's, as on GitHub. */
  readonly codeloadUrl: string;
  close(): Promise<void>;
  /** The installation id of an owner's App installation: stable across runs (derived from the owner's name). */
  installationIdFor(owner: string): number;
  addRepository(fullName: string, repository: MemoryRepository): void;
  /** Removes the App from an owner: minting answers 404 and the installation's tokens stop working. */
  uninstall(owner: string): void;
  /** Uses up a token's budget, so the next request meets the rate limit. */
  exhaustRateLimit(token: string, resource?: RateLimitResource): void;
  /** A fault for the next matching requests, on the API or on codeload (operation `GET /{owner}/{repo}/legacy.zip/{ref}`). */
  inject(fault: Fault): void;
  /**
   * Fails GraphQL `object(expression:)` fields whose expression matches, as GitHub fails one aliased field: that
   * field is null and `errors` names its path; the rest of the answer stands.
   */
  failObjects(rule: { expression: RegExp; message?: string; times?: number }): void;
  /** Changes limits while running (tests of truncated trees and cut blob text). */
  configure(limits: { maxTreeEntries?: number; blobTextLimitBytes?: number }): void;
  /** Every request so far, on both origins in arrival order: method, path, route, status; never a header value. */
  requests(): RequestRecord[];
  /** Forgets faults, the request log and rate-limit usage; repositories and tokens stay. */
  reset(): void;
  /** Installs the App on an owner (as its install page does): `installation` `created` is delivered. */
  install(owner: string): Promise<number>;
  /** Webhook deliveries so far, oldest first (with `app.webhookUrl`). */
  deliveries(): readonly WebhookDelivery[];
  /** Resolves when the refs of every git checkout have been compared once more (and their pushes delivered). */
  checkPushes(): Promise<void>;
}

/**
 * GitHub's answer to a secondary rate limit, as fault fields: `inject({ path: /graphql/, ...secondaryRateLimit() })`.
 * "Rate limits for the REST API" (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api,
 * "About secondary rate limits"): 403 or 429, a message saying so, `retry-after` that "might be present", and the
 * primary limit's `x-ratelimit-*` headers as on every answer (not at 0: the primary budget is not what ran out).
 * `retryAfterSeconds: null` leaves `retry-after` out.
 */
export function secondaryRateLimit(
  options: { retryAfterSeconds?: number | null; status?: 403 | 429; now?: number } = {},
): Pick<Fault, "status" | "headers" | "body"> {
  const retryAfter = options.retryAfterSeconds === undefined ? 60 : options.retryAfterSeconds;
  return {
    status: options.status ?? 403,
    headers: {
      ...(retryAfter === null ? {} : { "retry-after": String(retryAfter) }),
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4987",
      "x-ratelimit-used": "13",
      "x-ratelimit-reset": String(Math.floor((options.now ?? Date.now()) / 1000) + 3600),
      "x-ratelimit-resource": "core",
    },
    body: {
      message:
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out " +
        "to GitHub Support for help, please include the request ID.",
      documentation_url: `${DOCS}/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
    },
  };
}

/**
 * GraphQL's timeout, as GitHub answers a query it gave up on (200, `data: null`; gayanvoice/top-github-users#107).
 * GitHub ends requests that take more than 10 s ("Timeouts", in "Rate limits and query limits for the GraphQL API").
 */
export function graphqlTimeout(): Pick<Fault, "status" | "body"> {
  return {
    status: 200,
    body: {
      data: null,
      errors: [
        {
          message:
            "Something went wrong while executing your query. This may be the result of a timeout, or it could be a " +
            "GitHub bug. Please include `C0DE:1234:5678:9ABC:DEF0` when reporting this issue.",
        },
      ],
    },
  };
}

/** GraphQL's per-query resource limit (200, the field nulled; yoshi389111/github-profile-3d-contrib#163). */
export function graphqlResourceLimits(): Pick<Fault, "status" | "body"> {
  return {
    status: 200,
    body: {
      data: { repository: null },
      errors: [
        { type: "RESOURCE_LIMITS_EXCEEDED", path: ["repository"], message: "Resource limits for this query exceeded." },
      ],
    },
  };
}

/** GraphQL's spent budget, in either shape GitHub sends (see GitHubEmulatorOptions.graphqlRateLimitStyle). */
export function graphqlRateLimited(
  style: "RATE_LIMITED" | "RATE_LIMIT",
  options: { resetInSeconds?: number; now?: number } = {},
): Pick<Fault, "status" | "headers" | "body"> {
  const reset = Math.floor((options.now ?? Date.now()) / 1000) + (options.resetInSeconds ?? 60);
  return {
    status: style === "RATE_LIMIT" ? 403 : 200,
    headers: {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-used": "5000",
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-resource": "graphql",
    },
    body: {
      errors: [
        style === "RATE_LIMIT"
          ? {
              type: "RATE_LIMIT",
              code: "graphql_rate_limit",
              message: "API rate limit already exceeded for installation ID 1.",
            }
          : { type: "RATE_LIMITED", message: "API rate limit exceeded for installation ID 1." },
      ],
    },
  };
}

const DOCS = "https://docs.github.com";
const API_VERSION = "2022-11-28";
const DEFAULT_PERMISSIONS = { contents: "read", metadata: "read" } as const;
const PERMISSION_LEVELS: Readonly<Record<string, number>> = { read: 1, write: 2, admin: 3 };
/** How long the signed link of a zipball redirect stays valid (codeload's links are short-lived too). */
const DOWNLOAD_LINK_LIFETIME_MS = 5 * 60_000;

export interface Route {
  readonly method: string;
  /** Octokit's spelling: `/repos/{owner}/{repo}/commits/{ref}`; the last parameter may contain slashes. */
  readonly template: string;
  readonly handler: (call: Call) => Promise<EmulatorResponse>;
}

export interface Call {
  readonly request: EmulatorRequest;
  readonly params: Readonly<Record<string, string>>;
}

type Credentials =
  | { readonly kind: "anonymous" }
  | { readonly kind: "jwt"; readonly token: string }
  | { readonly kind: "token"; readonly token: string };

/** Starts the GitHub emulator: GitHub's REST routes and GraphQL slice that Slipway uses, with its auth and limits. */
export async function startGitHub(options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  const now = options.now ?? Date.now;
  const catalog = createRepositoryCatalog({ root: options.root, repositories: options.repositories });
  const jwt = createAppJwtVerifier(options.appId, options.appPublicKey);
  const tokens = createInstallationTokenStore();
  const limits = createRateLimits(options.rateLimit ?? {}, now);
  const permissions: Readonly<Record<string, string>> = options.permissions ?? DEFAULT_PERMISSIONS;
  const tokenLifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
  const uninstalled = new Set<string>();
  /** With `app.startUninstalled`: the owners the App was installed on since (lower case); otherwise every owner. */
  const installed = new Set<string>();
  const isInstalled = (owner: string) =>
    options.app?.startUninstalled ? installed.has(owner.toLowerCase()) : !uninstalled.has(owner.toLowerCase());
  const linkSecret = randomBytes(32);
  const replicationLagMs = options.tokenReplicationLagMs ?? 0;
  const limitsNow = {
    maxTreeEntries: options.maxTreeEntries ?? 100_000,
    blobTextLimitBytes: options.blobTextLimitBytes ?? 512_000,
  };
  let objectFailures: { expression: RegExp; message: string; remaining: number }[] = [];
  /** Archives codeload has generated once: later downloads come with a content-length, the first one streamed. */
  const generated = new Set<string>();
  let baseUrl = "";
  let codeloadUrl = "";

  // ---- responses ------------------------------------------------------------------------------------------------
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse => ({
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "x-github-media-type": "github.v3; format=json",
      "x-github-api-version-selected": API_VERSION,
      "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const message = (status: number, text: string, docs: string, headers: Record<string, string> = {}) =>
    json(status, { message: text, documentation_url: `${DOCS}${docs}`, status: String(status) }, headers);
  const notFound = (headers: Record<string, string> = {}) => message(404, "Not Found", "/rest", headers);
  const badCredentials = (headers: Record<string, string> = {}) => message(401, "Bad credentials", "/rest", headers);

  // ---- identities --------------------------------------------------------------------------------------------------
  const installationIdFor = (owner: string) => stableNumber(`installation:${owner.toLowerCase()}`, 10_000_000);
  const ownerOfInstallation = async (installationId: number): Promise<string | undefined> => {
    const owner = (await catalog.owners()).find((candidate) => installationIdFor(candidate) === installationId);
    return owner && isInstalled(owner) ? owner : undefined;
  };
  const credentialsOf = (request: EmulatorRequest): Credentials => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^(token|bearer)\s+(\S+)\s*$/i.exec(header) : null;
    if (!header) return { kind: "anonymous" };
    if (!match) return { kind: "token", token: "" }; // Basic or garbage: as unknown as a wrong token
    const token = match[2]!;
    return token.split(".").length === 3 && token.startsWith("eyJ") ? { kind: "jwt", token } : { kind: "token", token };
  };
  const grantOf = (credentials: Credentials): InstallationGrant | undefined => {
    const grant = credentials.kind === "token" ? tokens.lookup(credentials.token, now()) : undefined;
    // A token minted a moment ago is not known everywhere yet: GitHub answers 401 Bad credentials.
    if (grant && now() < grant.expiresAt - tokenLifetimeMs + replicationLagMs) return undefined;
    return grant;
  };
  const rateKey = (credentials: Credentials) =>
    credentials.kind === "token"
      ? `token:${credentials.token}`
      : credentials.kind === "jwt"
        ? `app:${options.appId}`
        : `${ANONYMOUS_KEY_PREFIX}127.0.0.1`;
  const exceededMessage = (grant: InstallationGrant | undefined, credentials: Credentials) =>
    grant
      ? `API rate limit exceeded for installation ID ${grant.installationId}.`
      : credentials.kind === "jwt"
        ? `API rate limit exceeded for app ID ${options.appId}.`
        : "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)";

  const canSee = (grant: InstallationGrant | undefined, source: RepositorySource) => {
    if (!grant) return !source.private;
    if (grant.owner.toLowerCase() !== source.owner.toLowerCase()) return false;
    return !grant.repositories || grant.repositories.has(source.name.toLowerCase());
  };
  const canRead = (grant: InstallationGrant | undefined, permission: string) =>
    !grant || (PERMISSION_LEVELS[grant.permissions[permission] ?? ""] ?? 0) >= PERMISSION_LEVELS.read!;

  /**
   * The checks every repository route shares, in GitHub's order: credentials (401), rate limit (403), visibility
   * (404: GitHub hides what a token may not see), then the permission the route needs (403).
   */
  const withRepository =
    (
      permission: "metadata" | "contents",
      handler: (call: Call, source: RepositorySource, headers: Record<string, string>) => Promise<EmulatorResponse>,
    ) =>
    async (call: Call): Promise<EmulatorResponse> => {
      const credentials = credentialsOf(call.request);
      const grant = grantOf(credentials);
      const authenticated = credentials.kind === "anonymous" || grant !== undefined;
      const charged = limits.charge(authenticated ? rateKey(credentials) : `${ANONYMOUS_KEY_PREFIX}127.0.0.1`, "core");
      const headers = rateLimitHeaders(charged.state);
      if (!authenticated) return badCredentials(headers);
      if (!charged.allowed)
        return message(
          403,
          exceededMessage(grant, credentials),
          "/rest/using-the-rest-api/rate-limits-for-the-rest-api",
          headers,
        );
      const source = await catalog.find(call.params.owner!, call.params.repo!);
      if (!source || !canSee(grant, source)) return notFound(headers);
      if (!canRead(grant, permission)) return message(403, "Resource not accessible by integration", "/rest", headers);
      return handler(call, source, headers);
    };

  // ---- JSON shapes ---------------------------------------------------------------------------------------------------
  /** A "simple-user" (GitHub's OpenAPI schema), with every required field. */
  const accountJson = (owner: string) => {
    const id = stableNumber(`account:${owner.toLowerCase()}`, 1_000_000);
    const url = `${baseUrl}/users/${owner}`;
    return {
      login: owner,
      id,
      node_id: Buffer.from(`User:${id}`).toString("base64"),
      avatar_url: `${baseUrl}/avatars/${owner}`,
      gravatar_id: "",
      url,
      html_url: `${baseUrl}/${owner}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: "User",
      site_admin: false,
    };
  };
  const repositoryId = (source: RepositorySource) =>
    stableNumber(`repository:${source.owner}/${source.name}`.toLowerCase(), 100_000_000);
  const shortRepositoryJson = (source: RepositorySource) => ({
    id: repositoryId(source),
    node_id: Buffer.from(`Repository:${repositoryId(source)}`).toString("base64"),
    name: source.name,
    full_name: `${source.owner}/${source.name}`,
    private: source.private,
  });
  /** A "repository" (GitHub's OpenAPI schema), with every required field: what token and repository routes return. */
  const repositoryJson = async (source: RepositorySource) => {
    const url = `${baseUrl}/repos/${source.owner}/${source.name}`;
    const html = `${baseUrl}/${source.owner}/${source.name}`;
    const templated = Object.fromEntries(
      (
        [
          ["archive_url", "/{archive_format}{/ref}"],
          ["assignees_url", "/assignees{/user}"],
          ["blobs_url", "/git/blobs{/sha}"],
          ["branches_url", "/branches{/branch}"],
          ["collaborators_url", "/collaborators{/collaborator}"],
          ["comments_url", "/comments{/number}"],
          ["commits_url", "/commits{/sha}"],
          ["compare_url", "/compare/{base}...{head}"],
          ["contents_url", "/contents/{+path}"],
          ["contributors_url", "/contributors"],
          ["deployments_url", "/deployments"],
          ["downloads_url", "/downloads"],
          ["events_url", "/events"],
          ["forks_url", "/forks"],
          ["git_commits_url", "/git/commits{/sha}"],
          ["git_refs_url", "/git/refs{/sha}"],
          ["git_tags_url", "/git/tags{/sha}"],
          ["hooks_url", "/hooks"],
          ["issue_comment_url", "/issues/comments{/number}"],
          ["issue_events_url", "/issues/events{/number}"],
          ["issues_url", "/issues{/number}"],
          ["keys_url", "/keys{/key_id}"],
          ["labels_url", "/labels{/name}"],
          ["languages_url", "/languages"],
          ["merges_url", "/merges"],
          ["milestones_url", "/milestones{/number}"],
          ["notifications_url", "/notifications{?since,all,participating}"],
          ["pulls_url", "/pulls{/number}"],
          ["releases_url", "/releases{/id}"],
          ["stargazers_url", "/stargazers"],
          ["statuses_url", "/statuses/{sha}"],
          ["subscribers_url", "/subscribers"],
          ["subscription_url", "/subscription"],
          ["tags_url", "/tags"],
          ["teams_url", "/teams"],
          ["trees_url", "/git/trees{/sha}"],
        ] as const
      ).map(([name, suffix]) => [name, `${url}${suffix}`]),
    );
    return {
      ...shortRepositoryJson(source),
      owner: accountJson(source.owner),
      html_url: html,
      url,
      description: null,
      fork: false,
      ...templated,
      clone_url: `${html}.git`,
      git_url: `${html.replace(/^https?:/, "git:")}.git`,
      ssh_url: `git@${new URL(baseUrl).host}:${source.owner}/${source.name}.git`,
      svn_url: html,
      mirror_url: null,
      homepage: null,
      language: null,
      license: null,
      size: 0,
      forks: 0,
      forks_count: 0,
      open_issues: 0,
      open_issues_count: 0,
      stargazers_count: 0,
      watchers: 0,
      watchers_count: 0,
      has_downloads: true,
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      archived: false,
      disabled: false,
      visibility: source.private ? "private" : "public",
      default_branch: await source.defaultBranch(),
      pushed_at: "2024-01-01T00:00:00Z",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
    };
  };
  const commitJson = (source: RepositorySource, commit: CommitInfo) => {
    const repoUrl = `${baseUrl}/repos/${source.owner}/${source.name}`;
    return {
      sha: commit.sha,
      node_id: Buffer.from(`Commit:${commit.sha}`).toString("base64"),
      url: `${repoUrl}/commits/${commit.sha}`,
      html_url: `${baseUrl}/${source.owner}/${source.name}/commit/${commit.sha}`,
      comments_url: `${repoUrl}/commits/${commit.sha}/comments`,
      commit: {
        author: commit.author,
        committer: commit.committer,
        message: commit.message.replace(/\n$/, ""),
        tree: { sha: commit.treeSha, url: `${repoUrl}/git/trees/${commit.treeSha}` },
        url: `${repoUrl}/git/commits/${commit.sha}`,
        comment_count: 0,
      },
      author: null,
      committer: null,
      parents: commit.parents.map((sha) => ({ sha, url: `${repoUrl}/commits/${sha}` })),
    };
  };
  /**
   * An "installation" with every field GitHub's OpenAPI description requires of it (`app_slug`, `target_id`,
   * `html_url`, `single_file_name`, `suspended_by` too: "List app installations accessible to the user access token",
   * https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token),
   * the same object a webhook delivery carries (test/emulators-github-openapi.test.ts checks it).
   */
  const installationJson = (owner: string) => {
    const id = installationIdFor(owner);
    return {
      id,
      account: accountJson(owner),
      app_id: Number(options.appId),
      app_slug: options.app?.slug ?? `app-${options.appId}`,
      target_id: accountJson(owner).id,
      target_type: "User",
      repository_selection: "all",
      permissions,
      events: [],
      single_file_name: null,
      access_tokens_url: `${baseUrl}/app/installations/${id}/access_tokens`,
      repositories_url: `${baseUrl}/installation/repositories`,
      html_url: `${baseUrl}/settings/installations/${id}`,
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      suspended_at: null,
      suspended_by: null,
    };
  };

  // ---- App (JWT) routes ---------------------------------------------------------------------------------------------
  const withApp =
    (handler: (call: Call, headers: Record<string, string>) => Promise<EmulatorResponse>) => async (call: Call) => {
      const credentials = credentialsOf(call.request);
      const check = credentials.kind === "jwt" ? jwt.verify(credentials.token, Math.floor(now() / 1000)) : undefined;
      if (!check?.ok) {
        const text = check && !check.ok ? check.message : "A JSON web token could not be decoded";
        return message(401, text, "/rest", rateLimitHeaders(limits.peek(`${ANONYMOUS_KEY_PREFIX}127.0.0.1`, "core")));
      }
      const charged = limits.charge(rateKey(credentials), "core");
      const headers = rateLimitHeaders(charged.state);
      if (!charged.allowed)
        return message(
          403,
          exceededMessage(undefined, credentials),
          "/rest/using-the-rest-api/rate-limits-for-the-rest-api",
          headers,
        );
      return handler(call, headers);
    };

  const mintToken = withApp(async ({ request, params }, headers) => {
    const owner = /^\d+$/.test(params.installation_id ?? "")
      ? await ownerOfInstallation(Number(params.installation_id))
      : undefined;
    if (!owner) return notFound(headers);
    let body: Record<string, unknown> = {};
    if (request.body.length > 0) {
      try {
        const parsed: unknown = JSON.parse(request.body.toString("utf8"));
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        body = parsed as Record<string, unknown>;
      } catch {
        return message(
          400,
          "Problems parsing JSON",
          "/rest/apps/apps#create-an-installation-access-token-for-an-app",
          headers,
        );
      }
    }
    const repositories = await catalog.repositoriesOf(owner);
    const byName = new Map(repositories.map((source) => [source.name.toLowerCase(), source]));
    const byId = new Map(repositories.map((source) => [repositoryId(source), source]));
    const inaccessible = () =>
      message(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
        "/rest/apps/apps#create-an-installation-access-token-for-an-app",
        headers,
      );

    let selected: RepositorySource[] | undefined;
    if (body.repositories !== undefined || body.repository_ids !== undefined) {
      const names = Array.isArray(body.repositories) ? body.repositories : [];
      const ids = Array.isArray(body.repository_ids) ? body.repository_ids : [];
      if (
        (body.repositories !== undefined && !Array.isArray(body.repositories)) ||
        (body.repository_ids !== undefined && !Array.isArray(body.repository_ids))
      ) {
        return message(
          422,
          "Invalid request.\n\nFor 'properties/repositories', it is not an array.",
          "/rest/apps/apps",
          headers,
        );
      }
      const found = [
        ...names.map((name) => (typeof name === "string" ? byName.get(name.toLowerCase()) : undefined)),
        ...ids.map((id) => (typeof id === "number" ? byId.get(id) : undefined)),
      ];
      if (found.some((source) => source === undefined)) return inaccessible();
      selected = [...new Set(found as RepositorySource[])];
    }

    let granted: Record<string, string> = { ...permissions };
    if (body.permissions !== undefined) {
      const requested = body.permissions as Record<string, unknown>;
      const exceeds = Object.entries(requested ?? {}).some(
        ([name, level]) =>
          typeof level !== "string" ||
          (PERMISSION_LEVELS[level] ?? 99) > (PERMISSION_LEVELS[permissions[name] ?? ""] ?? 0),
      );
      if (typeof requested !== "object" || requested === null || exceeds) {
        return message(
          422,
          "The permissions requested are not granted to this installation.",
          "/rest/apps/apps#create-an-installation-access-token-for-an-app",
          headers,
        );
      }
      granted = requested as Record<string, string>;
    }

    const expiresAt = now() + tokenLifetimeMs;
    const token = tokens.issue({
      installationId: installationIdFor(owner),
      owner,
      ...(selected ? { repositories: new Set(selected.map((source) => source.name.toLowerCase())) } : {}),
      permissions: granted,
      expiresAt,
    });
    return json(
      201,
      {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: granted,
        repository_selection: selected ? "selected" : "all",
        ...(selected ? { repositories: await Promise.all(selected.map(repositoryJson)) } : {}),
      },
      headers,
    );
  });

  const getInstallation = withApp(async ({ params }, headers) => {
    const owner = await ownerOfInstallation(Number(params.installation_id));
    return owner ? json(200, installationJson(owner), headers) : notFound(headers);
  });
  const listInstallations = withApp(async (_call, headers) => {
    const owners = (await catalog.owners()).filter((owner) => isInstalled(owner));
    return json(200, owners.map(installationJson), headers);
  });
  const findInstallation = (parameter: "owner" | "username" | "org") =>
    withApp(async ({ params }, headers) => {
      const wanted = params[parameter]!.toLowerCase();
      const owner = (await catalog.owners()).find((candidate) => candidate.toLowerCase() === wanted);
      if (!owner || !isInstalled(owner)) return notFound(headers);
      if (parameter === "owner" && !(await catalog.find(owner, params.repo!))) return notFound(headers);
      return json(200, installationJson(owner), headers);
    });

  // ---- repository routes ------------------------------------------------------------------------------------------
  const emptyRepository = (headers: Record<string, string>) =>
    message(409, "Git Repository is empty.", "/rest", headers);

  const getRepository = withRepository("metadata", async (_call, source, headers) =>
    json(200, await repositoryJson(source), headers),
  );

  const getCommit = withRepository("contents", async ({ request, params }, source, headers) => {
    if (!(await source.hasCommits())) return emptyRepository(headers);
    const ref = params.ref!;
    const sha = await source.resolveCommit(ref);
    const commit = sha && (await source.commit(sha));
    if (!commit) return message(422, `No commit found for SHA: ${ref}`, "/rest/commits/commits#get-a-commit", headers);
    if (String(request.headers.accept ?? "").includes("application/vnd.github.sha")) {
      return {
        status: 200,
        headers: {
          ...headers,
          "content-type": "application/vnd.github.sha; charset=utf-8",
          "x-github-media-type": "github.v3; param=sha",
        },
        body: commit.sha,
      };
    }
    return json(200, commitJson(source, commit), headers);
  });

  const getTree = withRepository("contents", async ({ request, params }, source, headers) => {
    if (!(await source.hasCommits())) return emptyRepository(headers);
    const wanted = params.tree_sha!;
    const sha = /^[0-9a-f]{40}$/i.test(wanted) ? wanted.toLowerCase() : await source.resolveCommit(wanted);
    const recursive =
      request.url.searchParams.has("recursive") &&
      !/^(0|false)$/i.test(request.url.searchParams.get("recursive") ?? "");
    const tree = sha ? await source.tree(sha, recursive) : undefined;
    if (!tree) return notFound(headers);
    const repoUrl = `${baseUrl}/repos/${source.owner}/${source.name}`;
    const limit = limitsNow.maxTreeEntries;
    return json(
      200,
      {
        sha: tree.sha,
        url: `${repoUrl}/git/trees/${tree.sha}`,
        tree: tree.entries.slice(0, limit).map((entry) => ({
          ...entry,
          url: `${repoUrl}/git/${entry.type === "tree" ? "trees" : "blobs"}/${entry.sha}`,
        })),
        truncated: tree.entries.length > limit,
      },
      headers,
    );
  });

  const downloadSignature = (path: string, expiresAt: number) =>
    createHmac("sha256", linkSecret).update(`${path}\0${expiresAt}`).digest("base64url");

  const getZipball = withRepository("contents", async ({ params }, source, headers) => {
    if (!(await source.hasCommits())) return notFound(headers);
    const sha = await source.resolveCommit(params.ref || (await source.defaultBranch()));
    if (!sha) return notFound(headers);
    const path = `/${source.owner}/${source.name}/legacy.zip/${sha}`;
    const expiresAt = now() + DOWNLOAD_LINK_LIFETIME_MS;
    // Like codeload.github.com, another origin: the link itself carries a short-lived token, as the client's
    // credentials stay behind (a fetch drops Authorization on a cross-origin redirect).
    const query = source.private ? `?token=${expiresAt}.${downloadSignature(path, expiresAt)}` : "";
    return { status: 302, headers: { ...headers, location: `${codeloadUrl}${path}${query}`, "content-length": "0" } };
  });

  const codeload = async ({ request, params }: Call): Promise<EmulatorResponse> => {
    const missing = { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "404: Not Found" };
    const source = await catalog.find(params.owner!, params.repo!);
    if (!source || !/^[0-9a-f]{40}$/.test(params.sha!)) return missing;
    if (source.private) {
      const [expires = "", signature = ""] = (request.url.searchParams.get("token") ?? "").split(".");
      const expected = Buffer.from(downloadSignature(request.url.pathname, Number(expires)));
      const given = Buffer.from(signature);
      const valid = given.length === expected.length && timingSafeEqual(given, expected) && Number(expires) > now();
      if (!valid) return missing;
    }
    const folder = `${source.owner}-${source.name}-${params.sha!.slice(0, 7)}`;
    const archive = await source.archive(params.sha!, `${folder}/`);
    if (!archive) return missing;
    // codeload streams an archive it generates (chunked, no content-length) and serves it with a length once it
    // has it (backdrop-ops/backdropcms.org#264 shows both answers for one archive).
    const key = `${source.owner}/${source.name}@${params.sha}`.toLowerCase();
    const first = !generated.has(key);
    generated.add(key);
    return {
      status: 200,
      headers: { "content-type": "application/zip", "content-disposition": `attachment; filename=${folder}.zip` },
      body: archive,
      chunked: first,
    };
  };

  /** GET /repos/{owner}/{repo}/contents/{path}: a file, raw (`application/vnd.github.raw+json`) or as JSON. */
  const getContents = withRepository("contents", async ({ request, params }, source, headers) => {
    if (!(await source.hasCommits())) return notFound(headers);
    const ref = request.url.searchParams.get("ref") ?? (await source.defaultBranch());
    const sha = await source.resolveCommit(ref);
    if (!sha)
      return message(404, `No commit found for the ref ${ref}`, "/rest/repos/contents#get-repository-content", headers);
    const path = params.path!;
    const [object] = await source.objects(sha, [path]);
    if (!object || object.type !== "blob") return notFound(headers);
    if (object.content.length > 100 * 1024 * 1024) {
      return message(403, "This API returns blobs up to 100 MB in size.", "/rest/repos/contents", headers);
    }
    if (/application\/vnd\.github(\.v3)?\.raw/.test(String(request.headers.accept ?? ""))) {
      return {
        status: 200,
        // As @octokit/fixtures' get-content recording shows GitHub answering.
        headers: {
          ...headers,
          "content-type": "application/vnd.github.v3.raw; charset=utf-8",
          "x-github-media-type": "github.v3; param=raw",
        },
        body: object.content,
      };
    }
    const repoUrl = `${baseUrl}/repos/${source.owner}/${source.name}`;
    const name = path.split("/").pop()!;
    return json(
      200,
      {
        type: "file",
        encoding: "base64",
        size: object.content.length,
        name,
        path,
        content: object.content.toString("base64"),
        sha: object.sha,
        url: `${repoUrl}/contents/${path}?ref=${sha}`,
        git_url: `${repoUrl}/git/blobs/${object.sha}`,
        html_url: `${baseUrl}/${source.owner}/${source.name}/blob/${sha}/${path}`,
        download_url: null,
        _links: {
          self: `${repoUrl}/contents/${path}?ref=${sha}`,
          git: `${repoUrl}/git/blobs/${object.sha}`,
          html: `${baseUrl}/${source.owner}/${source.name}/blob/${sha}/${path}`,
        },
      },
      headers,
    );
  });

  const graphql = async ({ request }: Call): Promise<EmulatorResponse> => {
    const credentials = credentialsOf(request);
    if (credentials.kind === "anonymous") {
      return message(
        401,
        "This endpoint requires you to be authenticated.",
        "/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
      );
    }
    const grant = grantOf(credentials);
    if (!grant) return badCredentials();
    const charged = limits.charge(rateKey(credentials), "graphql");
    const headers = rateLimitHeaders(charged.state);
    if (!charged.allowed) {
      // GitHub's GraphQL API answers an exhausted budget with an error in the body (see graphqlRateLimited).
      const style = options.graphqlRateLimitStyle ?? "RATE_LIMITED";
      return json(
        style === "RATE_LIMIT" ? 403 : 200,
        {
          errors: [
            style === "RATE_LIMIT"
              ? {
                  type: "RATE_LIMIT",
                  code: "graphql_rate_limit",
                  message: `API rate limit already exceeded for installation ID ${grant.installationId}.`,
                }
              : {
                  type: "RATE_LIMITED",
                  message: `API rate limit already exceeded for installation ID ${grant.installationId}.`,
                },
          ],
        },
        headers,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString("utf8"));
    } catch {
      return message(400, "Problems parsing JSON", "/graphql", headers);
    }
    const result = await executeGitHubGraphql(body, {
      async repository(owner, name) {
        const source = await catalog.find(owner, name);
        return source && canSee(grant, source) ? { source, canReadContents: canRead(grant, "contents") } : undefined;
      },
      rateLimit: () => ({
        cost: 1,
        limit: charged.state.limit,
        remaining: charged.state.remaining,
        used: charged.state.used,
        resetAt: new Date(charged.state.reset * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
      }),
      blobTextLimitBytes: limitsNow.blobTextLimitBytes,
      objectError(expression) {
        const rule = objectFailures.find((candidate) => candidate.expression.test(expression));
        if (!rule) return undefined;
        rule.remaining -= 1;
        if (rule.remaining <= 0) objectFailures = objectFailures.filter((other) => other !== rule);
        return rule.message;
      },
    });
    return json(200, result, headers);
  };

  /**
   * GET /installation/repositories with an installation token: the repositories the token may see, `per_page`
   * (default 30, max 100) and `page` ("List repositories accessible to the app installation",
   * https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation).
   */
  const listInstallationRepositories = async ({ request }: Call): Promise<EmulatorResponse> => {
    const credentials = credentialsOf(request);
    const grant = grantOf(credentials);
    if (credentials.kind === "anonymous") {
      return message(
        401,
        "Requires authentication",
        "/rest/apps/installations",
        rateLimitHeaders(limits.peek(`${ANONYMOUS_KEY_PREFIX}127.0.0.1`, "core")),
      );
    }
    if (!grant) return badCredentials();
    const charged = limits.charge(rateKey(credentials), "core");
    const headers = rateLimitHeaders(charged.state);
    if (!charged.allowed) {
      return message(
        403,
        exceededMessage(grant, credentials),
        "/rest/using-the-rest-api/rate-limits-for-the-rest-api",
        headers,
      );
    }
    const perPage = Math.min(Math.max(Number(request.url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
    const page = Math.max(Number(request.url.searchParams.get("page") ?? 1) || 1, 1);
    const visible = (await catalog.repositoriesOf(grant.owner)).filter((source) => canSee(grant, source));
    const slice = visible.slice((page - 1) * perPage, page * perPage);
    return json(
      200,
      {
        total_count: visible.length,
        repositories: await Promise.all(slice.map(repositoryJson)),
        repository_selection: grant.repositories ? "selected" : "all",
      },
      { ...headers, ...paginationLink(request.url, page, perPage, visible.length) },
    );
  };

  const getRateLimit = async ({ request }: Call): Promise<EmulatorResponse> => {
    const credentials = credentialsOf(request);
    const grant = grantOf(credentials);
    if (credentials.kind === "token" && !grant) return badCredentials();
    const key = credentials.kind === "anonymous" ? `${ANONYMOUS_KEY_PREFIX}127.0.0.1` : rateKey(credentials);
    const core = limits.peek(key, "core");
    const graphqlState = limits.peek(key, "graphql");
    const shape = (state: typeof core) => ({
      limit: state.limit,
      used: state.used,
      remaining: state.remaining,
      reset: state.reset,
    });
    // Asking for the rate limit does not count against it, as on GitHub.
    return json(
      200,
      { resources: { core: shape(core), graphql: shape(graphqlState) }, rate: shape(core) },
      rateLimitHeaders(core),
    );
  };

  const appFlow = createAppFlow({
    settings: options.app,
    appId: Number(options.appId),
    root: options.root,
    catalog,
    now,
    baseUrl: () => baseUrl,
    isInstalled,
    setInstalled(owner, value) {
      if (value) {
        installed.add(owner.toLowerCase());
        uninstalled.delete(owner.toLowerCase());
      } else {
        installed.delete(owner.toLowerCase());
        uninstalled.add(owner.toLowerCase());
        tokens.revokeInstallation(installationIdFor(owner));
      }
    },
    installationIdFor,
    installationJson,
    accountJson,
    shortRepositoryJson,
    repositoryJson,
    json,
    message,
  });
  const deleteInstallation = withApp(async ({ params }, headers) => {
    const owner = await ownerOfInstallation(Number(params.installation_id));
    if (!owner) return notFound(headers);
    await appFlow.uninstall(owner);
    return { status: 204, headers };
  });

  const routes: Route[] = [
    ...appFlow.routes,
    { method: "DELETE", template: "/app/installations/{installation_id}", handler: deleteInstallation },
    { method: "POST", template: "/app/installations/{installation_id}/access_tokens", handler: mintToken },
    { method: "GET", template: "/app/installations/{installation_id}", handler: getInstallation },
    { method: "GET", template: "/app/installations", handler: listInstallations },
    { method: "GET", template: "/repos/{owner}/{repo}/installation", handler: findInstallation("owner") },
    { method: "GET", template: "/users/{username}/installation", handler: findInstallation("username") },
    { method: "GET", template: "/orgs/{org}/installation", handler: findInstallation("org") },
    { method: "GET", template: "/repos/{owner}/{repo}", handler: getRepository },
    { method: "GET", template: "/repos/{owner}/{repo}/commits/{ref}", handler: getCommit },
    { method: "GET", template: "/repos/{owner}/{repo}/git/trees/{tree_sha}", handler: getTree },
    { method: "GET", template: "/repos/{owner}/{repo}/zipball/{ref}", handler: getZipball },
    { method: "GET", template: "/repos/{owner}/{repo}/zipball", handler: getZipball },
    { method: "GET", template: "/repos/{owner}/{repo}/contents/{path}", handler: getContents },
    { method: "POST", template: "/graphql", handler: graphql },
    { method: "GET", template: "/rate_limit", handler: getRateLimit },
    { method: "GET", template: "/installation/repositories", handler: listInstallationRepositories },
  ];
  const codeloadRoutes: Route[] = [{ method: "GET", template: "/{owner}/{repo}/legacy.zip/{sha}", handler: codeload }];
  /** The API path a request names: GHES serves REST under /api/v3 and GraphQL at /api/graphql. */
  const apiPath = (pathname: string): string | undefined => {
    const path = pathname.replace(/\/+$/, "") || "/";
    if (!options.enterprise) return path;
    if (path === "/api/graphql") return "/graphql";
    return path.startsWith("/api/v3/") ? path.slice("/api/v3".length) : undefined;
  };
  const matcherOf = (table: Route[]) => table.map((route) => ({ route, ...compileTemplate(route.template) }));
  const matchIn = (matchers: ReturnType<typeof matcherOf>, request: EmulatorRequest, path: string | undefined) => {
    if (path === undefined) return undefined;
    for (const matcher of matchers) {
      if (matcher.route.method !== request.method) continue;
      const found = matcher.regex.exec(path);
      if (!found) continue;
      try {
        const params = Object.fromEntries(
          matcher.names.map((name, index) => [name, decodeURIComponent(found[index + 1]!)]),
        );
        return { route: matcher.route, params };
      } catch {
        return undefined; // malformed percent-encoding: GitHub answers 404 as well
      }
    }
    return undefined;
  };
  const apiMatchers = matcherOf(routes);
  const codeloadMatchers = matcherOf(codeloadRoutes);
  const match = (request: EmulatorRequest) => matchIn(apiMatchers, request, apiPath(request.url.pathname));
  const matchCodeload = (request: EmulatorRequest) =>
    matchIn(codeloadMatchers, request, request.url.pathname.replace(/\/+$/, "") || "/");

  const shared = createSharedServerState();
  const server = await startEmulatorServer({
    port: options.port,
    now,
    shared,
    redactedQueryParameters: ["token", "access_token"],
    describe: (request) => {
      const found = match(request);
      return found ? `${found.route.method} ${found.route.template}` : undefined;
    },
    handle: async (request) => {
      const found = match(request);
      const response = found ? await found.route.handler({ request, params: found.params }) : notFound();
      // Every API answer carries rate-limit headers, as GitHub's do.
      if (Object.keys(response.headers ?? {}).includes("x-ratelimit-limit")) return response;
      const anonymous = rateLimitHeaders(limits.peek(`${ANONYMOUS_KEY_PREFIX}127.0.0.1`, "core"));
      return { ...response, headers: { ...anonymous, ...response.headers } };
    },
  });
  // codeload.github.com: another origin, which sends no rate-limit headers.
  const codeloadServer = await startEmulatorServer({
    now,
    shared,
    redactedQueryParameters: ["token"],
    describe: (request) => {
      const found = matchCodeload(request);
      return found ? `${found.route.method} ${found.route.template}` : undefined;
    },
    handle: async (request) => {
      const found = matchCodeload(request);
      return found
        ? found.route.handler({ request, params: found.params })
        : { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "404: Not Found" };
    },
  });
  baseUrl = options.enterprise ? `${server.url}/api/v3` : server.url;
  codeloadUrl = codeloadServer.url;
  appFlow.start();

  return {
    url: baseUrl,
    codeloadUrl,
    close: async () => {
      appFlow.stop();
      await Promise.all([server.close(), codeloadServer.close()]);
    },
    installationIdFor,
    addRepository: (fullName, repository) => catalog.add(fullName, repository),
    uninstall(owner) {
      void appFlow.uninstall(owner);
    },
    install: (owner) => appFlow.install(owner),
    deliveries: () => appFlow.deliveries(),
    checkPushes: () => appFlow.checkPushes(),
    exhaustRateLimit: (token, resource = "core") => limits.exhaust(`token:${token}`, resource),
    inject: (fault) => server.inject(fault),
    failObjects(rule) {
      objectFailures.push({
        expression: rule.expression,
        message: rule.message ?? "Something went wrong while resolving this object.",
        remaining: rule.times ?? 1,
      });
    },
    configure(changes) {
      if (changes.maxTreeEntries !== undefined) limitsNow.maxTreeEntries = changes.maxTreeEntries;
      if (changes.blobTextLimitBytes !== undefined) limitsNow.blobTextLimitBytes = changes.blobTextLimitBytes;
    },
    requests: () => server.requests(),
    reset() {
      server.reset();
      limits.clear();
      objectFailures = [];
    },
  };
}

/** A number in [floor, 10·floor) derived from `seed`: the same owner or repository gets the same id on every run. */
function stableNumber(seed: string, floor: number): number {
  const value = createHash("sha256").update(seed).digest().readUInt32BE(0);
  return floor + (value % (9 * floor));
}

function compileTemplate(template: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = template
    .split(/(\{[a-z_]+\})/)
    .map((part) => {
      if (!part.startsWith("{")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const name = part.slice(1, -1);
      names.push(name);
      // Refs such as "feature/login" may arrive unencoded: a final ref parameter takes the rest of the path.
      return GREEDY_PARAMETERS.has(name) && template.endsWith(part) ? "(.+)" : "([^/]+)";
    })
    .join("");
  return { regex: new RegExp(`^${source}$`), names };
}

const GREEDY_PARAMETERS = new Set(["ref", "tree_sha", "path"]);
