import test from "ava";
import { createMemoryFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan, type DeploymentPlan } from "../runtime/detect/plan";
import { isPermanentError } from "../runtime/errors";
import { packageJson, pomXml, withDependencies, type FakeTree } from "./helpers/fakeRepo";

const detect = (files: FakeTree, rootDirectory?: string) =>
  detectPlan(createMemoryFileSystem(files), rootDirectory === undefined ? {} : { rootDirectory });

const summary = (plan: DeploymentPlan) => ({
  framework: plan.framework,
  builder: plan.builder,
  rootDirectory: plan.rootDirectory,
});

async function failure(files: FakeTree, rootDirectory?: string) {
  const error = await detect(files, rootDirectory).then(
    (plan) => {
      throw new Error(`expected a detection error, got ${JSON.stringify(summary(plan))}`);
    },
    (e: unknown) => e,
  );
  return {
    permanent: isPermanentError(error),
    code: (error as { code?: string }).code,
    message: (error as Error).message,
    candidates: [...(candidatesOf(error) ?? [])].map((c) => c.rootDirectory).sort(),
  };
}

// --- The most specific framework wins -------------------------------------------------------------------------

test("Next.js with Vite in its dependencies is nextjs, not vite", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["next", "react", "vite"], {
      scripts: { build: "next build", start: "next start" },
    }),
    "vite.config.ts": null,
  });
  t.is(plan.framework, "nextjs");
  t.is(plan.builder, "node");
  t.is(plan.startCommand, "npm run start");
});

test("NestJS (which runs on Express) is nestjs, not express", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["@nestjs/core", "@nestjs/platform-express", "express"]),
  });
  t.is(plan.framework, "nestjs");
  t.is(plan.startCommand, "node dist/main");
  t.is(plan.buildCommand, "npx nest build");
});

test("a Spring Boot pom is spring-boot, not java, and its evidence names the line", async (t) => {
  const pom = pomXml({
    parent: "org.springframework.boot:spring-boot-starter-parent",
    dependencies: ["org.springframework.boot:spring-boot-starter-web"],
  });
  const plan = await detect({ "pom.xml": pom, "src/main/java/com/example/App.java": null });
  t.deepEqual(summary(plan), { framework: "spring-boot", builder: "maven", rootDirectory: "" });
  const first = plan.evidence[0];
  t.is(first?.file, "pom.xml");
  t.is(first?.line, pom.split("\n").findIndex((line) => line.includes("<parent>")) + 1);
});

test("Vue built by Vite is vue; React built by Vite is vite", async (t) => {
  const vue = await detect({
    "package.json": withDependencies(["vue", "vite"]),
    "index.html": null,
    "vite.config.ts": null,
  });
  t.is(vue.framework, "vue");
  const react = await detect({ "package.json": withDependencies(["react", "react-dom", "vite"]), "index.html": null });
  t.is(react.framework, "vite");
  t.is(react.outputDirectory, "dist");
  t.is(react.startCommand, undefined, "a static build has nothing to start");
});

test("vite pulled in by vitest alone does not make a Vite app", async (t) => {
  const error = await failure({
    "package.json": withDependencies(["vite", "vitest"], { scripts: { test: "vitest" } }),
  });
  t.is(error.code, "NO_FRAMEWORK");
});

test("two servers of the same specificity: the first in the table wins, the other is a candidate", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["express", "koa"], { scripts: { start: "node index.js" } }),
  });
  t.is(plan.framework, "express");
  t.deepEqual(plan.candidates, [{ rootDirectory: "", framework: "koa" }]);
});

test("a package.json with only tooling and a start script is a plain Node app", async (t) => {
  const plan = await detect({
    "package.json": packageJson({ scripts: { start: "node server.js" } }),
    "server.js": null,
  });
  t.deepEqual(summary(plan), { framework: "nodejs", builder: "node", rootDirectory: "" });
});

// --- Backend manifests beside a package.json ----------------------------------------------------------------------

