import test from "ava";
import * as path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { ensureDashboardBuilt } from "../local/platform/dashboardSite";
import type { Platform } from "../local/platform/platform";
import { launchChromium, longestWaterfall, recordRequests, screenshotOnFailure } from "./helpers/browser";
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

test.before(async () => {
  ensureDashboardBuilt();
  // "demo" owns the example repositories (a monorepo among them); "other" is a second user with one repository;
  // "carol" has a site whose simulated build takes ten minutes, to be canceled while it builds.
  const reposDir = repositoriesFolder("demo", {
    "other/hello": { "index.html": "<!doctype html><title>hello</title><h1>hello</h1>" },
    "carol/slow-site": { "index.html": "<h1>slow</h1>", ".slipway/simulate-seconds": "600" },
  });
  [platform, browser] = await Promise.all([bootPlatform(reposDir, { simulatedBuildSeconds: 2 }), launchChromium()]);
  // Cold starts of the API's functions can pass API Gateway's 30 s under a loaded machine (the dashboard then shows
  // "Could not refresh … Retrying"); warm them so the waits below measure the dashboard, not the first start.
  const token = await platform.token("warm-up");
  await Promise.all([
    api(platform, "GET", "/deployments", { token }),
    api(platform, "GET", "/deployments/warm-up", { token }),
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
    await page.getByText("AMBIGUOUS_ROOT").waitFor(WAIT);
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
    await page.getByText(deployment.statusReason.code, { exact: true }).waitFor(WAIT);
    await shoot(page, "deployment-canceled");
  });
  await context.close();
});

/**
 * The local platform has no GET /repositories yet and runs without the install flow (no githubAppClientId), so the
 * next test answers those routes in the browser's network layer (playwright's page.route) with the bodies the routes
 * document; everything else (sign-in, POST /deployments) is the real local API.
 */
type Stub = { status: number; body?: unknown };
async function stubApi(
  page: Page,
  answer: (method: string, url: URL, body: unknown) => Stub | undefined,
): Promise<string[]> {
  const seen: string[] = [];
  await page.route(
    (url) => url.origin === platform.apiUrl,
    async (route) => {
      const request = route.request();
      const url = new URL(request.url());
      const stub =
        request.resourceType() === "fetch" ? answer(request.method(), url, request.postDataJSON()) : undefined;
      if (!stub) return route.continue();
      seen.push(`${request.method()} ${url.pathname}${url.search}`);
      await route.fulfill({
        status: stub.status,
        contentType: "application/json",
        ...(stub.body !== undefined ? { body: JSON.stringify(stub.body) } : {}),
      });
    },
  );
  return seen;
}

const texts = async (locator: Locator) =>
  (await locator.allInnerTexts()).map((text) => text.replace(/\s+/g, " ").trim());

const repository = (owner: string, name: string, defaultBranch = "main", isPrivate = false) => ({
  owner,
  name,
  fullName: `${owner}/${name}`,
  defaultBranch,
  private: isPrivate,
  installationId: 1,
});

