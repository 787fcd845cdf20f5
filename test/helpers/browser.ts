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
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

export const FAILURE_SCREENSHOTS = path.resolve(__dirname, "../../.cache/browser-failures");

/** Runs `body`; if it throws, saves a full-page screenshot named after `title` first and says where. */
export async function screenshotOnFailure<T>(
  page: Page,
  title: string,
  log: (line: string) => void,
  body: () => Promise<T>,
): Promise<T> {
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

/** A request as seen from the page: what it was and when it started and ended (ms). */
export interface TimedRequest {
  readonly url: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The longest chain of requests each of which started only after the one before it ended: how many round trips a
 * page waits in sequence. Requests overlapping in time count as one step.
 */
export function longestWaterfall(requests: readonly TimedRequest[]): TimedRequest[] {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const chains: TimedRequest[][] = [];
  for (const request of sorted) {
    let best: TimedRequest[] = [];
    for (let i = 0; i < chains.length; i++) {
      const chain = chains[i]!;
      if (chain[chain.length - 1]!.end <= request.start && chain.length > best.length) best = chain;
    }
    chains.push([...best, request]);
  }
  return chains.reduce<TimedRequest[]>((longest, chain) => (chain.length > longest.length ? chain : longest), []);
}

/**
 * Records every request the page sends to the network from now on, with the browser's own times (Chrome DevTools
 * Protocol: requestWillBeSent → loadingFinished). Answers from the browser's caches are no round trip and are left out;
 * `coldCache` empties the cache first (a first visit).
 */
export async function recordRequests(
  page: Page,
  options: { coldCache?: boolean } = {},
): Promise<{ requests: () => TimedRequest[] }> {
  const cdp = await page.context().newCDPSession(page);
  const sent = new Map<string, { url: string; start: number; cached: boolean }>();
  const done: TimedRequest[] = [];
  cdp.on("Network.requestWillBeSent", (e) =>
    sent.set(e.requestId, { url: e.request.url, start: e.timestamp * 1000, cached: false }),
  );
  const cached = (requestId: string) => {
    const request = sent.get(requestId);
    if (request) request.cached = true;
  };
  cdp.on("Network.requestServedFromCache", (e) => cached(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) cached(e.requestId);
  });
  cdp.on("Network.loadingFinished", (e) => {
    const request = sent.get(e.requestId);
    if (request && !request.cached) done.push({ url: request.url, start: request.start, end: e.timestamp * 1000 });
  });
  await cdp.send("Network.enable");
  // A first visit: every file comes over the network, so the chain shows what waits for what.
  if (options.coldCache) await cdp.send("Network.clearBrowserCache");
  return { requests: () => [...done] };
}
