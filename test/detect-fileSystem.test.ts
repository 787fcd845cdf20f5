import test from "ava";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "fs/promises";
import { tmpdir } from "os";
import { join } from "path";
import {
  createGitHubFileSystem,
  createLocalFileSystem,
  createMemoryFileSystem,
  type GitHubRepoReader,
} from "../runtime/detect/fileSystem";
import { fakeGitHubReader } from "./helpers/fakeRepo";

test("memory: lists every path, reads null content as an empty string and leaves missing paths out", async (t) => {
  const fs = createMemoryFileSystem({ "./package.json": "{}", "src/index.ts": null });
  t.deepEqual([...(await fs.listFiles())].sort(), ["package.json", "src/index.ts"]);
  const read = await fs.readFiles(["package.json", "src/index.ts", "missing.txt"]);
  t.deepEqual(
    [...read.entries()],
    [
      ["package.json", "{}"],
      ["src/index.ts", ""],
    ],
  );
});

test("local: lists files posix-style, skipping .git, node_modules and vendored folders; binaries read as absent", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "slipway-detect-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "src/nested"), { recursive: true });
  await mkdir(join(dir, "node_modules/next"), { recursive: true });
  await mkdir(join(dir, ".git"), { recursive: true });
  await mkdir(join(dir, ".venv/lib"), { recursive: true });
  await writeFile(join(dir, "package.json"), '{"dependencies":{"next":"14"}}');
  await writeFile(join(dir, "src/nested/page.tsx"), "export default 1");
  await writeFile(join(dir, "node_modules/next/package.json"), "{}");
  await writeFile(join(dir, ".git/config"), "[core]");
  await writeFile(join(dir, ".venv/lib/site.py"), "");
  await writeFile(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
  await symlink(join(dir, "package.json"), join(dir, "linked.json"));

  const fs = createLocalFileSystem(dir);
  t.deepEqual(await fs.listFiles(), ["logo.png", "package.json", "src/nested/page.tsx"]);
  const read = await fs.readFiles([
    "package.json",
    "logo.png",
    "missing.json",
    "linked.json",
    "../outside",
    "src/nested/page.tsx",
  ]);
  t.deepEqual([...read.keys()].sort(), ["package.json", "src/nested/page.tsx"]);
  t.is(read.get("package.json"), '{"dependencies":{"next":"14"}}');
});

test("GitHub: the tree is fetched once and each file at most once, one reader call per batch", async (t) => {
  const { reader, calls } = fakeGitHubReader({ "a.txt": "A", "b.txt": "B", "c.txt": "C", "bin.png": null });
  const fs = createGitHubFileSystem(reader);
  await fs.listFiles();
  await fs.listFiles();
  const first = await fs.readFiles(["a.txt", "b.txt", "bin.png"]);
  const second = await fs.readFiles(["b.txt", "c.txt", "a.txt"]);
  await fs.readFiles(["a.txt", "c.txt"]);
  t.deepEqual(
    [...first.entries()],
    [
      ["a.txt", "A"],
      ["b.txt", "B"],
    ],
  );
  t.deepEqual(
    [...second.entries()],
    [
      ["b.txt", "B"],
      ["c.txt", "C"],
      ["a.txt", "A"],
    ],
  );
  t.deepEqual(
    calls.map((c) => [c.kind, c.paths]),
    [
      ["tree", []],
      ["blobs", ["a.txt", "b.txt", "bin.png"]],
      ["blobs", ["c.txt"]],
    ],
  );
  t.deepEqual(fs.stats(), { requests: 3, treeRequests: 1, blobRequests: 2, filesRequested: 4, truncated: false });
});

test("GitHub: concurrent reads of the same path share one request", async (t) => {
  const { reader, calls } = fakeGitHubReader({ "a.txt": "A" });
  const fs = createGitHubFileSystem(reader);
  const [one, two] = await Promise.all([fs.readFiles(["a.txt"]), fs.readFiles(["a.txt"])]);
  t.is(one.get("a.txt"), "A");
  t.is(two.get("a.txt"), "A");
  t.is(calls.length, 1);
});

test("GitHub: once listed, paths not in the tree are answered without a request; a truncated tree is refused", async (t) => {
  const complete = fakeGitHubReader({ "a.txt": "A" });
  const fs = createGitHubFileSystem(complete.reader);
  await fs.listFiles();
  t.is((await fs.readFiles(["nope.txt"])).size, 0);
  t.is(complete.calls.length, 1, "only the tree");

  // GitHub cut the listing: planning from part of a repository picks the wrong app, so detection stops here.
  const truncated = fakeGitHubReader({ "a.txt": "A" }, { truncated: true });
  const partial = createGitHubFileSystem(truncated.reader);
  await t.throwsAsync(partial.listFiles(), { message: /rootDirectory/ });
  t.like(await partial.listFiles().catch((error: unknown) => error), { code: "REPOSITORY_TOO_LARGE_TO_SEARCH" });
  t.true(partial.stats().truncated);
});

test("GitHub: reading without listing costs one request, not two", async (t) => {
  const { reader, calls } = fakeGitHubReader({ "a.txt": "A" });
  const fs = createGitHubFileSystem(reader);
  await fs.readFiles(["a.txt"]);
  t.deepEqual(
    calls.map((c) => c.kind),
    ["blobs"],
  );
});

test("GitHub: a failed request is not cached, so the caller can retry it", async (t) => {
  let failures = 1;
  const reader: GitHubRepoReader = {
    getTree: async () => {
      if (failures-- > 0) throw new Error("502 from GitHub");
      return { paths: ["a.txt"], truncated: false };
    },
    readBlobs: async (paths) => {
      if (failures-- > 0) throw new Error("502 from GitHub");
      return new Map(paths.map((p) => [p, "A"]));
    },
  };
  const fs = createGitHubFileSystem(reader);
  await t.throwsAsync(fs.listFiles(), { message: /502/ });
  t.deepEqual(await fs.listFiles(), ["a.txt"]);
  failures = 1;
  await t.throwsAsync(fs.readFiles(["a.txt"]), { message: /502/ });
  t.is((await fs.readFiles(["a.txt"])).get("a.txt"), "A");
  t.is(fs.stats().requests, 4);
});
