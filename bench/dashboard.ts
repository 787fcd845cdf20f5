import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { ensureDashboardBuilt, WEB_DIST_DIR } from "../local/platform/dashboardSite";
import { launchChromium, longestWaterfall, recordRequests } from "../test/helpers/browser";
import { api, bootPlatform, repositoriesFolder } from "../test/helpers/localPlatform";

/** Budget from the dashboard issue: JavaScript ≤ 150 KB gzipped, first render of the deployments page ≤ 1 s. */
const JS_BUDGET_BYTES = 150 * 1024;
const RUNS = 5;

export async function runDashboardBench(): Promise<void> {
  ensureDashboardBuilt();
  const assets = path.join(WEB_DIST_DIR, "assets");
  const js = fs.readdirSync(assets).filter((f) => f.endsWith(".js"));
  const gzipped = js.reduce((sum, f) => sum + gzipSync(fs.readFileSync(path.join(assets, f))).length, 0);
  console.log(
    `JavaScript: ${js.length} file(s), ${(gzipped / 1024).toFixed(1)} KiB gzipped (budget ${JS_BUDGET_BYTES / 1024} KiB)`,
  );

  const platform = await bootPlatform(repositoriesFolder("demo"));
  const browser = await launchChromium();
  try {
    const token = await platform.token("demo");
    for (let i = 0; i < 25; i++)
      await api(platform, "POST", "/deployments", { token, body: { repository: "demo/landing" } });
    const context = await browser.newContext();
    const page = await context.newPage();
    // Sign in once (the session lives in sessionStorage of this tab), then time fresh loads of the list.
    await page.goto(`${platform.apiUrl}/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign in as demo", exact: true }).click();
    await page
      .getByRole("row", { name: /demo\/landing/ })
      .first()
      .waitFor({ timeout: 120_000 });
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const started = Date.now();
      await page.goto(`${platform.apiUrl}/`);
      await page
        .getByRole("row", { name: /demo\/landing/ })
        .first()
        .waitFor({ timeout: 120_000 });
      times.push(Date.now() - started);
    }
    // One more load, not timed, with an empty cache: what waits for what on a first visit.
    const recorder = await recordRequests(page, { coldCache: true });
    await page.goto(`${platform.apiUrl}/`);
    await page
      .getByRole("row", { name: /demo\/landing/ })
      .first()
      .waitFor({ timeout: 120_000 });
    const afterHtml = recorder.requests().filter((r) => r.url !== `${platform.apiUrl}/`);
    const chain = longestWaterfall(afterHtml).map((r) => new URL(r.url).pathname);
    times.sort((a, b) => a - b);
    console.log(
      `First render of the deployments page (navigation → first row, ${RUNS} loads, 20 rows): ` +
        `median ${times[Math.floor(RUNS / 2)]} ms, worst ${times[RUNS - 1]} ms (budget 1000 ms); ` +
        `longest request waterfall after the HTML (a first visit, empty cache): ${chain.length} round trips (${chain.join(" → ")}; budget 2)`,
    );
  } finally {
    await browser.close();
    await platform.cleanUp();
  }
}
