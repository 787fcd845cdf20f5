import test from "ava";
import * as fs from "node:fs";
import * as path from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { ensureDashboardBuilt } from "../local/platform/dashboardSite";
import type { Platform } from "../local/platform/platform";
import { statusDisplay } from "../web/src/status";
import { launchChromium, longestWaterfall, recordRequests, screenshotOnFailure } from "./helpers/browser";
import { git } from "./helpers/emulators";
import { api, bootPlatform, repositoriesFolder } from "./helpers/localPlatform";

/*
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the whole local platform:
 * elements are found by role and accessible name, as a keyboard or screen-reader user finds them.
 * SLIPWAY_SCREENSHOTS=<dir> also saves each page for the README.
 */

const STATUS_SETTLED = /Building|Succeeded|Failed|Canceled/;
const WAIT = { timeout: 90_000 };
let platform: Platform & { cleanUp(): Promise<void> };
let browser: Browser;

/** "many" owns more repositories than the Deploy dialog asks for at once (50), so it pages through GET /repositories. */
const MANY_REPOSITORIES = 53;

test.before(async (t) => {
  t.timeout(10 * 60_000, "building the dashboard and booting the platform on a loaded machine");
  ensureDashboardBuilt();
  // "demo" owns the example repositories (a monorepo among them); "other" is a second user with one repository;
  // "carol" has a site whose simulated build takes ten minutes, to be canceled while it builds; "erin" onboards
  // (a git checkout, so a commit is a push); "many" has MANY_REPOSITORIES sites and a checkout whose branch is trunk.
  const many = Object.fromEntries(
    Array.from({ length: MANY_REPOSITORIES - 1 }, (_, i) => [
      `many/site-${String(i + 1).padStart(2, "0")}`,
      { "index.html": `<h1>site ${i + 1}</h1>` },
    ]),
  );
  const reposDir = repositoriesFolder("demo", {
    "other/hello": { "index.html": "<!doctype html><title>hello</title><h1>hello</h1>" },
    "carol/slow-site": { "index.html": "<h1>slow</h1>", ".slipway/simulate-seconds": "600" },
    "erin/site": { "index.html": "<h1>erin</h1>" },
    "many/notes": { "index.html": "<h1>notes</h1>" },
    ...many,
  });
  for (const [checkout, branch] of [
    ["erin/site", "main"],
    ["many/notes", "trunk"],
  ] as const) {
    const folder = path.join(reposDir, checkout);
    git(folder, "init", "-q", "-b", branch);
    git(folder, "add", "-A");
    git(folder, "commit", "-q", "-m", "first");
  }
  // The platform as `npm start` runs it: the install flow on, every owner's installation linked at start.
  [platform, browser] = await Promise.all([bootPlatform(reposDir, { simulatedBuildSeconds: 2 }), launchChromium()]);
  // Cold starts of the API's functions can pass API Gateway's 30 s under a loaded machine (the dashboard then shows
  // "Could not refresh … Retrying"); warm them so the waits below measure the dashboard, not the first start.
  const token = await platform.token("warm-up");
  await Promise.all([
    api(platform, "GET", "/deployments", { token }),
    api(platform, "GET", "/deployments/warm-up", { token }),
    api(platform, "GET", "/repositories", { token }),
    api(platform, "GET", "/github/installations", { token }),
    api(platform, "GET", "/projects", { token }),
    // Unsigned: refused (401) by the webhooks function, which is then warm for erin's push.
    api(platform, "POST", "/github/webhooks", { body: {} }),
  ]);
});

test.after.always(async () => {
  await browser?.close();
  await platform?.cleanUp();
});

async function shoot(page: Page, name: string): Promise<void> {
  const dir = process.env.SLIPWAY_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(path.resolve(dir), `${name}.png`), fullPage: true });
}