test.serial("the Deploy dialog lists the caller's repositories, searchable, a page at a time", async (t) => {
  const { context, page } = await signedIn("demo", { width: 390, height: 844 });
  await screenshotOnFailure(page, t.title, t.log, async () => {
    const seen = await stubApi(page, (method, url) => {
      if (method !== "GET" || url.pathname !== "/repositories") return undefined;
      return url.searchParams.get("cursor") === "page-2"
        ? { status: 200, body: { items: [repository("demo", "notes-api", "trunk")] } }
        : {
            status: 200,
            body: {
              items: [repository("demo", "landing"), repository("demo", "petclinic", "main", true)],
              nextCursor: "page-2",
            },
          };
    });
    await page.getByRole("button", { name: "Deploy", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Deploy a repository" });
    const list = dialog.getByRole("list", { name: "Your repositories" });
    await list.getByRole("button").first().waitFor(WAIT);
    t.deepEqual(await texts(list.getByRole("button")), ["demo/landing main", "demo/petclinic private main"]);
    await dialog.getByRole("button", { name: "Load more repositories" }).click();
    await list.getByRole("button", { name: /demo\/notes-api/ }).waitFor(WAIT);
    t.false(await dialog.getByRole("button", { name: "Load more repositories" }).isVisible(), "no more pages");
    await dialog.getByRole("searchbox", { name: "Search repositories" }).fill("NOTES");
    t.deepEqual(await texts(list.getByRole("button")), ["demo/notes-api trunk"]);
    await dialog.getByRole("searchbox", { name: "Search repositories" }).fill("land");
    await list.getByRole("button", { name: /demo\/landing/ }).click();
    t.is(await dialog.getByRole("textbox", { name: "Repository" }).inputValue(), "demo/landing");
    t.is(await dialog.getByRole("textbox", { name: "Ref" }).inputValue(), "main", "the default branch as the ref");
    await shoot(page, "deploy-dialog");
    t.deepEqual(seen, ["GET /repositories?limit=50", "GET /repositories?limit=50&cursor=page-2"]);
    await dialog.getByRole("button", { name: "Deploy", exact: true }).click();
    await page.getByRole("heading", { name: "demo/landing" }).waitFor(WAIT);
    await page.locator("dl").getByText("main", { exact: true }).waitFor(WAIT);
  });
  await context.close();
});

test.serial("onboarding: Connect GitHub, the setup page's errors by parameter, unlink, projects", async (t) => {
  const { context, page } = await signedIn("demo");
  await screenshotOnFailure(page, t.title, t.log, async () => {
    let linked = [
      {
        installationId: 42,
        account: "demo",
        repositorySelection: "all",
        suspended: false,
        deleted: false,
        linkedAt: new Date().toISOString(),
      },
      {
        installationId: 43,
        account: "acme",
        repositorySelection: "selected",
        suspended: true,
        deleted: false,
        linkedAt: null,
      },
    ];
    let projects: Record<string, unknown>[] = [];
    const installUrl = `${platform.apiUrl}/settings/github/setup?installation_id=44&setup_action=install&code=c0de&state=used-state`;
    const seen = await stubApi(page, (method, url, body) => {
      const route = `${method} ${url.pathname}`;
      if (route === "GET /github/install")
        return { status: 200, body: { url: installUrl, state: "used-state", expiresAt: "" } };
      if (route === "GET /github/installations") return { status: 200, body: { installations: linked } };
      if (route === "DELETE /github/installations/43") {
        linked = linked.filter((l) => l.installationId !== 43);
        return { status: 204 };
      }
      if (route === "POST /github/installations") {
        const error = {
          code: "VALIDATION_ERROR",
          field: "state",
          message: "state is unknown, expired, already used or issued to someone else.",
        };
        return { status: 400, body: { error } };
      }
      if (route === "GET /projects") return { status: 200, body: { projects } };
      if (route === "PUT /projects/demo/landing") {
        const { autoDeploy, branch, rootDirectory } = body as {
          autoDeploy: boolean;
          branch?: string;
          rootDirectory?: string;
        };
        projects = [
          {
            id: "p1",
            repository: "demo/landing",
            branch: branch ?? null,
            rootDirectory: rootDirectory ?? "",
            autoDeploy,
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
          },
        ];
        return { status: 201, body: projects[0] };
      }
      if (route === "PUT /projects/acme/shop") {
        return {
          status: 409,
          body: {
            error: {
              code: "INSTALLATION_REQUIRED",
              message:
                "Link a Slipway GitHub App installation on acme first (GET /github/install), then create the project.",
            },
          },
        };
      }
      if (route === "DELETE /projects/demo/landing") {
        projects = [];
        return { status: 204 };
      }
      return undefined;
    });

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "GitHub" }).click();
    await page.getByRole("heading", { name: "GitHub", exact: true }).waitFor(WAIT);
    const rows = page.getByRole("row");
    await page.getByRole("button", { name: "Unlink acme" }).waitFor(WAIT);
    t.regex(await rows.filter({ hasText: "acme" }).innerText(), /selected\s+suspended/);
    await shoot(page, "github");
    await page.getByRole("button", { name: "Unlink acme" }).click();
    await page.getByRole("button", { name: "Unlink acme" }).waitFor({ ...WAIT, state: "detached" });
    await page.getByRole("button", { name: "Unlink demo" }).waitFor(WAIT);

    // Connect GitHub goes to the url GET /github/install gave: here straight back to the setup page, whose state the
    // API refuses (400 on state): the message shows under the query parameter's name.
    await page.getByRole("button", { name: "Connect GitHub" }).click();
    await page.getByRole("heading", { name: "Linking your GitHub installation" }).waitFor(WAIT);
    const alert = page.getByRole("alert").filter({ hasText: "state is unknown" });
    await alert.waitFor(WAIT);
    t.is(await alert.locator("dt").innerText(), "state");
    t.is(new URL(page.url()).search, "", "the single-use query is not kept for a reload");
    await shoot(page, "github-setup-error");

    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Projects" }).click();
    await page.getByText("No projects yet").waitFor(WAIT);
    const form = page.getByRole("form", { name: "Create or update a project" });
    await form.getByRole("textbox", { name: "Repository" }).fill("acme/shop");
    await form.getByRole("button", { name: "Save project" }).click();
    await form.getByRole("link", { name: "Connect GitHub" }).waitFor(WAIT);
    await form.getByRole("textbox", { name: "Repository" }).fill("demo/landing");
    await form.getByRole("textbox", { name: "Branch" }).fill("release");
    await form.getByRole("checkbox", { name: "Deploy every push" }).uncheck();
    await form.getByRole("button", { name: "Save project" }).click();
    await page.getByRole("button", { name: "Delete demo/landing" }).waitFor(WAIT);
    t.regex(await page.getByRole("row", { name: /demo\/landing/ }).innerText(), /release.*off/s);
    await shoot(page, "projects");
    await page.getByRole("button", { name: "Delete demo/landing" }).click();
    await page.getByText("No projects yet").waitFor(WAIT);
    t.true(seen.includes("PUT /projects/demo/landing") && seen.includes("DELETE /projects/demo/landing"));
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
