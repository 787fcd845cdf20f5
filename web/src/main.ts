import { createApiClient } from "./api";
import { completeSignIn, currentSession, signOut } from "./auth";
import { parseDashboardConfig, type DashboardConfig } from "./dashboardConfig";
import { h, render } from "./h";
import "./style.css";
import type { PageContext } from "./views/context";
import { deploymentPage } from "./views/deploymentPage";
import { deploymentsPage } from "./views/deploymentsPage";
import { githubPage } from "./views/githubPage";
import { githubSetupPage, SETUP_PATH } from "./views/githubSetupPage";
import { projectsPage } from "./views/projectsPage";
import { signInPage } from "./views/signInPage";

/*
 * Pages by path. Dashboard paths never collide with the API's (`/deployments…`, `/github/…`, `/projects…`), because
 * locally both are served from one origin: `/`, `/deployment/{id}`, `/callback`, `/settings/github` (and its
 * `/setup`, the GitHub App's setup URL), `/settings/projects`.
 */

const PAGES: readonly { path: string; title: string }[] = [
  { path: "/", title: "Deployments" },
  { path: "/settings/github", title: "GitHub" },
  { path: "/settings/projects", title: "Projects" },
];

const main = document.getElementById("main")!;
const account = document.getElementById("account")!;
const pages = document.getElementById("pages")!;
let leaving: (() => void)[] = [];

async function start(): Promise<void> {
  let config: DashboardConfig;
  try {
    // Served no-cache (revalidated); the same request as index.html's preload, so the preloaded answer is used.
    const response = await fetch("/config.json");
    config = parseDashboardConfig(await response.json());
  } catch (error) {
    render(
      main,
      h("h1", {}, "Slipway"),
      h("p", { role: "alert" }, `The dashboard has no usable config.json: ${String(error)}`),
    );
    return;
  }
  const api = createApiClient({
    baseUrl: config.apiUrl,
    token: () => currentSession()?.accessToken,
    onUnauthorized: () => {
      signOut();
      show(config, api, "Your session ended; sign in again.");
    },
  });
  window.addEventListener("popstate", () => show(config, api));
  document.addEventListener("click", (event) => {
    const link = (event.target as Element).closest?.("a");
    if (
      !link ||
      link.target ||
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey
    )
      return;
    const url = new URL(link.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    navigate(config, api, url.pathname + url.search);
  });
  show(config, api);
}

function navigate(config: DashboardConfig, api: ReturnType<typeof createApiClient>, path: string): void {
  history.pushState(null, "", path);
  show(config, api);
}

function show(config: DashboardConfig, api: ReturnType<typeof createApiClient>, problem?: string): void {
  for (const cleanup of leaving) cleanup();
  leaving = [];
  const path = location.pathname;
  if (path === "/callback") {
    render(main, h("p", { "aria-busy": "true" }, "Signing in…"));
    completeSignIn(config, new URL(location.href))
      .then((returnTo) => {
        history.replaceState(null, "", returnTo);
        show(config, api);
      })
      .catch((error: unknown) => {
        history.replaceState(null, "", "/");
        show(config, api, `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    return;
  }
  const session = currentSession();
  if (!session) {
    render(account);
    render(pages);
    document.title = "Sign in · Slipway";
    signInPage(main, config, path + location.search, problem);
    return;
  }
  render(
    account,
    h("span", { class: "who" }, "Signed in as ", h("strong", {}, session.user)),
    h(
      "button",
      {
        type: "button",
        onclick: () => {
          signOut();
          show(config, api);
        },
      },
      "Sign out",
    ),
  );
  const context: PageContext = {
    api,
    navigate: (to) => navigate(config, api, to),
    onLeave: (cleanup) => leaving.push(cleanup),
  };
  render(
    pages,
    ...PAGES.map((page) =>
      h(
        "a",
        {
          href: page.path,
          "aria-current": (
            page.path === "/" ? path === "/" || path.startsWith("/deployment/") : path.startsWith(page.path)
          )
            ? "page"
            : undefined,
        },
        page.title,
      ),
    ),
  );
  const match = /^\/deployment\/([^/]+)$/.exec(path);
  if (match) {
    document.title = "Deployment · Slipway";
    deploymentPage(main, context, decodeURIComponent(match[1]!));
  } else if (path === SETUP_PATH) {
    document.title = "Linking GitHub · Slipway";
    githubSetupPage(main, context, new URLSearchParams(location.search));
  } else if (path === "/settings/github") {
    document.title = "GitHub · Slipway";
    githubPage(main, context);
  } else if (path === "/settings/projects") {
    document.title = "Projects · Slipway";
    projectsPage(main, context);
  } else {
    document.title = "Deployments · Slipway";
    deploymentsPage(main, context);
  }
  main.focus({ preventScroll: true });
}

void start();
