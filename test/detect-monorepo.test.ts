import test from "ava";
import { createGitHubFileSystem, createMemoryFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan, type DeploymentPlan } from "../runtime/detect/plan";
import { isPermanentError } from "../runtime/errors";
import { fakeGitHubReader, packageJson, pomXml, withDependencies, type FakeTree } from "./helpers/fakeRepo";

const detect = (files: FakeTree) => detectPlan(createMemoryFileSystem(files));
const where = (plan: DeploymentPlan) => ({ framework: plan.framework, rootDirectory: plan.rootDirectory });

async function failure(files: FakeTree) {
  const error: unknown = await detect(files).then(
    (plan) => {
      throw new Error(`expected a detection error, got ${JSON.stringify(where(plan))}`);
    },
    (e: unknown) => e,
  );
  return {
    permanent: isPermanentError(error),
    code: (error as { code?: string }).code,
    message: (error as Error).message,
    candidates: [...(candidatesOf(error) ?? [])].sort((a, b) => a.rootDirectory.localeCompare(b.rootDirectory)),
  };
}

/** Detection over the GitHub backend; returns the outcome and how many reader calls it cost. */
async function requestsFor(files: FakeTree) {
  const { reader } = fakeGitHubReader(files);
  const fs = createGitHubFileSystem(reader);
  const outcome = await detectPlan(fs).then(where, (e: { code?: string }) => ({ code: e.code }));
  return { outcome, requests: fs.stats().requests };
}

const uiLibrary = packageJson({
  name: "@acme/ui",
  exports: { ".": "./src/index.ts" },
  dependencies: { react: "^18" },
  devDependencies: { vite: "^5", vitest: "^1" },
  scripts: { build: "vite build", test: "vitest" },
});

const turboOneApp: FakeTree = {
  "package.json": packageJson({
    private: true,
    packageManager: "pnpm@9.1.0",
    devDependencies: { turbo: "^2" },
    scripts: { build: "turbo build" },
  }),
  "pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - \"packages/*\"\n",
  "pnpm-lock.yaml": null,
  "turbo.json": "{}",
  ".nvmrc": "v20.11.1\n",
  "apps/web/package.json": withDependencies(["next", "react", "@acme/ui"], {
    scripts: { build: "next build", start: "next start" },
  }),
  "apps/web/next.config.mjs": null,
  "apps/web/app/page.tsx": null,
  "packages/ui/package.json": uiLibrary,
  "packages/ui/vite.config.ts": null,
  "packages/ui/src/index.ts": null,
  "packages/tsconfig/package.json": packageJson({ name: "@acme/tsconfig", files: ["base.json"] }),
};

test("pnpm + turbo with one app: the app's folder, with the workspace's package manager and Node version", async (t) => {
  const plan = await detect(turboOneApp);
  t.deepEqual(where(plan), { framework: "nextjs", rootDirectory: "apps/web" });
  t.is(plan.packageManager, "pnpm");
  t.is(plan.installCommand, "pnpm install --frozen-lockfile");
  t.is(plan.buildCommand, "pnpm run build");
  t.is(plan.version?.node, "20.11.1");
  t.true(plan.evidence.some((e) => e.file === "pnpm-workspace.yaml"));
  t.true(plan.evidence.some((e) => e.file === "apps/web" && /only deployable app/.test(e.reason)));
});

test("a library package in a workspace (exports, built with Vite) is not counted as an app", async (t) => {
  const onlyLibraries: FakeTree = Object.fromEntries(
    Object.entries(turboOneApp).filter(([path]) => !path.startsWith("apps/")),
  );
  const error = await failure(onlyLibraries);
  t.is(error.code, "NO_FRAMEWORK");
  t.regex(error.message, /packages\/ui\/package\.json/, "the message says which package was skipped as a library");
});

test("a CLI that publishes itself is a library even with a start script", async (t) => {
  const plan = await detect({
    ...turboOneApp,
    "packages/cli/package.json": withDependencies(["next"], {
      scripts: { start: "node dist/index.js", release: "pnpm build && npm publish" },
    }),
  });
  t.deepEqual(where(plan), { framework: "nextjs", rootDirectory: "apps/web" });
});

test("pnpm + turbo with several apps: AMBIGUOUS_ROOT with the candidates and how to pick one", async (t) => {
  const error = await failure({
    ...turboOneApp,
    "apps/api/package.json": withDependencies(["@nestjs/core"], { scripts: { start: "node dist/main" } }),
    "apps/web-e2e/package.json": packageJson({ devDependencies: { "@playwright/test": "^1" } }),
  });
  t.true(error.permanent);
  t.is(error.code, "AMBIGUOUS_ROOT");
  t.deepEqual(error.candidates, [
    { rootDirectory: "apps/api", framework: "nestjs" },
    { rootDirectory: "apps/web", framework: "nextjs" },
  ]);
  t.regex(error.message, /apps\/api \(nestjs\)/);
  t.regex(error.message, /rootDirectory/);
});

