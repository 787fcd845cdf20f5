import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_REPOS_DIR, startPlatform, type Platform, type PlatformOptions } from "../../local/platform/platform";

/**
 * A repositories folder for the local platform: every example repository under `owner`, plus any extra
 * repositories (path → files) given. Git-less plain folders: the emulator serves each as one commit on `main`.
 */
export function repositoriesFolder(owner: string, extra: Record<string, Record<string, string>> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-repos-"));
  fs.cpSync(path.join(DEFAULT_REPOS_DIR, "demo"), path.join(root, owner), { recursive: true });
  for (const [repository, files] of Object.entries(extra)) {
    for (const [file, content] of Object.entries(files)) {
      const target = path.join(root, repository, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
    }
  }
  return root;
}

/** Boots the whole platform on free ports with fresh state in a temporary folder. */
export async function bootPlatform(
  reposDir: string,
  options: Pick<
    PlatformOptions,
    | "simulatedBuildSeconds"
    | "stackConfig"
    | "asyncRetryDelaysMs"
    | "schedules"
    | "onBuildOutcome"
    | "notify"
    | "githubWaitScale"
    | "unlinked"
    | "onWebhookDelivery"
  > = {},
): Promise<Platform & { cleanUp(): Promise<void> }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "slipway-state-"));
  const platform = await startPlatform({
    port: 0,
    stateDir,
    fresh: true,
    reposDir,
    logger: { info() {}, warn() {}, error() {} },
    // Tests call the reconciler themselves (platform.eventBridge.runSchedule), never on a timer.
    schedules: false,
    ...options,
  });
  return Object.assign(platform, {
    async cleanUp() {
      await platform.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
      fs.rmSync(reposDir, { recursive: true, force: true });
    },
  });
}

export interface ApiAnswer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** One HTTP request to the local API, as the front end makes it. */
export async function api<T = any>(
  platform: Platform,
  method: string,
  route: string,
  options: { token?: string; body?: unknown } = {},
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${platform.apiUrl}${route}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Polls GET /deployments/{id} until the deployment leaves PENDING/PROCESSING (or the time runs out). */
export async function settled(platform: Platform, token: string, id: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(platform, "GET", `/deployments/${id}`, { token });
    if (body.status === "BUILDING" || body.status === "FAILED" || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls GET /deployments/{id} until the deployment's status is one of `statuses` (or the time runs out). */
export async function reaches(
  platform: Platform,
  token: string,
  id: string,
  statuses: readonly string[],
  timeoutMs = 60_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(platform, "GET", `/deployments/${id}`, { token });
    if (statuses.includes(body.status) || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
