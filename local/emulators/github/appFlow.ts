import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { Call, Route } from "../github";
import type { EmulatorResponse } from "../http/emulatorServer";
import { paginationLink } from "./paginationLink";
import type { RepositoryCatalog } from "./repositoryCatalog";
import type { RepositorySource } from "./repositorySource";

/*
 * The GitHub App's web side, as GitHub documents it:
 * - the install page `/apps/<slug>/installations/new` ("Installing your own GitHub App",
 *   https://docs.github.com/en/apps/using-github-apps/installing-your-own-github-app), which sends the user on to the
 *   setup URL with `installation_id` and `setup_action=install`, and — with "Request user authorization (OAuth) during
 *   installation" on — to the callback URL with a `code` and the `state` it was given
 *   (https://docs.github.com/en/apps/creating-github-apps/registering-a-github-app/about-the-setup-url,
 *   https://docs.github.com/en/apps/creating-github-apps/registering-a-github-app/about-the-user-authorization-callback-url);
 * - the web application flow: `GET /login/oauth/authorize` and `POST /login/oauth/access_token`, whose errors are
 *   200s with `error` (`bad_verification_code`, `incorrect_client_credentials`, `redirect_uri_mismatch`), codes single
 *   use for 10 minutes ("Generating a user access token for a GitHub App",
 *   https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app);
 * - `GET /user/installations` with that user token;
 * - webhook deliveries signed with the webhook secret (`X-Hub-Signature-256`, `X-GitHub-Event`, `X-GitHub-Delivery`:
 *   "Webhook events and payloads", https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers):
 *   `installation` created/deleted, and `push` when a branch of a git checkout under the root moves.
 * Unlike github.com, the pages and the API share one origin (octokit's OAuth helpers derive the OAuth host from the
 * API's base URL when it is not api.github.com, so the runtime's exchange reaches this server), and the local user
 * who installs or signs in is picked on the page (each owner is one user), without a password.
 */

export interface GitHubAppSettings {
  /** The App's slug: `/apps/<slug>/installations/new`. */
  readonly slug: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly webhookSecret: string;
  /** Where deliveries are POSTed (the platform's `/github/webhooks`); none: nothing is delivered. */
  readonly webhookUrl?: string;
  /** Where the install page sends the user (setup URL = callback URL, as the README's App settings say). */
  readonly setupUrl?: string;
  /** Start with the App installed nowhere (default: on every owner). */
  readonly startUninstalled?: boolean;
  /** How often the refs of git checkouts are compared, ms. Default 500; 0 turns push deliveries off. */
  readonly pushPollMs?: number;
  /** Told of each delivery once answered (or failed). */
  readonly onDelivery?: (delivery: WebhookDelivery) => void;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly event: string;
  readonly action?: string;
  readonly payload: Record<string, unknown>;
  /** The platform's answer; undefined when the request failed (`error`). */
  readonly status?: number;
  readonly error?: string;
}

interface AppFlowContext {
  readonly settings?: GitHubAppSettings;
  readonly appId: number;
  readonly root?: string;
  readonly catalog: RepositoryCatalog;
  readonly now: () => number;
  readonly baseUrl: () => string;
  isInstalled(owner: string): boolean;
  setInstalled(owner: string, installed: boolean): void;
  installationIdFor(owner: string): number;
  installationJson(owner: string): Record<string, unknown>;
  accountJson(owner: string): Record<string, unknown>;
  shortRepositoryJson(source: RepositorySource): Record<string, unknown>;
  repositoryJson(source: RepositorySource): Promise<Record<string, unknown>>;
  json(status: number, body: unknown, headers?: Record<string, string>): EmulatorResponse;
  message(status: number, text: string, docs: string, headers?: Record<string, string>): EmulatorResponse;
}

const CODE_LIFETIME_MS = 10 * 60_000;
const run = promisify(execFile);

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const page = (title: string, body: string): EmulatorResponse => ({
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
});

const redirect = (location: string): EmulatorResponse => ({
  status: 302,
  headers: { location, "content-length": "0", "cache-control": "no-store" },
});