test("Django with a front-end package.json is a Django app whose build also builds the assets", async (t) => {
  const plan = await detect({
    "manage.py": null,
    "requirements.txt": "Django==5.0\ngunicorn\n",
    "mysite/settings.py": null,
    "mysite/wsgi.py": null,
    "package.json": packageJson({ devDependencies: { webpack: "^5", react: "^18" }, scripts: { build: "webpack" } }),
    "package-lock.json": null,
  });
  t.deepEqual(summary(plan), { framework: "django", builder: "python", rootDirectory: "" });
  t.is(plan.startCommand, "gunicorn mysite.wsgi:application --bind 0.0.0.0:${PORT:-8000}");
  t.is(plan.buildCommand, "python manage.py collectstatic --noinput && npm ci && npm run build");
  t.true(plan.evidence.some((e) => e.file === "package.json" && /front-end tooling/.test(e.reason)));
});

test("Laravel with Vite is laravel (Vercel calls it Vite)", async (t) => {
  const plan = await detect({
    "composer.json": JSON.stringify({ require: { php: "^8.2", "laravel/framework": "^11.0" } }),
    artisan: null,
    "public/index.php": null,
    "package.json": packageJson({
      devDependencies: { vite: "^5", "laravel-vite-plugin": "^1" },
      scripts: { build: "vite build" },
    }),
    "vite.config.js": null,
  });
  t.deepEqual(summary(plan), { framework: "laravel", builder: "php", rootDirectory: "" });
  t.is(plan.version?.php, "^8.2");
  t.is(plan.packageManager, "composer");
});

test("Rails with a package.json (esbuild) is rails", async (t) => {
  const plan = await detect({
    Gemfile: 'source "https://rubygems.org"\nruby "3.3.0"\ngem "rails", "~> 7.1"\ngem "puma"\n',
    "config/application.rb": null,
    "bin/rails": null,
    "package.json": packageJson({
      dependencies: { "@hotwired/turbo-rails": "^8", esbuild: "^0.20" },
      scripts: { build: "esbuild app/javascript/*.* --bundle" },
    }),
  });
  t.deepEqual(summary(plan), { framework: "rails", builder: "ruby", rootDirectory: "" });
  t.is(plan.version?.ruby, "3.3.0");
});

test("a package.json with a Node server of its own beside requirements.txt is a Node app", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["express"], { scripts: { start: "node server.js" } }),
    "requirements.txt": "flask\n",
    "app.py": null,
  });
  t.deepEqual(summary(plan), { framework: "express", builder: "node", rootDirectory: "" });
  t.deepEqual(plan.candidates, [{ rootDirectory: "", framework: "flask" }]);
});

// --- Java ---------------------------------------------------------------------------------------------------------

test("Maven and Gradle in one repository: pom.xml wins", async (t) => {
  const plan = await detect({
    "pom.xml": pomXml({ parent: "org.springframework.boot:spring-boot-starter-parent" }),
    mvnw: null,
    "build.gradle": "plugins { id 'org.springframework.boot' version '3.2.0' }\n",
    gradlew: null,
  });
  t.deepEqual(summary(plan), { framework: "spring-boot", builder: "maven", rootDirectory: "" });
  t.is(plan.buildTool, "maven");
  t.is(plan.buildCommand, "./mvnw -B -DskipTests package");
});

test("Kotlin Gradle DSL: spring-boot on gradle, language kotlin, Java release from the toolchain", async (t) => {
  const plan = await detect({
    "build.gradle.kts": [
      "plugins {",
      '    id("org.springframework.boot") version "3.2.0"',
      '    kotlin("jvm") version "1.9.22"',
      "}",
      "java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }",
    ].join("\n"),
    "settings.gradle.kts": 'rootProject.name = "demo"\n',
    gradlew: null,
  });
  t.deepEqual(summary(plan), { framework: "spring-boot", builder: "gradle", rootDirectory: "" });
  t.is(plan.language, "kotlin");
  t.is(plan.version?.java, "21");
  t.is(plan.buildCommand, "./gradlew build -x test");
});

test("Gradle without a wrapper is still a Gradle build (Railpack misses it)", async (t) => {
  const plan = await detect({
    "build.gradle": "plugins { id 'java'; id 'application' }\nsourceCompatibility = '17'\n",
  });
  t.deepEqual(summary(plan), { framework: "java", builder: "gradle", rootDirectory: "" });
  t.is(plan.buildCommand, "gradle build -x test");
  t.is(plan.version?.java, "17");
});

