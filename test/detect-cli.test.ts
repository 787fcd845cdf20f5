import test from "ava";
import { execFile } from "child_process";
import { mkdtemp, mkdir, rm, writeFile } from "fs/promises";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { createGitHubFileSystem, createMemoryFileSystem } from "../runtime/detect/fileSystem";
import { runDetectCli } from "../scripts/detect";
import { fakeGitHubReader, withDependencies, type FakeTree } from "./helpers/fakeRepo";

async function run(argv: string[], files: FakeTree) {
  let stdout = "";
  let stderr = "";
  const opened: string[] = [];
  const code = await runDetectCli(argv, {
    createFileSystem: (target) => {
      opened.push(target);
      return createMemoryFileSystem(files);
    },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr, opened };
}

const monorepo: FakeTree = {
  "package.json": JSON.stringify({ private: true, workspaces: ["apps/*"] }),
  "apps/web/package.json": withDependencies(["next"]),
  "apps/api/package.json": withDependencies(["hono"], { scripts: { start: "node dist/index.js" } }),
};

test("prints the plan as JSON on stdout and exits 0", async (t) => {
  const result = await run(["some/repo"], { "package.json": withDependencies(["astro"]) });
  t.is(result.code, 0);
  t.deepEqual(result.opened, ["some/repo"]);
  const plan = JSON.parse(result.stdout) as { framework: string; builder: string };
  t.is(plan.framework, "astro");
  t.is(plan.builder, "node");
});

test("exits 2 with the reason and the candidates when there is no single app", async (t) => {
  const result = await run(["repo"], monorepo);
  t.is(result.code, 2);
  const body = JSON.parse(result.stdout) as {
    reason: { code: string; message: string };
    candidates: { rootDirectory: string }[];
  };
  t.is(body.reason.code, "AMBIGUOUS_ROOT");
  t.deepEqual(body.candidates.map((c) => c.rootDirectory).sort(), ["apps/api", "apps/web"]);
  t.regex(result.stderr, /AMBIGUOUS_ROOT/);
});

test("--root-directory picks the app, in both spellings", async (t) => {
  for (const argv of [
    ["repo", "--root-directory", "apps/api"],
    ["--root-directory=apps/api", "repo"],
  ]) {
    const result = await run(argv, monorepo);
    t.is(result.code, 0);
    t.like(JSON.parse(result.stdout), { framework: "hono", rootDirectory: "apps/api" });
  }
});

test("usage errors and unopenable targets exit 1 with nothing on stdout", async (t) => {
  for (const argv of [[], ["a", "b"], ["--verbose", "a"], ["a", "--root-directory"]]) {
    const result = await run(argv, {});
    t.is(result.code, 1, argv.join(" "));
    t.is(result.stdout, "");
    t.regex(result.stderr, /usage: detect/);
  }
  let stdout = "";
  let stderr = "";
  const code = await runDetectCli(["missing"], {
    createFileSystem: () => Promise.reject(new Error("no such folder")),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  t.is(code, 1);
  t.is(stdout, "");
  t.regex(stderr, /cannot open missing: no such folder/);
});

test("reports the GitHub backend's request count on stderr", async (t) => {
  let stderr = "";
  const code = await runDetectCli(["owner/name"], {
    createFileSystem: () =>
      createGitHubFileSystem(fakeGitHubReader({ "go.mod": "module x\n", "main.go": null }).reader),
    stdout: () => {},
    stderr: (text) => (stderr += text),
  });
  t.is(code, 0);
  t.regex(stderr, /requests: 2/);
});

test("the script reads a local folder and keeps stdout pure JSON", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "slipway-detect-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "node_modules/react"), { recursive: true });
  await writeFile(join(dir, "package.json"), withDependencies(["express"], { scripts: { start: "node server.js" } }));
  await writeFile(join(dir, "server.js"), "require('express')().listen(process.env.PORT)");
  await writeFile(join(dir, "node_modules/react/package.json"), "{}");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(__dirname, "..", "scripts", "detect.ts"), dir],
    {
      cwd: join(__dirname, ".."),
    },
  );
  t.like(JSON.parse(stdout), {
    framework: "express",
    builder: "node",
    rootDirectory: "",
    startCommand: "npm run start",
  });

  const failed = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(__dirname, "..", "scripts", "detect.ts"), join(dir, "node_modules")],
    {
      cwd: join(__dirname, ".."),
    },
  ).then(
    () => undefined,
    (error: { code?: number; stdout?: string }) => error,
  );
  t.is(failed?.code, 2);
  t.like(JSON.parse(failed?.stdout ?? "{}"), { reason: { code: "NO_FRAMEWORK" } });
});

test("--help explains the command and opens nothing", async (t) => {
  const result = await run(["--help"], {});
  t.is(result.code, 0);
  t.deepEqual(result.opened, []);
  t.regex(result.stdout, /usage: detect <path> \| <owner>\/<name>\[@ref\][\s\S]*--root-directory[\s\S]*GITHUB_TOKEN/);
});
