import { mkdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { createFolderSource, folderStamp } from "../local/emulators/github/snapshotSource";
import { temporaryFolder } from "./helpers/emulators";
import { readZip } from "./helpers/zipEntries";

/** A clock an hour ahead: every entry just written is long settled, so the kept snapshot is used when it may be. */
const later = () => Date.now() + 3_600_000;

function site(t: Parameters<typeof temporaryFolder>[0]): string {
  const folder = path.join(temporaryFolder(t), "site");
  mkdirSync(path.join(folder, "pages"), { recursive: true });
  writeFileSync(path.join(folder, "index.html"), "<h1>v1</h1>");
  writeFileSync(path.join(folder, "pages", "about.html"), "about");
  return folder;
}

const textAt = async (source: ReturnType<typeof createFolderSource>, sha: string, file: string) => {
  const [object] = await source.objects(sha, [file]);
  return object?.type === "blob" ? Buffer.from(object.content!).toString("utf8") : undefined;
};

test("a plain folder's kept snapshot: an edit that keeps the size and the mtime is still a new commit", async (t) => {
  const folder = site(t);
  const file = path.join(folder, "index.html");
  const settled = new Date(Date.UTC(2024, 0, 1)); // a whole second: utimes sets it back exactly
  utimesSync(file, settled, settled);
  const source = createFolderSource("solo", "site", folder, { now: later });
  const first = (await source.resolveCommit("main"))!;
  t.is(await source.resolveCommit("main"), first, "nothing changed: the same commit");

  writeFileSync(file, "<h1>v2</h1>"); // same size, same inode
  utimesSync(file, settled, settled); // and the old mtime: only the ctime tells
  t.is(statSync(file).mtimeMs, settled.getTime());
  const second = (await source.resolveCommit("main"))!;
  t.not(second, first);
  t.is(await textAt(source, second, "index.html"), "<h1>v2</h1>");
  t.is(await textAt(source, first, "index.html"), "<h1>v1</h1>", "the first commit stays readable by SHA");

  writeFileSync(path.join(folder, "pages", "contact.html"), "contact");
  const third = (await source.resolveCommit("main"))!;
  t.not(third, second, "a new file is a new commit");
  unlinkSync(path.join(folder, "pages", "contact.html"));
  t.is(await source.resolveCommit("main"), second, "removing it again gives the same content back");
});

test("a folder stamp is stable while nothing changes, and absent while an entry is too recent to trust", (t) => {
  const folder = site(t);
  t.is(folderStamp(folder, Date.now()), undefined, "entries written just now are racy: read the folder whole");
  const stamp = folderStamp(folder, later());
  t.truthy(stamp);
  t.is(folderStamp(folder, later()), stamp);
  writeFileSync(path.join(folder, "pages", "about.html"), "About");
  t.not(folderStamp(folder, later()), stamp);
  t.is(folderStamp(path.join(folder, "missing"), later()), undefined);
});

test("archives: the same commit's is built once, a new commit gets its own", async (t) => {
  const folder = site(t);
  const source = createFolderSource("solo", "site", folder, { now: later });
  const first = (await source.resolveCommit("main"))!;
  const archive = await source.archive(first, "solo-site-1/");
  t.is(await source.archive(first, "solo-site-1/"), archive, "served again from the cache");
  const otherPrefix = await source.archive(first, "other/");
  t.true(readZip(otherPrefix!).entries.every((entry) => entry.path.startsWith("other/")));

  writeFileSync(path.join(folder, "index.html"), "<h1>version 2</h1>");
  const second = (await source.resolveCommit("main"))!;
  const content = (zip: Buffer | undefined, sha: string) =>
    readZip(zip!)
      .entries.find((entry) => entry.path.endsWith("index.html"))
      ?.content.toString("utf8") + ` @${readZip(zip!).comment === sha}`;
  t.is(content(await source.archive(second, "solo-site-2/"), second), "<h1>version 2</h1> @true");
  t.is(content(await source.archive(first, "solo-site-1/"), first), "<h1>v1</h1> @true");
  t.is(await source.archive("0".repeat(40), "x/"), undefined, "an unknown commit has no archive");
});
