import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * Headless Chromium for the dashboard's tests and bench: Debian's `chromium` package (`apt-get install chromium`;
 * playwright's own browser download is not used), driven by playwright-core. SLIPWAY_CHROMIUM overrides the path.
 */
export const CHROMIUM = process.env.SLIPWAY_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set SLIPWAY_CHROMIUM`);
  }
  // --no-sandbox: CI and this machine run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export const FAILURE_SCREENSHOTS = path.resolve(__dirname, "../../.cache/browser-failures");

/** Runs `body`; if it throws, saves a full-page screenshot named after `title` first and says where. */
export async function screenshotOnFailure<T>(page: Page, title: string, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    fs.mkdirSync(FAILURE_SCREENSHOTS, { recursive: true });
    const file = path.join(FAILURE_SCREENSHOTS, `${title.replace(/[^a-z0-9]+/gi, "-")}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    log(`screenshot of the failure: ${file}`);
    throw error;
  }
}