test("a Gradle version catalog alias is resolved to its plugin id", async (t) => {
  const plan = await detect({
    "build.gradle.kts": "plugins {\n  alias(libs.plugins.quarkus)\n}\n",
    "gradle/libs.versions.toml": '[plugins]\nquarkus = { id = "io.quarkus", version = "3.8.0" }\n',
  });
  t.is(plan.framework, "quarkus");
  t.is(plan.startCommand, "java -Dquarkus.http.port=${PORT:-8080} -jar build/quarkus-app/quarkus-run.jar");
});

test("a multi-module Maven build deploys from its root and starts the module that applies the plugin", async (t) => {
  const plan = await detect({
    "pom.xml": pomXml({
      extra: "<modules><module>core</module><module>web</module></modules>",
      dependencies: ["org.springframework.boot:spring-boot-dependencies"],
    }),
    "core/pom.xml": pomXml({ dependencies: ["com.google.guava:guava"] }),
    "web/pom.xml": pomXml({
      dependencies: ["org.springframework.boot:spring-boot-starter-web"],
      plugins: ["org.springframework.boot:spring-boot-maven-plugin"],
    }),
  });
  t.deepEqual(summary(plan), { framework: "spring-boot", builder: "maven", rootDirectory: "" });
  t.is(plan.startCommand, "java -Dserver.port=${PORT:-8080} -jar web/target/*.jar");
  t.true(plan.evidence.some((e) => /multi-module/.test(e.reason)));
});

test("a multi-module Gradle build finds the framework in an included module", async (t) => {
  const plan = await detect({
    "settings.gradle": "rootProject.name = 'shop'\ninclude ':api', ':domain'\n",
    "build.gradle": "allprojects { repositories { mavenCentral() } }\n",
    "api/build.gradle": "plugins { id 'io.micronaut.application' version '4.3.0' }\n",
    "domain/build.gradle": "plugins { id 'java-library' }\n",
    gradlew: null,
  });
  t.deepEqual(summary(plan), { framework: "micronaut", builder: "gradle", rootDirectory: "" });
  t.is(plan.startCommand, "java -jar api/build/libs/*-all.jar");
});

// --- Dockerfile -------------------------------------------------------------------------------------------------

test("a Dockerfile beside package.json makes the builder docker and still reports the framework", async (t) => {
  const plan = await detect({
    "package.json": withDependencies(["@remix-run/node", "@remix-run/react"], { scripts: { build: "remix build" } }),
    Dockerfile: "FROM node:20-alpine\nCOPY . .\nRUN npm ci && npm run build\nCMD npm start\n",
  });
  t.deepEqual(summary(plan), { framework: "remix", builder: "docker", rootDirectory: "" });
  t.is(plan.buildCommand, "docker build -f Dockerfile .");
  t.is(plan.startCommand, undefined);
});

test("a Dockerfile alone: the stack comes from its base image, and its version from the tag", async (t) => {
  const plan = await detect({
    Dockerfile:
      "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static\nCOPY --from=build /app /app\n",
    "main.c": null,
  });
  t.deepEqual(summary(plan), { framework: "go", builder: "docker", rootDirectory: "" });
  t.is(plan.version?.go, "1.22");
  const unknown = await detect({ Dockerfile: "FROM scratch\nCOPY app /app\n" });
  t.is(unknown.framework, null);
  t.is(unknown.builder, "docker");
});

// --- Python -----------------------------------------------------------------------------------------------------

test("Python with only pyproject.toml and uv.lock: uv", async (t) => {
  const plan = await detect({
    "pyproject.toml":
      '[project]\nname = "api"\nrequires-python = ">=3.12"\ndependencies = [\n  "fastapi[standard]>=0.110",\n]\n',
    "uv.lock": null,
    "main.py": null,
  });
  t.deepEqual(summary(plan), { framework: "fastapi", builder: "python", rootDirectory: "" });
  t.is(plan.packageManager, "uv");
  t.is(plan.installCommand, "uv sync --frozen --no-dev");
  t.is(plan.startCommand, "uv run uvicorn main:app --host 0.0.0.0 --port ${PORT:-8000}");
  t.is(plan.version?.python, ">=3.12");
});

