import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheControlFor } from "../../components/dashboard";
import type { DashboardConfig } from "../../web/src/dashboardConfig";
import type { GatewayResponse } from "./httpApi/gatewayResponse";
import type { FallbackRequest } from "./httpApi/startHttpApi";
import type { SignInRequest } from "./localSignIn";

/*
 * The dashboard beside the local API, as the stack's CloudFront distribution serves it (components/dashboard.ts):
 * the built files, `config.json` made from the running platform, SPA fallback to index.html for page paths, and the
 * same cache headers (hashed assets immutable for a year, index.html and config.json revalidated every time).
 */

export const WEB_DIR = path.resolve(__dirname, "../../web");
export const WEB_DIST_DIR = path.join(WEB_DIR, "dist");

// Cache-Control per file is the Dashboard component's, so local and AWS agree.
export { cacheControlFor };

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
}

export interface DashboardSiteOptions {
  /** Default WEB_DIST_DIR. */
  readonly distDir?: string;
  readonly config: () => DashboardConfig;
  readonly signIn?: (request: SignInRequest) => Promise<GatewayResponse | undefined>;
}

/** The HTTP API's fallback: sign-in pages, config.json, the dashboard's files. Undefined = the gateway's 404. */
export function createDashboardSite(options: DashboardSiteOptions) {
  const distDir = options.distDir ?? WEB_DIST_DIR;
  return async (request: FallbackRequest): Promise<GatewayResponse | undefined> => {
    const url = new URL(request.target, "http://local");
    const form = /application\/x-www-form-urlencoded/.test(String(request.headers["content-type"] ?? ""))
      ? new URLSearchParams(request.body.toString("utf8"))
      : new URLSearchParams();
    const signedIn = await options.signIn?.({
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      form,
    });
    if (signedIn) return signedIn;
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    if (url.pathname === "/config.json") {
      return file(200, Buffer.from(JSON.stringify(options.config())), "config.json");
    }
    const relative = decodeURIComponent(url.pathname).replace(/^\/+/, "");
    const resolved = path.resolve(distDir, relative);
    if (relative !== "" && resolved.startsWith(distDir + path.sep) && isFile(resolved)) {
      return file(200, fs.readFileSync(resolved), relative);
    }
    // A page the browser navigates to (no extension, asking for HTML) is the single-page app's, as CloudFront answers
    // index.html for it. Anything else (a fetch of a route the API lacks) keeps the gateway's JSON 404, which the
    // dashboard reads as "this API has no such route".
    if (path.extname(relative) !== "" || !String(request.headers.accept ?? "").includes("text/html")) return undefined;
    const index = path.join(distDir, "index.html");
    if (!isFile(index)) {
      return file(503, Buffer.from("The dashboard is not built: run `npm run build:web`.\n"), "missing.txt");
    }
    return file(200, fs.readFileSync(index), "index.html");
  };
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function file(status: number, body: Buffer, name: string): GatewayResponse {
  return {
    status,
    headers: {
      "content-type": contentTypeFor(name),
      "cache-control": cacheControlFor(name),
      "x-content-type-options": "nosniff",
    },
    cookies: [],
    body,
  };
}

/** The newest modification time under a folder (the dashboard's sources). */
function newestChange(entry: string): number {
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(entry).map((child) => newestChange(path.join(entry, child))));
}

/** Whether web/dist is older than the sources it is built from (or missing). */
export function dashboardBuildIsStale(webDir = WEB_DIR): boolean {
  const built = path.join(webDir, "dist", "index.html");
  if (!isFile(built)) return true;
  const sources = [path.join(webDir, "src"), path.join(webDir, "index.html"), path.join(webDir, "vite.config.mts")];
  return Math.max(...sources.filter(fs.existsSync).map(newestChange)) > fs.statSync(built).mtimeMs;
}

/** Builds web/dist with Vite when it is missing or stale; returns whether it built. */
export function ensureDashboardBuilt(
  webDir = WEB_DIR,
  onProgress: (message: string) => void = () => undefined,
): boolean {
  if (!dashboardBuildIsStale(webDir)) return false;
  onProgress("Building the dashboard (vite build)…");
  const vite = path.join(path.dirname(require.resolve("vite/package.json")), "bin", "vite.js");
  execFileSync(
    process.execPath,
    [vite, "build", "--config", path.join(webDir, "vite.config.mts"), "--logLevel", "warn"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  return true;
}