test("a workspace root whose own package.json depends on a framework deploys from the root", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["next"], { workspaces: ["packages/*"] }),
    "packages/db/package.json": withDependencies(["express"], { scripts: { start: "node index.js" } }),
  });
  t.deepEqual(where(plan), { framework: "nextjs", rootDirectory: "" });
  t.true(plan.evidence.some((e) => /workspace root is itself/.test(e.reason)));
});

test("a workspace root with a Dockerfile deploys from the root with it", async (t) => {
  const plan = await detect({ ...turboOneApp, Dockerfile: "FROM node:20\n" });
  t.is(plan.rootDirectory, "");
  t.is(plan.builder, "docker");
  t.is(plan.framework, "nodejs", "nothing at the root but the Dockerfile's base image names the stack");
});

test("an empty workspace list does not make a workspace root", async (t) => {
  const app = {
    "index.html": null,
    "vite.config.ts": null,
    "demo/package.json": withDependencies(["express"], { scripts: { start: "node ." } }),
  };
  const npm = await detect({ ...app, "package.json": withDependencies(["vite"], { workspaces: [] }) });
  t.deepEqual(where(npm), { framework: "vite", rootDirectory: "" });
  // pnpm 9+ keeps settings in pnpm-workspace.yaml: without `packages` it declares no workspace.
  const pnpm = await detect({
    ...app,
    "package.json": withDependencies(["vite"]),
    "pnpm-workspace.yaml": "onlyBuiltDependencies:\n  - esbuild\n",
  });
  t.deepEqual(where(pnpm), { framework: "vite", rootDirectory: "" });
});

test("a root holding no app is searched up to three levels, skipping examples and tests", async (t) => {
  const plan = await detect({
    "README.md": null,
    "site/package.json": withDependencies(["astro"]),
    "examples/blog/package.json": withDependencies(["next"]),
    "test/fixtures/app/package.json": withDependencies(["express"], { scripts: { start: "node ." } }),
    "a/b/c/d/package.json": withDependencies(["nuxt"]),
  });
  t.deepEqual(where(plan), { framework: "astro", rootDirectory: "site" });
});

test("searching counts a bare Go server as an app beside a framework, but not a folder of Python scripts", async (t) => {
  const web = {
    "web/package.json": withDependencies(["next"]),
    "scripts/requirements.txt": "requests\n",
    "scripts/sync.py": null,
  };
  const plan = await detect(web);
  t.deepEqual(where(plan), { framework: "nextjs", rootDirectory: "web" });
  const error = await failure({ ...web, "api/go.mod": "module api\n\ngo 1.22\n", "api/main.go": null });
  t.is(error.code, "AMBIGUOUS_ROOT");
  t.deepEqual(
    error.candidates.map((c) => c.rootDirectory),
    ["api", "web"],
  );
});

test("a multi-module build found by searching is one app, at its root", async (t) => {
  const plan = await detect({
    "server/pom.xml": pomXml({ extra: "<modules><module>app</module></modules>" }),
    "server/app/pom.xml": pomXml({ plugins: ["org.springframework.boot:spring-boot-maven-plugin"] }),
  });
  t.deepEqual(where(plan), { framework: "spring-boot", rootDirectory: "server" });
  t.is(plan.startCommand, "java -Dserver.port=${PORT:-8080} -jar app/target/*.jar");
});

test("a JavaScript and a uv workspace at one root: both kinds of members are candidates", async (t) => {
  const error = await failure({
    "package.json": packageJson({ private: true, workspaces: ["frontend"] }),
    "pyproject.toml": '[tool.uv.workspace]\nmembers = ["backend"]\n\n[dependency-groups]\ndev = ["ruff"]\n',
    "frontend/package.json": withDependencies(["react", "vite"], { scripts: { build: "vite build" } }),
    "frontend/index.html": null,
    "backend/pyproject.toml": '[project]\ndependencies = ["fastapi"]\n',
    "backend/app/main.py": null,
  });
  t.is(error.code, "AMBIGUOUS_ROOT");
  t.deepEqual(error.candidates, [
    { rootDirectory: "backend", framework: "fastapi" },
    { rootDirectory: "frontend", framework: "vite" },
  ]);
});

