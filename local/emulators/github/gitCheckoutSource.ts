import { spawn } from "node:child_process";
import { createArchiveCache } from "./archiveCache";
import {
  isPlausibleRef,
  type CommitInfo,
  type RepositoryObject,
  type RepositorySource,
  type Signature,
  type TreeEntry,
} from "./repositorySource";

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * A git checkout served with its real commits, branches and tags, read through the `git` CLI. The checked-out branch
 * is the default branch, as GitHub's HEAD is.
 */
export function createGitCheckoutSource(
  owner: string,
  name: string,
  folder: string,
  isPrivate = true,
): RepositorySource {
  const run = (args: readonly string[], input?: string) => git(folder, args, input);
  // `git archive` of a commit is the same bytes every time (its entries carry the commit's date).
  const archives = createArchiveCache();
  const verify = async (revision: string): Promise<string | undefined> => {
    const result = await run(["rev-parse", "--verify", "--quiet", "--end-of-options", revision]);
    const sha = result.stdout.toString("utf8").trim();
    return result.code === 0 && FULL_SHA.test(sha) ? sha : undefined;
  };
  const typeOf = async (sha: string) => {
    const result = await run(["cat-file", "-t", sha]);
    return result.code === 0 ? result.stdout.toString("utf8").trim() : undefined;
  };

  return {
    owner,
    name,
    private: isPrivate,
    async defaultBranch() {
      const result = await run(["symbolic-ref", "--quiet", "--short", "HEAD"]);
      return result.code === 0 ? result.stdout.toString("utf8").trim() : "main";
    },
    async hasCommits() {
      return (await verify("HEAD^{commit}")) !== undefined;
    },
    async resolveCommit(ref) {
      if (!isPlausibleRef(ref)) return undefined;
      const candidates =
        ref === "HEAD"
          ? ["HEAD"]
          : ref.startsWith("refs/heads/") || ref.startsWith("refs/tags/")
            ? [ref]
            : [`refs/heads/${ref}`, `refs/tags/${ref}`, ...(/^[0-9a-f]{7,40}$/i.test(ref) ? [ref.toLowerCase()] : [])];
      for (const candidate of candidates) {
        const sha = await verify(`${candidate}^{commit}`);
        if (sha) return sha;
      }
      return undefined;
    },
    async commit(sha) {
      if (!FULL_SHA.test(sha) || (await typeOf(sha)) !== "commit") return undefined;
      const result = await run(["cat-file", "commit", sha]);
      return result.code === 0 ? parseCommit(sha, result.stdout.toString("utf8")) : undefined;
    },
    async tree(sha, recursive) {
      if (!FULL_SHA.test(sha)) return undefined;
      const type = await typeOf(sha);
      const treeSha = type === "commit" ? await verify(`${sha}^{tree}`) : type === "tree" ? sha : undefined;
      if (!treeSha) return undefined;
      const result = await run(["ls-tree", "-z", "-l", ...(recursive ? ["-r", "-t"] : []), treeSha]);
      if (result.code !== 0) return undefined;
      return { sha: treeSha, entries: parseLsTree(result.stdout) };
    },
    async objects(commitSha, paths) {
      if (!FULL_SHA.test(commitSha) || paths.length === 0) return paths.map(() => undefined);
      // A path with a line break cannot travel through --batch; such a file is reported as missing.
      const askable = paths.map((file) => !/[\r\n]/.test(file));
      const lines = paths
        .filter((_, index) => askable[index])
        .map((file) => `${commitSha}:${file.replace(/^\/+/, "")}\n`);
      const result = await run(["cat-file", "--batch"], lines.join(""));
      const answers = parseBatch(result.stdout, lines.length);
      let next = 0;
      return paths.map((_, index) => (askable[index] ? answers[next++] : undefined));
    },
    async archive(commitSha, prefix) {
      if (!FULL_SHA.test(commitSha)) return undefined;
      return archives(commitSha, prefix, async () => {
        const result = await run(["archive", "--format=zip", `--prefix=${prefix}`, commitSha]);
        return result.code === 0 ? result.stdout : undefined;
      });
    },
  };
}