/** A form body (`application/x-www-form-urlencoded`) or a JSON object, as GitHub's OAuth endpoints accept both. */
function readForm(call: Call): Record<string, string> {
  const text = call.request.body.toString("utf8");
  const type = String(call.request.headers["content-type"] ?? "");
  if (type.includes("application/json")) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function createAppFlow(context: AppFlowContext) {
  const settings = context.settings;
  const codes = new Map<string, { login: string; expiresAt: number; redirectUri?: string }>();
  const userTokens = new Map<string, string>(); // ghu_ token → login
  const delivered: WebhookDelivery[] = [];
  /** "owner/name" → branch → sha, as last seen. */
  let refs = new Map<string, Map<string, string>>();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let queue: Promise<void> = Promise.resolve();

  const owners = async () => context.catalog.owners();
  // @octokit/webhooks is ES modules only: imported dynamically under tsx (as runtime/onboarding/webhooks does).
  const signature = async (body: string) => {
    const { Webhooks } = await import("@octokit/webhooks");
    return new Webhooks({ secret: settings!.webhookSecret }).sign(body);
  };
  const findOwner = async (login: string) =>
    (await owners()).find((owner) => owner.toLowerCase() === login.toLowerCase());

  const issueCode = (login: string, redirectUri?: string) => {
    const code = randomBytes(10).toString("hex");
    codes.set(code, { login, expiresAt: context.now() + CODE_LIFETIME_MS, ...(redirectUri ? { redirectUri } : {}) });
    return code;
  };

  /** Deliveries go one at a time, in order, as GitHub's are sent per hook. */
  const deliver = (
    event: string,
    pending: Record<string, unknown> | Promise<Record<string, unknown>>,
  ): Promise<void> => {
    const url = settings?.webhookUrl;
    if (!settings || !url) return Promise.resolve();
    const id = randomUUID();
    const send = async () => {
      const payload = await pending;
      const body = JSON.stringify(payload);
      const action = typeof payload.action === "string" ? payload.action : undefined;
      let record: WebhookDelivery;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/slipway-local",
            "x-github-event": event,
            "x-github-delivery": id,
            "x-github-hook-id": "1",
            "x-github-hook-installation-target-type": "integration",
            "x-github-hook-installation-target-id": String(context.appId),
            "x-hub-signature-256": await signature(body),
          },
          body,
          signal: AbortSignal.timeout(10_000), // GitHub gives a receiver 10 s
        });
        await response.arrayBuffer();
        record = { id, event, ...(action ? { action } : {}), payload, status: response.status };
      } catch (error) {
        record = { id, event, ...(action ? { action } : {}), payload, error: String(error) };
      }
      delivered.push(record);
      settings.onDelivery?.(record);
    };
    queue = queue.then(send, send);
    return queue;
  };

  const installationPayload = async (owner: string, action: "created" | "deleted") => {
    const repositories = await context.catalog.repositoriesOf(owner);
    return {
      action,
      installation: context.installationJson(owner),
      repositories: repositories.map(context.shortRepositoryJson),
      ...(action === "created" ? { requester: context.accountJson(owner) } : {}),
      sender: context.accountJson(owner),
    };
  };

  const install = async (owner: string): Promise<number> => {
    const wasInstalled = context.isInstalled(owner);
    context.setInstalled(owner, true);
    if (!wasInstalled) await deliver("installation", await installationPayload(owner, "created"));
    return context.installationIdFor(owner);
  };

  const uninstall = async (owner: string): Promise<void> => {
    if (!context.isInstalled(owner)) return;
    context.setInstalled(owner, false); // at once: its tokens stop working before the delivery goes
    await deliver("installation", installationPayload(owner, "deleted")); // queued at once, in order
  };

  // ---- pages and OAuth ------------------------------------------------------------------------------------------
  const installPage = async ({ request, params }: Call): Promise<EmulatorResponse> => {
    if (!settings || params.slug !== settings.slug) return context.message(404, "Not Found", "/apps");
    const state = request.url.searchParams.get("state") ?? "";
    const forms = (await owners())
      .map(
        (owner) =>
          `<form method="post"><input type="hidden" name="state" value="${escapeHtml(state)}">` +
          `<input type="hidden" name="target" value="${escapeHtml(owner)}">` +
          `<button type="submit">Install on ${escapeHtml(owner)}</button></form>`,
      )
      .join("");
    return page(
      `Install ${settings.slug}`,
      `<p>Where do you want to install ${escapeHtml(settings.slug)}?</p>${forms}`,
    );
  };

  const installSubmit = async (call: Call): Promise<EmulatorResponse> => {
    if (!settings || call.params.slug !== settings.slug) return context.message(404, "Not Found", "/apps");
    const form = readForm(call);
    const owner = await findOwner(form.target ?? "");
    if (!owner) return context.message(422, `No account named ${form.target ?? ""}`, "/apps");
    const installationId = await install(owner);
    if (!settings.setupUrl) return page("Installed", `<p>Installed on ${escapeHtml(owner)} (${installationId}).</p>`);
    const target = new URL(settings.setupUrl);
    target.searchParams.set("installation_id", String(installationId));
    target.searchParams.set("setup_action", "install");
    // The installer is the owner (one user per owner locally): the code proves who installed it.
    target.searchParams.set("code", issueCode(owner));
    if (form.state) target.searchParams.set("state", form.state);
    return redirect(target.toString());
  };

  const authorizePage = async ({ request }: Call): Promise<EmulatorResponse> => {
    const query = request.url.searchParams;
    if (!settings || query.get("client_id") !== settings.clientId)
      return page("Not Found", "<p>Unknown client_id.</p>");
    const hidden = ["client_id", "redirect_uri", "state"]
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(query.get(name) ?? "")}">`)
      .join("");
    const forms = (await owners())
      .map(
        (owner) =>
          `<form method="post">${hidden}<input type="hidden" name="login" value="${escapeHtml(owner)}">` +
          `<button type="submit">Authorize as ${escapeHtml(owner)}</button></form>`,
      )
      .join("");
    return page(`Authorize ${settings.slug}`, forms);
  };

  const authorizeSubmit = async (call: Call): Promise<EmulatorResponse> => {
    const form = readForm(call);
    if (!settings || form.client_id !== settings.clientId) return page("Not Found", "<p>Unknown client_id.</p>");
    const login = await findOwner(form.login ?? "");
    const target = form.redirect_uri || settings.setupUrl;
    if (!login || !target) return context.message(422, "Choose an account and a redirect_uri", "/apps/oauth");
    const url = new URL(target);
    url.searchParams.set("code", issueCode(login, form.redirect_uri || undefined));
    if (form.state) url.searchParams.set("state", form.state);
    return redirect(url.toString());
  };

  const accessToken = async (call: Call): Promise<EmulatorResponse> => {
    const form = readForm(call);
    const wantsJson = String(call.request.headers.accept ?? "").includes("application/json");
    const answer = (body: Record<string, string>): EmulatorResponse =>
      wantsJson
        ? context.json(200, body)
        : {
            status: 200,
            headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
            body: new URLSearchParams(body).toString(),
          };
    const docs =
      "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
    if (!settings || form.client_id !== settings.clientId || form.client_secret !== settings.clientSecret) {
      return answer({
        error: "incorrect_client_credentials",
        error_description: "The client_id and/or client_secret passed are incorrect.",
        error_uri: `${docs}/#incorrect-client-credentials`,
      });
    }
    const grant = form.code ? codes.get(form.code) : undefined;
    if (form.code) codes.delete(form.code);
    if (!grant || grant.expiresAt <= context.now()) {
      return answer({
        error: "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
        error_uri: `${docs}/#bad-verification-code`,
      });
    }
    if (grant.redirectUri && form.redirect_uri && form.redirect_uri !== grant.redirectUri) {
      return answer({
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
        error_uri: `${docs}/#redirect-uri-mismatch2`,
      });
    }
    const token = `ghu_${randomBytes(18).toString("hex")}`;
    userTokens.set(token, grant.login);
    return answer({ access_token: token, token_type: "bearer", scope: "" });
  };

  const userInstallations = async ({ request }: Call): Promise<EmulatorResponse> => {
    const header = String(request.headers.authorization ?? "");
    const login = userTokens.get(header.replace(/^(token|bearer)\s+/i, "").trim());
    if (!login) return context.message(401, "Bad credentials", "/rest");
    const mine = (await owners()).filter(
      (owner) => owner.toLowerCase() === login.toLowerCase() && context.isInstalled(owner),
    );
    const perPage = Math.min(Math.max(Number(request.url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
    const pageNumber = Math.max(Number(request.url.searchParams.get("page") ?? 1) || 1, 1);
    return context.json(
      200,
      {
        total_count: mine.length,
        installations: mine.slice((pageNumber - 1) * perPage, pageNumber * perPage).map(context.installationJson),
      },
      paginationLink(request.url, pageNumber, perPage, mine.length),
    );
  };

  // ---- pushes: a branch of a git checkout under the root moved -------------------------------------------------
  const checkouts = (): { owner: string; name: string; dir: string }[] => {
    if (!context.root || !fs.existsSync(context.root)) return [];
    const found: { owner: string; name: string; dir: string }[] = [];
    for (const owner of fs.readdirSync(context.root, { withFileTypes: true })) {
      if (!owner.isDirectory() || owner.name.startsWith(".")) continue;
      const ownerDir = path.join(context.root, owner.name);
      for (const repo of fs.readdirSync(ownerDir, { withFileTypes: true })) {
        const dir = path.join(ownerDir, repo.name);
        if (repo.isDirectory() && fs.existsSync(path.join(dir, ".git")))
          found.push({ owner: owner.name, name: repo.name, dir });
      }
    }
    return found;
  };

  const branchesOf = async (dir: string): Promise<Map<string, string>> => {
    const { stdout } = await run("git", ["for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/heads"], {
      cwd: dir,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" },
    });
    return new Map(
      stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" ") as [string, string]),
    );
  };

  const pushPayload = async (owner: string, name: string, branch: string, before: string, after: string) => {
    const source = await context.catalog.find(owner, name);
    if (!source) return undefined;
    const zero = "0".repeat(40);
    const base = context.baseUrl();
    const repository = await context.repositoryJson(source);
    const commitJson = async (sha: string) => {
      const commit = await source.commit(sha);
      if (!commit) return undefined;
      return {
        id: commit.sha,
        tree_id: commit.treeSha,
        distinct: true,
        message: commit.message.replace(/\n$/, ""),
        timestamp: commit.committer.date,
        url: `${base}/${owner}/${name}/commit/${commit.sha}`,
        author: { name: commit.author.name, email: commit.author.email },
        committer: { name: commit.committer.name, email: commit.committer.email },
        added: [],
        removed: [],
        modified: [],
      };
    };
    const deleted = after === zero;
    const head = deleted ? null : ((await commitJson(after)) ?? null);
    return {
      ref: `refs/heads/${branch}`,
      before,
      after,
      // A push's repository carries times as epoch seconds and its owner's name and email (GitHub's push example).
      repository: {
        ...repository,
        owner: { ...(repository.owner as Record<string, unknown>), name: owner, email: null },
        created_at: 1704067200,
        pushed_at: Math.floor(context.now() / 1000),
        stargazers: 0,
        master_branch: repository.default_branch,
        is_template: false,
        web_commit_signoff_required: false,
        topics: [],
        custom_properties: {},
      },
      pusher: { name: owner, email: `${owner}@users.noreply.local` },
      sender: context.accountJson(owner),
      installation: {
        id: context.installationIdFor(owner),
        node_id: Buffer.from(`Installation:${context.installationIdFor(owner)}`).toString("base64"),
      },
      created: before === zero,
      deleted,
      forced: false,
      base_ref: null,
      compare: `${base}/${owner}/${name}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
      commits: head ? [head] : [],
      head_commit: head,
    };
  };

  const compareRefs = async (deliverChanges: boolean) => {
    const next = new Map<string, Map<string, string>>();
    for (const { owner, name, dir } of checkouts()) {
      const key = `${owner}/${name}`;
      let branches: Map<string, string>;
      try {
        branches = await branchesOf(dir);
      } catch {
        continue; // a checkout being written (or not a repository yet): next time
      }
      next.set(key, branches);
      const previous = refs.get(key);
      if (!deliverChanges || !previous || !context.isInstalled(owner)) continue;
      const zero = "0".repeat(40);
      for (const branch of new Set([...previous.keys(), ...branches.keys()])) {
        const before = previous.get(branch) ?? zero;
        const after = branches.get(branch) ?? zero;
        if (before === after) continue;
        const payload = await pushPayload(owner, name, branch, before, after);
        if (payload) await deliver("push", payload);
      }
    }
    refs = next;
  };

  const checkPushes = (): Promise<void> => {
    // One comparison at a time; a caller waits for one that starts after it asked.
    const start = () => compareRefs(true);
    checking = (checking ?? Promise.resolve()).then(start, start);
    // …and every delivery queued before it (an installation event) has been answered too.
    return checking.then(() => queue);
  };

  return {
    routes: [
      { method: "GET", template: "/apps/{slug}/installations/new", handler: installPage },
      { method: "POST", template: "/apps/{slug}/installations/new", handler: installSubmit },
      { method: "GET", template: "/login/oauth/authorize", handler: authorizePage },
      { method: "POST", template: "/login/oauth/authorize", handler: authorizeSubmit },
      { method: "POST", template: "/login/oauth/access_token", handler: accessToken },
      { method: "GET", template: "/user/installations", handler: userInstallations },
    ] satisfies Route[],
    install,
    uninstall,
    deliveries: (): readonly WebhookDelivery[] => [...delivered],
    checkPushes,
    start() {
      const every = settings?.pushPollMs ?? 500;
      if (!settings?.webhookUrl || every <= 0) return;
      checking = compareRefs(false).catch(() => undefined);
      const tick = () => {
        void checkPushes()
          .catch(() => undefined)
          .finally(() => {
            if (timer) timer = setTimeout(tick, every);
          });
      };
      timer = setTimeout(tick, every);
      timer.unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