test("workspace globs: `**` reaches deep members, `!` excludes, Lerna defaults to packages/*", async (t) => {
  const deep = await detect({
    "pnpm-workspace.yaml": "packages:\n  - 'services/**'\n  - '!services/legacy/**'\n",
    "package.json": packageJson({ private: true }),
    "services/http/edge/gateway/package.json": withDependencies(["hono"], { scripts: { start: "node dist/index.js" } }),
    "services/legacy/old/package.json": withDependencies(["express"], { scripts: { start: "node ." } }),
  });
  t.deepEqual(where(deep), { framework: "hono", rootDirectory: "services/http/edge/gateway" });
  const lerna = await detect({
    "lerna.json": '{ "version": "independent" }',
    "package.json": packageJson({ private: true }),
    "packages/site/package.json": withDependencies(["gatsby"]),
  });
  t.deepEqual(where(lerna), { framework: "gatsby", rootDirectory: "packages/site" });
});

test("nothing deployable: NO_FRAMEWORK saying what was looked for", async (t) => {
  const error = await failure({
    "README.md": "# notes",
    "docs/guide.md": null,
    "package.json": packageJson({ devDependencies: { prettier: "^3" } }),
  });
  t.true(error.permanent);
  t.is(error.code, "NO_FRAMEWORK");
  t.regex(error.message, /pom\.xml/);
  t.regex(error.message, /rootDirectory/);
  t.deepEqual(error.candidates, []);
});

test("request budget: at most 2 GitHub requests for a single app, at most 4 for a monorepo", async (t) => {
  const single = await requestsFor({
    "package.json": withDependencies(["next"]),
    "pnpm-lock.yaml": null,
    "app/page.tsx": null,
    "public/index.html": null,
    "examples/a/package.json": withDependencies(["vite"]),
  });
  t.deepEqual(single.outcome, { framework: "nextjs", rootDirectory: "" });
  t.true(single.requests <= 2, `${single.requests} requests`);

  const pnpm = await requestsFor(turboOneApp);
  t.deepEqual(pnpm.outcome, { framework: "nextjs", rootDirectory: "apps/web" });
  t.true(pnpm.requests <= 2, `a workspace marker lets the first round read the apps too: ${pnpm.requests} requests`);

  // npm workspaces are declared inside package.json: the members are only known after the first round.
  const npmWorkspaces: FakeTree = {
    "package.json": packageJson({ private: true, workspaces: ["packages/**"] }),
    "packages/a/b/c/d/package.json": withDependencies(["nuxt"]),
    "packages/lib/package.json": uiLibrary,
  };
  const npm = await requestsFor(npmWorkspaces);
  t.deepEqual(npm.outcome, { framework: "nuxtjs", rootDirectory: "packages/a/b/c/d" });
  t.true(npm.requests <= 4, `${npm.requests} requests`);
});

test("a large monorepo stays within the request budget", async (t) => {
  const files: FakeTree = {
    "package.json": packageJson({ private: true, workspaces: ["packages/*"] }),
    "turbo.json": "{}",
  };
  for (let i = 0; i < 150; i++) files[`packages/lib-${i}/package.json`] = uiLibrary;
  files["packages/zz-site/package.json"] = withDependencies(["astro"]);
  const result = await requestsFor(files);
  t.deepEqual(result.outcome, { framework: "astro", rootDirectory: "packages/zz-site" });
  t.true(result.requests <= 4, `${result.requests} requests`);
});

test("a folder with only a Dockerfile (a proxy image) does not compete with an app found by its manifest", async (t) => {
  const files: FakeTree = { "web/package.json": withDependencies(["next"]), "nginx/Dockerfile": "FROM nginx:1.25\n" };
  t.deepEqual(where(await detect(files)), { framework: "nextjs", rootDirectory: "web" });
  const onlyDocker = await detect({ "nginx/Dockerfile": "FROM nginx:1.25\n", "README.md": null });
  t.deepEqual(where(onlyDocker), { framework: "static", rootDirectory: "nginx" });
  t.is(onlyDocker.builder, "docker");
});

test("a root project with nothing to run yields to the app below it, and is deployed when there is none", async (t) => {
  const tooling = { "requirements.txt": "mkdocs\n", "mkdocs.yml": null };
  const plan = await detect({ ...tooling, "web/package.json": withDependencies(["next"]) });
  t.deepEqual(where(plan), { framework: "nextjs", rootDirectory: "web" });
  const alone = await detect({ ...tooling, "streamlit_app.py": null });
  t.deepEqual(where(alone), { framework: "python", rootDirectory: "" });
});
