import test from "ava";
import fc from "fast-check";
import { createGitHubFileSystem, createMemoryFileSystem } from "../runtime/detect/fileSystem";
import { matchesGlob } from "../runtime/detect/glob";
import { parseGradleBuild } from "../runtime/detect/parse/gradle";
import { parseJsonLoose } from "../runtime/detect/parse/json";
import { parsePom } from "../runtime/detect/parse/pom";
import { parseCargoToml } from "../runtime/detect/parse/cargoToml";
import { parsePyproject, parseRequirements } from "../runtime/detect/parse/python";
import { readTomlEntries } from "../runtime/detect/parse/toml";
import { detectPlan } from "../runtime/detect/plan";
import { fakeGitHubReader, packageJson, pomXml, withDependencies, type FakeTree } from "./helpers/fakeRepo";

/** Files detection reacts to, across stacks and folders: random subsets make plausible and implausible repos. */
const POOL: FakeTree = {
  "package.json": withDependencies(["next", "vite"], { workspaces: ["apps/*", "packages/*"] }),
  "pnpm-workspace.yaml": "packages:\n  - apps/*\n",
  "turbo.json": "{}",
  "pnpm-lock.yaml": null,
  ".nvmrc": "20\n",
  Dockerfile: "FROM python:3.12\n",
  "index.html": null,
  "requirements.txt": "django\ngunicorn\n",
  "manage.py": null,
  "pom.xml": pomXml({ parent: "org.springframework.boot:spring-boot-starter-parent" }),
  "build.gradle": "plugins { id 'io.quarkus' }\n",
  "go.mod": "module x\n\ngo 1.22\nrequire github.com/gin-gonic/gin v1.9.1\n",
  "main.go": null,
  "apps/web/package.json": withDependencies(["nuxt"]),
  "apps/api/package.json": withDependencies(["express"], { scripts: { start: "node ." } }),
  "apps/api/Dockerfile": "FROM node:20\n",
  "apps/docs/index.html": null,
  "packages/ui/package.json": packageJson({ exports: "./index.js", dependencies: { vite: "^5" } }),
  "services/billing/Cargo.toml": '[package]\nname = "billing"\n[dependencies]\naxum = "0.7"\n',
  "services/billing/src/main.rs": null,
  "examples/demo/package.json": withDependencies(["astro"]),
  "backend/pyproject.toml": '[project]\ndependencies = ["fastapi"]\n',
  "backend/main.py": null,
  "frontend/package.json": withDependencies(["react-scripts"]),
  "site/Gemfile": 'gem "rails"\n',
  "site/config.ru": null,
};
const POOL_PATHS = Object.keys(POOL);

const outcome = (files: FakeTree, order: readonly string[]) => {
  const ordered: FakeTree = {};
  for (const path of order) ordered[path] = files[path] ?? null;
  return detectPlan(createMemoryFileSystem(ordered)).then(
    (plan) => JSON.stringify(plan),
    (error: { code?: string; candidates?: unknown }) =>
      JSON.stringify({ code: error.code, candidates: error.candidates }),
  );
};

test.serial("detection does not depend on the order the backend lists paths in", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .subarray(POOL_PATHS, { minLength: 1 })
        .chain((paths) => fc.tuple(fc.constant(paths), fc.shuffledSubarray(paths, { minLength: paths.length }))),
      async ([paths, shuffled]) => {
        const files = Object.fromEntries(paths.map((p) => [p, POOL[p] ?? null]));
        t.is(await outcome(files, shuffled), await outcome(files, paths));
      },
    ),
    { numRuns: 150 },
  );
});

test.serial(
  "the memory and GitHub backends give the same plan, the GitHub one within 4 requests and no file twice",
  async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.subarray(POOL_PATHS, { minLength: 1 }), async (paths) => {
        const files = Object.fromEntries(paths.map((p) => [p, POOL[p] ?? null]));
        const { reader, calls } = fakeGitHubReader(files);
        const github = createGitHubFileSystem(reader);
        const viaGitHub = await detectPlan(github).then(
          (plan) => JSON.stringify(plan),
          (error: { code?: string; candidates?: unknown }) =>
            JSON.stringify({ code: error.code, candidates: error.candidates }),
        );
        t.is(viaGitHub, await outcome(files, paths));
        t.true(github.stats().requests <= 4);
        const requested = calls.flatMap((c) => c.paths);
        t.is(new Set(requested).size, requested.length);
      }),
      { numRuns: 150 },
    );
  },
);

test.serial(
  "the GitHub file system never asks for a path twice, whatever the batches and their concurrency",
  async (t) => {
    const files: FakeTree = { "a.txt": "A", "b/c.txt": "C", "d.bin": null, "e.json": "{}" };
    const paths = [...Object.keys(files), "missing.txt"];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.subarray(paths), { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (batches, concurrent, listFirst) => {
          const { reader, calls } = fakeGitHubReader(files);
          const fs = createGitHubFileSystem(reader);
          if (listFirst) await fs.listFiles();
          const results = concurrent
            ? await Promise.all(batches.map((batch) => fs.readFiles(batch)))
            : await batches.reduce<Promise<ReadonlyMap<string, string>[]>>(
                async (done, batch) => [...(await done), await fs.readFiles(batch)],
                Promise.resolve([]),
              );
          const requested = calls.flatMap((c) => c.paths);
          t.is(new Set(requested).size, requested.length, JSON.stringify(calls));
          t.true(calls.filter((c) => c.kind === "blobs").length <= batches.length);
          const memory = createMemoryFileSystem(
            Object.fromEntries(Object.entries(files).filter(([, v]) => v !== null)),
          );
          for (const [index, batch] of batches.entries()) {
            t.deepEqual([...(results[index] ?? new Map()).entries()], [...(await memory.readFiles(batch)).entries()]);
          }
        },
      ),
      { numRuns: 200 },
    );
  },
);

test("manifest readers never throw, whatever the text", (t) => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
      parseJsonLoose(text);
      readTomlEntries(text);
      parsePom(text);
      parseGradleBuild(text);
      parseCargoToml(text);
      parsePyproject(text);
      parseRequirements(text);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test("a glob without wildcards matches exactly its own path; `*` never crosses a folder", (t) => {
  const segment = fc.stringMatching(/^[a-z0-9._-]{1,8}$/);
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), segment, (parts, other) => {
      const path = parts.join("/");
      t.true(matchesGlob(path, path));
      t.is(matchesGlob(path, `${path}/${other}`), false);
      t.is(matchesGlob(parts.map(() => "*").join("/"), path), true);
      t.is(matchesGlob("*", `${path}/${other}`), false);
    }),
  );
});
