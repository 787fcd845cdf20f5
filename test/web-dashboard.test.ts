import test from "ava";
import * as path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureDashboardBuilt } from "../local/platform/dashboardSite";
import type { Platform } from "../local/platform/platform";
import { launchChromium, screenshotOnFailure } from "./helpers/browser";
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
    const deployment = (await api(platform, "GET", `/deployments/${id}`, { token: await platform.token("carol") })).body;
    t.is(deployment.status, "CANCELED");
    t.truthy(deployment.cancelRequestedAt);
    await page.getByText(deployment.statusReason.code, { exact: true }).waitFor(WAIT);
    await shoot(page, "deployment-canceled");
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