/** True when `folder` is the top of a git working tree (a `.git` folder, or a `.git` file for worktrees). */
export async function isGitCheckout(folder: string): Promise<boolean> {
  const result = await git(folder, ["rev-parse", "--show-cdup"]);
  return result.code === 0 && result.stdout.toString("utf8").trim() === "";
}

function git(
  folder: string,
  args: readonly string[],
  input?: string,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    // safe.directory: checkouts mounted from elsewhere (another uid) are still served; nothing here runs their hooks.
    const child = spawn("git", ["-c", "safe.directory=*", "-C", folder, ...args], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString("utf8") }),
    );
    child.stdin.on("error", () => {}); // git may exit before reading all input (e.g. a bad object name)
    child.stdin.end(input ?? "");
  });
}

function parseCommit(sha: string, raw: string): CommitInfo {
  const split = raw.indexOf("\n\n");
  const headers = (split < 0 ? raw : raw.slice(0, split)).split("\n");
  const message = split < 0 ? "" : raw.slice(split + 2);
  const value = (name: string) => headers.find((line) => line.startsWith(`${name} `))?.slice(name.length + 1) ?? "";
  return {
    sha,
    treeSha: value("tree"),
    parents: headers.filter((line) => line.startsWith("parent ")).map((line) => line.slice(7)),
    author: parseSignature(value("author")),
    committer: parseSignature(value("committer")),
    message,
  };
}

/** "Name <email> 1700000000 +0100" → name, email and the instant as ISO-8601 in UTC (as GitHub's API returns it). */
function parseSignature(line: string): Signature {
  const match = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(line);
  if (!match) return { name: line, email: "", date: new Date(0).toISOString() };
  return {
    name: match[1]!,
    email: match[2]!,
    date: new Date(Number(match[3]) * 1000).toISOString().replace(/\.000Z$/, "Z"),
  };
}

/** `git ls-tree -z -l`: "<mode> <type> <sha> <size>\t<path>\0" per entry; size is "-" for trees. */
function parseLsTree(output: Buffer): TreeEntry[] {
  return output
    .toString("utf8")
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode = "", type = "", sha = "", size = "-"] = line.slice(0, tab).split(/ +/);
      const entry = { path: line.slice(tab + 1), mode, type: type as TreeEntry["type"], sha };
      return type === "blob" && size !== "-" ? { ...entry, size: Number(size) } : entry;
    });
}

/** `git cat-file --batch`: "<sha> <type> <size>\n<bytes>\n" per found object, "<name> missing\n" otherwise. */
function parseBatch(output: Buffer, count: number): (RepositoryObject | undefined)[] {
  const answers: (RepositoryObject | undefined)[] = [];
  let at = 0;
  while (answers.length < count && at < output.length) {
    const lineEnd = output.indexOf(0x0a, at);
    if (lineEnd < 0) break;
    const header = output.subarray(at, lineEnd).toString("utf8");
    at = lineEnd + 1;
    const found = /^([0-9a-f]{40}) (blob|tree|commit|tag) (\d+)$/.exec(header);
    if (!found) {
      answers.push(undefined); // "missing", "ambiguous", …
      continue;
    }
    const size = Number(found[3]);
    const content = output.subarray(at, at + size);
    at += size + 1;
    const sha = found[1]!;
    const type = found[2]!;
    answers.push(
      type === "blob"
        ? { type: "blob", sha, content: Buffer.from(content) }
        : type === "tree"
          ? { type: "tree", sha }
          : type === "commit"
            ? { type: "commit", sha }
            : undefined,
    );
  }
  while (answers.length < count) answers.push(undefined);
  return answers;
}