test("Python with only pyproject.toml under Poetry: poetry, Python version from the poetry table", async (t) => {
  const plan = await detect({
    "pyproject.toml":
      '[tool.poetry]\nname = "web"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nFlask = "^3.0"\ngunicorn = "*"\n',
    "app.py": null,
  });
  t.deepEqual(summary(plan), { framework: "flask", builder: "python", rootDirectory: "" });
  t.is(plan.packageManager, "poetry");
  t.is(plan.installCommand, "poetry install --only main --no-root");
  t.is(plan.startCommand, "poetry run gunicorn --bind 0.0.0.0:${PORT:-8000} app:app");
  t.is(plan.version?.python, "^3.11");
});

test(".python-version is preferred to pyproject's requires-python, and a Procfile's web process starts the app", async (t) => {
  const plan = await detect({
    "requirements.txt": "flask==3.0\n",
    ".python-version": "3.12.2\n",
    "pyproject.toml": '[project]\nrequires-python = ">=3.9"\n',
    Procfile: "release: flask db upgrade\nweb: gunicorn wsgi:app --workers 2\n",
  });
  t.is(plan.version?.python, "3.12.2");
  t.is(plan.startCommand, "gunicorn wsgi:app --workers 2");
  t.true(plan.evidence.some((e) => e.file === "Procfile" && e.line === 2));
});

// --- Other stacks -----------------------------------------------------------------------------------------------

test("Go: echo's /v4 module path, and the main package under cmd/", async (t) => {
  const plan = await detect({
    "go.mod": "module github.com/acme/shop\n\ngo 1.21\n\nrequire (\n\tgithub.com/labstack/echo/v4 v4.11.4\n)\n",
    "cmd/shop/main.go": null,
    "cmd/tool/main.go": null,
  });
  t.deepEqual(summary(plan), { framework: "echo", builder: "go", rootDirectory: "" });
  t.is(plan.buildCommand, "go build -o app ./cmd/shop");
  t.is(plan.version?.go, "1.21");
  t.deepEqual(plan.evidence[0], { file: "go.mod", line: 6, reason: "requires github.com/labstack/echo/v4" });
});

test("Rust: a renamed crate still counts, and the binary is the package", async (t) => {
  const plan = await detect({
    "Cargo.toml":
      '[package]\nname = "api"\nrust-version = "1.75"\n\n[dependencies]\nweb = { package = "actix-web", version = "4" }\n',
    "src/main.rs": null,
  });
  t.deepEqual(summary(plan), { framework: "actix-web", builder: "rust", rootDirectory: "" });
  t.is(plan.startCommand, "./target/release/api");
  t.is(plan.version?.rust, "1.75");
});

test("plain HTML is static", async (t) => {
  const plan = await detect({ "index.html": "<!doctype html>", "styles/site.css": null });
  t.deepEqual(summary(plan), { framework: "static", builder: "static", rootDirectory: "" });
  t.is(plan.language, "html");
});

// --- rootDirectory from the request -------------------------------------------------------------------------------

const twoApps: FakeTree = {
  "package.json": packageJson({ private: true, workspaces: ["apps/*"] }),
  "apps/web/package.json": withDependencies(["next"]),
  "apps/api/package.json": withDependencies(["fastify"], { scripts: { start: "node server.js" } }),
};

test("a requested rootDirectory is used as is", async (t) => {
  const plan = await detect(twoApps, "apps/api/");
  t.deepEqual(summary(plan), { framework: "fastify", builder: "node", rootDirectory: "apps/api" });
  t.true(plan.evidence.some((e) => e.reason === "rootDirectory given in the request"));
});

test("a requested rootDirectory that does not exist is a PermanentError ROOT_DIRECTORY_NOT_FOUND", async (t) => {
  const error = await failure(twoApps, "apps/admin");
  t.true(error.permanent);
  t.is(error.code, "ROOT_DIRECTORY_NOT_FOUND");
  t.regex(error.message, /apps\/admin/);
  t.is((await failure(twoApps, "../etc")).code, "ROOT_DIRECTORY_NOT_FOUND");
  t.is((await failure(twoApps, "apps/web/package.json")).code, "ROOT_DIRECTORY_NOT_FOUND", "a file is not a folder");
});

test("a requested rootDirectory holding no app is NO_FRAMEWORK, not a search elsewhere", async (t) => {
  const error = await failure({ ...twoApps, "docs/README.md": null }, "docs");
  t.is(error.code, "NO_FRAMEWORK");
  t.regex(error.message, /docs/);
});