/** A fresh browser profile signed in as `user` through the local issuer's page. */
async function signedIn(
  user: string,
  viewport = { width: 1200, height: 800 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${platform.apiUrl}/`);
  await page.getByRole("heading", { name: "Sign in to Slipway" }).waitFor(WAIT);
  if (user === "demo") await shoot(page, "sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sign in to Slipway (local)" }).waitFor(WAIT);
  if (user === "demo") await shoot(page, "local-issuer");
  await page.getByRole("button", { name: `Sign in as ${user}`, exact: true }).click();
  await page.getByRole("heading", { name: "Deployments" }).waitFor(WAIT);
  return { context, page };
}

async function deployFromDialog(page: Page, fields: { repository: string; rootDirectory?: string }): Promise<void> {
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Deploy a repository" });
  await dialog.getByRole("textbox", { name: "Repository" }).fill(fields.repository);
  if (fields.rootDirectory) await dialog.getByRole("textbox", { name: "Root directory" }).fill(fields.rootDirectory);
  await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
}

test.serial("a user signs in, deploys an example repository and watches it reach its status", async (t) => {
  const { context, page } = await signedIn("demo");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await page.getByText("No deployments yet").waitFor(WAIT);
    await deployFromDialog(page, { repository: "demo/notes-api" });
    await page.getByRole("heading", { name: "demo/notes-api" }).waitFor(WAIT);
    t.regex(new URL(page.url()).pathname, /^\/deployment\/[0-9a-f-]+$/);
    const facts = page.locator("dl");
    await facts.getByText(STATUS_SETTLED).waitFor(WAIT);
    await facts.getByText("express").waitFor(WAIT);
    await page.getByRole("heading", { name: "Build log" }).waitFor(WAIT);

    // Back to the list (a link, by keyboard): the deployment is there with its status, without a reload.
    await page.getByRole("link", { name: "← All deployments" }).focus();
    await page.keyboard.press("Enter");
    const row = page.getByRole("row", { name: /demo\/notes-api/ });
    await row.getByText(STATUS_SETTLED).waitFor(WAIT);
    t.is(await row.getByRole("cell").nth(4).innerText(), "node");
    await shoot(page, "deployments");
  });
  await context.close();
});

test.serial(
  "the API's error is shown next to the field it names, and a double click makes one deployment",
  async (t) => {
    const { context, page } = await signedIn("demo");
    await screenshotOnFailure(page, t.title, t.log, async () => {
      await deployFromDialog(page, { repository: "not a repository" });
      const dialog = page.getByRole("dialog", { name: "Deploy a repository" });
      const repository = dialog.getByRole("textbox", { name: "Repository" });
      await dialog.locator('[aria-invalid="true"]').waitFor(WAIT);
      const describedBy = (await repository.getAttribute("aria-describedby"))!.split(" ");
      const description = await dialog.locator(`[id="${describedBy[1]}"]`).innerText();
      t.regex(description, /repository/i, "the API's message is the field's description");
      await shoot(page, "deploy-dialog-error");

      const before = (await api(platform, "GET", "/deployments?limit=100", { token: await platform.token("demo") }))
        .body.items.length;
      await repository.fill("demo/landing");
      await dialog.getByRole("button", { name: "Deploy", exact: true }).dblclick();
      await page.getByRole("heading", { name: "demo/landing" }).waitFor(WAIT);
      const after = (await api(platform, "GET", "/deployments?limit=100", { token: await platform.token("demo") })).body
        .items;
      t.is(after.length, before + 1);
    });
    await context.close();
  },
);

test.serial("an AMBIGUOUS_ROOT failure offers its candidates, and one click redeploys from one", async (t) => {
  const { context, page } = await signedIn("demo");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await deployFromDialog(page, { repository: "demo/monorepo" });
    await page.getByRole("heading", { name: "demo/monorepo" }).waitFor(WAIT);
    await page.getByRole("heading", { name: "Why it stopped" }).waitFor(WAIT);
    await page.locator(".reason").getByText("AMBIGUOUS_ROOT").waitFor(WAIT);
    t.is(
      await page.getByRole("list", { name: "Status history" }).getByRole("listitem").last().locator("code").innerText(),
      "AMBIGUOUS_ROOT",
      "the history's last line is the failure, with its code",
    );
    const actions = page.getByRole("list", { name: "Suggested actions" });
    t.deepEqual(await actions.getByRole("button").allInnerTexts(), [
      "Deploy apps/api (express)",
      "Deploy apps/web (nextjs)",
    ]);
    t.false(
      await page.getByRole("button", { name: "Cancel deployment" }).isVisible(),
      "a final deployment has no Cancel",
    );
    await shoot(page, "ambiguous-root");
    const failedUrl = page.url();
    await actions.getByRole("button", { name: "Deploy apps/web (nextjs)" }).click();
    await page.waitForURL((url) => url.href !== failedUrl, WAIT);
    const facts = page.locator("dl");
    await facts.getByText("apps/web", { exact: true }).waitFor(WAIT);
    await facts.getByText(STATUS_SETTLED).waitFor(WAIT);
    t.is(await facts.getByText("Failed").count(), 0);
    await facts.getByText("nextjs").waitFor(WAIT);
  });
  await context.close();
});

test.serial("one user never sees another's deployments, in the list or by address", async (t) => {
  const demo = await api(platform, "GET", "/deployments", { token: await platform.token("demo") });
  t.true(demo.body.items.length > 0, "demo has deployments from the tests before");
  const { context, page } = await signedIn("other", { width: 390, height: 844 });
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await page.getByText("No deployments yet").waitFor(WAIT);
    t.is(await page.getByRole("row", { name: /demo\// }).count(), 0);
    await shoot(page, "phone-empty");
    await page.goto(`${platform.apiUrl}/deployment/${demo.body.items[0].id}`);
    await page
      .getByRole("alert")
      .filter({ hasText: /not found|no deployment/i })
      .waitFor(WAIT);
    t.is(await page.getByText("demo/").count(), 0);
  });
  await context.close();
});

test.serial("a deployment reaches SUCCEEDED with its image, and its whole log is read in the page", async (t) => {
  const { context, page } = await signedIn("demo");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await deployFromDialog(page, { repository: "demo/landing" });
    await page.getByRole("heading", { name: "demo/landing" }).waitFor(WAIT);
    const facts = page.locator("dl");
    await facts.getByText("Succeeded", { exact: true }).waitFor(WAIT);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    const token = await platform.token("demo");
    const deployment = (await api(platform, "GET", `/deployments/${id}`, { token })).body;
    t.is(deployment.status, "SUCCEEDED");
    t.is(await page.getByLabel("Image URI").innerText(), deployment.image.uri);
    t.is(await page.getByLabel("Image digest").innerText(), deployment.image.digest);
    await facts.getByText("Finished", { exact: true }).waitFor(WAIT);
    t.false(await page.getByRole("button", { name: "Cancel deployment" }).isVisible(), "nothing to cancel");

    // The page followed the log to its end: every line the API has, once each, in order.
    await page.getByText("End of the log.").waitFor(WAIT);
    const shown = await page.getByRole("log", { name: "Build log" }).textContent();
    const whole = (await api(platform, "GET", `/deployments/${id}/logs?limit=1000`, { token })).body;
    t.true(whole.events.length > 5);
    t.is(shown, whole.events.map((e: { message: string }) => e.message.replace(/\n?$/, "\n")).join(""));
    t.regex(shown!, /This build is SIMULATED/);

    // The status history, as GET /deployments/{id} keeps it: every status in order, each at its time.
    const statuses = deployment.history.map((entry: { status: string }) => entry.status).join(" → ");
    t.regex(statuses, /^PENDING → PROCESSING → (QUEUED → )?BUILDING → SUCCEEDED$/);
    const history = page.getByRole("list", { name: "Status history" });
    t.deepEqual(
      (await texts(history.getByRole("listitem").locator(".badge"))).join(" → "),
      statuses.replace(/[A-Z]+/g, (status: string) => statusDisplay(status).label),
    );
    t.deepEqual(
      await history.locator("time").evaluateAll((times) => times.map((time) => time.getAttribute("datetime"))),
      deployment.history.map((entry: { at: string }) => entry.at),
    );
    await shoot(page, "deployment");
  });
  await context.close();
});

test.serial("a deployment canceled while it builds ends CANCELED, and Cancel goes away", async (t) => {
  const { context, page } = await signedIn("carol", { width: 390, height: 844 });
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await deployFromDialog(page, { repository: "carol/slow-site" });
    await page.getByRole("heading", { name: "carol/slow-site" }).waitFor(WAIT);
    const facts = page.locator("dl");
    await facts.getByText(/^Building/).waitFor(WAIT);
    await facts.getByText("Phase", { exact: true }).waitFor(WAIT);
    await page.getByRole("heading", { name: "Build log" }).waitFor(WAIT);
    await page.getByText("Following the build…").waitFor(WAIT);
    await shoot(page, "deployment-building");
    const history = page.getByRole("list", { name: "Status history" });
    await history.getByRole("listitem").filter({ hasText: "Building" }).waitFor(WAIT);
    const cancel = page.getByRole("button", { name: "Cancel deployment" });
    await cancel.focus();
    await page.keyboard.press("Enter");
    await facts.getByText("Canceled", { exact: true }).waitFor(WAIT);
    await page.getByText("End of the log.").waitFor(WAIT);
    t.false(await cancel.isVisible());
    const id = new URL(page.url()).pathname.split("/").pop()!;
    const deployment = (await api(platform, "GET", `/deployments/${id}`, { token: await platform.token("carol") }))
      .body;
    t.is(deployment.status, "CANCELED");
    t.truthy(deployment.cancelRequestedAt);
    await page.getByText(deployment.statusReason.code, { exact: true }).first().waitFor(WAIT);
    // The history followed live: its last line is the cancel, with its reason's code.
    const last = history.getByRole("listitem").last();
    await last.filter({ hasText: "Canceled" }).waitFor(WAIT);
    t.is(await last.locator("code").innerText(), deployment.statusReason.code);
    t.is(await history.getByRole("listitem").count(), deployment.history.length);
    await shoot(page, "deployment-canceled");
  });
  await context.close();
});

test.serial("a deployment stored before status histories were kept still shows, saying it has none", async (t) => {
  // An item as the table held it before `history` existed: written directly, as the old code wrote it.
  const id = "0b5e55ed-0000-4000-8000-000000000001";
  const at = "2026-01-02T03:04:05.000Z";
  await platform.documents.send(
    new PutCommand({
      TableName: platform.tables.deployments,
      Item: {
        id,
        userId: "other",
        repository: "other/hello",
        status: "SUCCEEDED",
        framework: "static",
        builder: "static",
        createdAt: at,
        updatedAt: at,
        finishedAt: at,
      },
    }),
  );
  const { context, page } = await signedIn("other", { width: 390, height: 844 });
  await screenshotOnFailure(page, t.title, t.log, async () => {
    await page.goto(`${platform.apiUrl}/deployment/${id}`);
    await page.getByRole("heading", { name: "other/hello" }).waitFor(WAIT);
    await page.locator("dl").getByText("Succeeded", { exact: true }).waitFor(WAIT);
    await page.getByRole("heading", { name: "Status history" }).waitFor(WAIT);
    await page.getByText(/^Not recorded/).waitFor(WAIT);
    t.is(await page.getByRole("list", { name: "Status history" }).count(), 0);
  });
  await context.close();
});

const texts = async (locator: Locator) =>
  (await locator.allInnerTexts()).map((text) => text.replace(/\s+/g, " ").trim());

/** The API paths (with their query) the page fetched, in order. */
function apiRequests(page: Page, pathname: string): string[] {
  const seen: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (request.resourceType() === "fetch" && url.pathname === pathname) seen.push(`${request.method()} ${url.search}`);
  });
  return seen;
}

test.serial("the Deploy dialog lists the caller's repositories, searchable, a page at a time", async (t) => {
  const { context, page } = await signedIn("many", { width: 390, height: 844 });
  await screenshotOnFailure(page, t.title, t.log, async () => {
    const seen = apiRequests(page, "/repositories");
    // What the real GET /repositories answers for this user (its installation, read from the GitHub emulator).
    const token = await platform.token("many");
    const first = (await api(platform, "GET", "/repositories?limit=50", { token })).body;
    t.is(first.items.length, 50);
    t.truthy(first.nextCursor, "53 repositories: a second page");

    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Deploy a repository" });
    const list = dialog.getByRole("list", { name: "Your repositories" });
    await list.getByRole("button").first().waitFor(WAIT);
    t.deepEqual(
      await texts(list.getByRole("button")),
      first.items.map((r: { fullName: string; defaultBranch: string }) => `${r.fullName} private ${r.defaultBranch}`),
    );
    await dialog.getByRole("button", { name: "Load more repositories" }).click();
    await dialog.getByRole("button", { name: "Load more repositories" }).waitFor({ ...WAIT, state: "detached" });
    t.is(await list.getByRole("button").count(), MANY_REPOSITORIES, "every repository, each once");
    await dialog.getByRole("searchbox", { name: "Search repositories" }).fill("NOTES");
    t.deepEqual(await texts(list.getByRole("button")), ["many/notes private trunk"]);
    await list.getByRole("button", { name: /many\/notes/ }).click();
    t.is(await dialog.getByRole("textbox", { name: "Repository" }).inputValue(), "many/notes");
    t.is(await dialog.getByRole("textbox", { name: "Ref" }).inputValue(), "trunk", "the default branch as the ref");
    await shoot(page, "deploy-dialog");
    t.deepEqual(seen, ["GET ?limit=50", `GET ?limit=50&cursor=${encodeURIComponent(first.nextCursor)}`]);
    await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
    await page.getByRole("heading", { name: "many/notes" }).waitFor(WAIT);
    await page.locator("dl").getByText("trunk", { exact: true }).waitFor(WAIT);
  });
  await context.close();
});

test.serial(
  "onboarding: unlink, a project refused without a link, Connect GitHub through the App's install page, a replay refused",
  async (t) => {
    const { context, page } = await signedIn("erin");
    await screenshotOnFailure(page, t.title, t.log, async () => {
      const nav = page.getByRole("navigation", { name: "Pages" });
      // Linked at start, as `npm start` links every owner: Unlink it (DELETE /github/installations/{id}).
      await nav.getByRole("link", { name: "GitHub" }).click();
      await page.getByRole("heading", { name: "GitHub", exact: true }).waitFor(WAIT);
      await page.getByRole("button", { name: "Unlink erin" }).click();
      await page.getByText("No installation linked yet").waitFor(WAIT);

      // No link on erin: the project is refused with the way out, a link to the GitHub page.
      await nav.getByRole("link", { name: "Projects" }).click();
      await page.getByText("No projects yet").waitFor(WAIT);
      const form = page.getByRole("form", { name: "Create or update a project" });
      await form.getByRole("textbox", { name: "Repository" }).fill("erin/site");
      await form.getByRole("button", { name: "Save project" }).click();
      await form.getByText(/Link a Slipway GitHub App installation on erin first/).waitFor(WAIT);
      await form.getByRole("link", { name: "Connect GitHub" }).click();

      // Connect GitHub: GET /github/install, then the GitHub emulator's install page (another origin), where erin
      // installs the App; GitHub sends the browser back to the setup page, which links it (POST /github/installations).
      await page.getByRole("heading", { name: "GitHub", exact: true }).waitFor(WAIT);
      await page.getByRole("button", { name: "Connect GitHub" }).click();
      await page.waitForURL((url) => url.origin === platform.github!.url, WAIT);
      // GitHub's redirect to the setup URL, as the browser followed it (the page then drops its single-use query).
      const setupRequest = page.waitForRequest(
        (request) => request.isNavigationRequest() && new URL(request.url()).pathname === "/settings/github/setup",
        WAIT,
      );
      await page.getByRole("button", { name: "Install on erin" }).click();
      await page.getByRole("heading", { name: "Linking your GitHub installation" }).waitFor(WAIT);
      const setupUrl = (await setupRequest).url();
      t.is(new URL(setupUrl).searchParams.get("setup_action"), "install");
      const installationId = platform.github!.installationIdFor("erin");
      await page
        .getByRole("status")
        .filter({ hasText: `Linked erin (installation ${installationId}).` })
        .waitFor(WAIT);
      t.is(new URL(page.url()).search, "", "the single-use query is not kept for a reload");

      // The same setup address again (a reload from history): its state was used, and the API says so under "state".
      await page.goto(setupUrl);
      const alert = page.getByRole("alert").filter({ hasText: /state/ });
      await alert.waitFor(WAIT);
      t.is(await alert.locator("dt").innerText(), "state");
      await shoot(page, "github-setup-error");

      await page.goto(`${platform.apiUrl}/settings/github`);
      await page.getByRole("button", { name: "Unlink erin" }).waitFor(WAIT);
      t.regex(await page.getByRole("row").filter({ hasText: "erin" }).innerText(), /all\s+active/);
      await shoot(page, "github");
    });
    await context.close();
  },
);

test.serial("onboarding: a project deploying on push, a git commit deploying it, and Delete", async (t) => {
  // erin linked the installation in the test before (through the install flow).
  const { context, page } = await signedIn("erin");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    const nav = page.getByRole("navigation", { name: "Pages" });
    const form = page.getByRole("form", { name: "Create or update a project" });
    // A project deploying every push to main: a commit in erin's checkout is a push, and a deployment of it shows.
    await nav.getByRole("link", { name: "Projects" }).click();
    await page.getByText("No projects yet").waitFor(WAIT);
    await form.getByRole("textbox", { name: "Repository" }).fill("erin/site");
    await form.getByRole("textbox", { name: "Branch" }).fill("main");
    await form.getByRole("checkbox", { name: "Deploy every push" }).check();
    await form.getByRole("button", { name: "Save project" }).click();
    await page.getByRole("button", { name: "Delete erin/site" }).waitFor(WAIT);
    t.regex(await page.getByRole("row", { name: /erin\/site/ }).innerText(), /main.*on/s);
    await shoot(page, "projects");

    const checkout = path.join(platform.reposDir!, "erin", "site");
    fs.writeFileSync(path.join(checkout, "index.html"), "<h1>erin, again</h1>\n");
    git(checkout, "commit", "-q", "-am", "second");
    const sha = git(checkout, "rev-parse", "HEAD");
    await platform.github!.checkPushes();
    await nav.getByRole("link", { name: "Deployments" }).click();
    await page
      .getByRole("row", { name: /erin\/site/ })
      .getByText(sha.slice(0, 7))
      .waitFor(WAIT);

    await nav.getByRole("link", { name: "Projects" }).click();
    await page.getByRole("button", { name: "Delete erin/site" }).click();
    await page.getByText("No projects yet").waitFor(WAIT);
  });
  await context.close();
});

test.serial("the deployments page waits at most two round trips after its HTML", async (t) => {
  const { context, page } = await signedIn("demo");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    const recorder = await recordRequests(page, { coldCache: true });
    await page.goto(`${platform.apiUrl}/`);
    // The list drawn from GET /deployments: its rows, or its empty state when this test runs alone.
    await page
      .getByRole("row", { name: /demo\// })
      .first()
      .or(page.getByText("No deployments yet"))
      .waitFor(WAIT);
    const requests = recorder.requests().filter((r) => r.url !== `${platform.apiUrl}/`);
    const chain = longestWaterfall(requests).map((r) => new URL(r.url).pathname);
    t.log(`requests after the HTML: ${requests.length}; longest chain: ${chain.join(" → ")}`);
    t.true(chain.length <= 2, chain.join(" → "));
    t.true(
      chain.some((p) => p === "/deployments"),
      "the list is on the chain measured",
    );
  });
  await context.close();
});

test.serial(
  "the dashboard's files carry the build's cache headers, and page paths fall back to index.html",
  async (t) => {
    const index = await fetch(`${platform.apiUrl}/deployment/anything`, { headers: { accept: "text/html" } });
    t.is(index.status, 200);
    t.is(index.headers.get("cache-control"), "no-cache");
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    t.truthy(asset);
    const script = await fetch(`${platform.apiUrl}${asset}`);
    t.is(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
    t.is((await fetch(`${platform.apiUrl}/assets/missing.js`)).status, 404);
    t.is(
      (await fetch(`${platform.apiUrl}/deployments`, { headers: { accept: "text/html" } })).status,
      401,
      "API paths stay the API's",
    );
    const missingRoute = await fetch(`${platform.apiUrl}/deployments/x/nothing`, {
      headers: { accept: "application/json" },
    });
    t.is(missingRoute.status, 404, "a fetch of a route the API lacks gets the gateway's 404, not the page");
    t.deepEqual(await missingRoute.json(), { message: "Not Found" });
  },
);
