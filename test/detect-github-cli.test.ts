/**
 * `npm run detect -- <owner>/<name>[@ref]` against the GitHub emulator (one per test, with an App key pair made
 * here), credentials in the environment: once as a user runs it, the script in its own process (exit code, stdout
 * pure JSON), and otherwise through the script's own `runDetectCli` and `openTarget` in this process, which is what
 * its entry point calls (a Node process with tsx costs seconds of CPU per run).
 *
 * Serial: @octokit/auth-app shares in-flight token requests between instances by installation id, and every
 * emulator gives "acme" the same id, so two App logins at once in this process could swap tokens.
 */
import test, { type ExecutionContext } from "ava";
import { execFile } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";
import { promisify } from "util";
import type { GitHubEmulator } from "../local/emulators/github";
import { createInstallationTokens } from "../runtime/github/installationTokens";
import { openTarget, runDetectCli } from "../scripts/detect";
import { generateAppKeys, startGitHubFor, temporaryFolder } from "./helpers/emulators";
import { withDependencies } from "./helpers/fakeRepo";

const APP_ID = 7001;
const keys = generateAppKeys();
const SCRIPT = join(__dirname, "..", "scripts", "detect.ts");

const REPOSITORIES = {
  "acme/site": {
    files: { "package.json": withDependencies(["next"]), "app/page.tsx": "export default () => null\n" },
    branches: { api: { "go.mod": "module acme/api\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n" } },
    tags: { "v1.0.0": "api" },
  },
  "acme/mono": {
    files: {
      "package.json": JSON.stringify({ private: true, workspaces: ["apps/*"] }),
      "apps/web/package.json": withDependencies(["next"]),
      "apps/api/package.json": withDependencies(["hono"], { scripts: { start: "node dist/index.js" } }),
    },
  },
  "globex/private": { files: { "index.html": "<h1>globex</h1>\n" } },
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The emulator, the App's key in a file, and a way to run the script against them with a given environment. */
async function setup(t: ExecutionContext) {
  const github = await startGitHubFor(t, { appId: APP_ID, appPublicKey: keys.publicKey, repositories: REPOSITORIES });
  const keyFile = join(temporaryFolder(t, "slipway-detect-github-"), "app.pem");
  writeFileSync(keyFile, keys.privateKey);
  const appEnv = { GITHUB_APP_ID: String(APP_ID), GITHUB_APP_PRIVATE_KEY_FILE: keyFile };
  /** The command as its entry point runs it, in this process, with only the given environment. */
  const run = async (argv: readonly string[], credentials: Record<string, string>): Promise<Run> => {
    let stdout = "";
    let stderr = "";
    const env = { GITHUB_API_URL: github.url, ...credentials };
    const code = await runDetectCli(argv, {
      createFileSystem: (target) => openTarget(target, { env, log: (line) => (stderr += `${line}\n`) }),
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  };
  /** The script in its own process, as `npm run detect` starts it. */
  const runScript = async (argv: readonly string[], credentials: Record<string, string>): Promise<Run> => {
    // Nothing from the caller's environment may pick the credentials: only what the test gives.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("GITHUB_")));
    const result = await promisify(execFile)(process.execPath, ["--import", "tsx", SCRIPT, ...argv], {
      cwd: join(__dirname, ".."),
      env: { ...env, GITHUB_API_URL: github.url, ...credentials },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? -1,
        stdout: error.stdout ?? "",
        stderr: error.stderr ?? "",
      }),
    );
    return result;
  };
  return { github, keyFile, appEnv, run, runScript };
}

/** No token, JWT or key in anything the command printed. */
function assertNoSecrets(t: ExecutionContext, result: Run, tokens: readonly string[] = []) {
  for (const [stream, text] of [
    ["stdout", result.stdout],
    ["stderr", result.stderr],
  ] as const) {
    t.notRegex(text, /ghs_[A-Za-z0-9]{10,}/, `${stream} holds an installation token`);
    t.notRegex(text, /eyJ[A-Za-z0-9_-]{10,}\./, `${stream} holds a JWT`);
    t.notRegex(text, /PRIVATE KEY/, `${stream} holds the App's key`);
    for (const token of tokens) t.false(text.includes(token), `${stream} holds the given token`);
  }
}

/** The HTTP requests the emulator saw, by operation. */
const operations = (github: GitHubEmulator) => github.requests().map((record) => record.operation ?? record.path);

test.serial(
  "as a GitHub App: finds the installation, prints the plan with the repository and commit, stdout pure JSON",
  async (t) => {
    const { github, appEnv, runScript } = await setup(t);
    const result = await runScript(["acme/site"], appEnv);
    t.is(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    t.like(printed, { repository: "acme/site", framework: "nextjs", builder: "node", rootDirectory: "" });
    t.regex(String(printed["commitSha"]), /^[0-9a-f]{40}$/);
    t.regex(result.stderr, new RegExp(`commit: ${String(printed["commitSha"])}`));
    assertNoSecrets(t, result);

    // The installation was looked up with the App's JWT, then one token minted for the repository.
    const seen = operations(github);
    t.true(seen.includes("GET /repos/{owner}/{repo}/installation"));
    t.is(seen.filter((operation) => operation === "POST /app/installations/{installation_id}/access_tokens").length, 1);
    // requests: N on stderr is what detection cost the emulator: its tree and GraphQL requests, nothing else.
    const detection = seen.filter(
      (operation) => operation === "GET /repos/{owner}/{repo}/git/trees/{tree_sha}" || operation === "POST /graphql",
    );
    t.regex(result.stderr, new RegExp(`^requests: ${detection.length} `, "m"));
    t.is(detection.length, 2);
  },
);

test.serial("with GITHUB_INSTALLATION_ID the App skips the look-up", async (t) => {
  const { github, appEnv, run } = await setup(t);
  const result = await run(["acme/site"], {
    ...appEnv,
    GITHUB_INSTALLATION_ID: String(github.installationIdFor("acme")),
  });
  t.is(result.code, 0, result.stderr);
  t.like(JSON.parse(result.stdout), { framework: "nextjs" });
  t.false(operations(github).includes("GET /repos/{owner}/{repo}/installation"));
  assertNoSecrets(t, result);
});

/** An installation token for acme/site, minted by the runtime's own code against the emulator. */
function siteToken(github: { url: string; installationIdFor(owner: string): number }): Promise<string> {
  return createInstallationTokens({
    appId: String(APP_ID),
    loadPrivateKey: async () => keys.privateKey,
    baseUrl: github.url,
  }).tokenFor(github.installationIdFor("acme"), "acme", "site");
}

test.serial("with GITHUB_TOKEN: used as is, never printed; @ref reads that branch or tag", async (t) => {
  const { github, run } = await setup(t);
  const token = await siteToken(github);
  const credentials = { GITHUB_TOKEN: token };

  const main = await run(["acme/site"], credentials);
  const branch = await run(["acme/site@api"], credentials);
  const tag = await run(["acme/site@v1.0.0"], credentials);
  for (const result of [main, branch, tag]) {
    t.is(result.code, 0, result.stderr);
    assertNoSecrets(t, result, [token]);
  }
  const [onMain, onBranch, onTag] = [main, branch, tag].map(
    (result) => JSON.parse(result.stdout) as { framework: string; commitSha: string },
  );
  t.like(onMain, { framework: "nextjs" });
  t.like(onBranch, { framework: "go", builder: "go", repository: "acme/site" });
  t.not(onBranch?.commitSha, onMain?.commitSha);
  t.is(onTag?.commitSha, onBranch?.commitSha, "the tag points at the api branch");

  const bySha = await run([`acme/site@${onBranch?.commitSha ?? ""}`], credentials);
  t.is(bySha.code, 0, bySha.stderr);
  t.like(JSON.parse(bySha.stdout), { framework: "go", commitSha: onBranch?.commitSha });
});

test.serial("exit 2 with the reason as JSON: a ref or repository GitHub does not have, no single app", async (t) => {
  const { appEnv, run } = await setup(t);
  const cases = [
    { argv: ["acme/site@no-such-branch"], code: "REF_NOT_FOUND" },
    { argv: ["acme/nope"], code: "GITHUB_APP_NOT_INSTALLED" },
    { argv: ["acme/mono"], code: "AMBIGUOUS_ROOT" },
  ];
  for (const { argv, code } of cases) {
    const result = await run(argv, appEnv);
    t.is(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    const printed = JSON.parse(result.stdout) as { reason: { code: string; message: string }; candidates: unknown[] };
    t.is(printed.reason.code, code);
    t.true(printed.reason.message.length > 20, printed.reason.message);
    t.true(Array.isArray(printed.candidates));
    t.regex(result.stderr, new RegExp(`^${code}: `, "m"));
    assertNoSecrets(t, result);
  }
});

test.serial("a token for another repository: REPOSITORY_NOT_FOUND, exit 2", async (t) => {
  const { github, run } = await setup(t);
  const token = await siteToken(github);
  const result = await run(["globex/private"], { GITHUB_TOKEN: token });
  t.is(result.code, 2, result.stderr);
  t.like(JSON.parse(result.stdout), { reason: { code: "REPOSITORY_NOT_FOUND" }, candidates: [] });
  assertNoSecrets(t, result, [token]);
});

test.serial("the monorepo's refusal names the candidates; --root-directory picks one", async (t) => {
  const { appEnv, run } = await setup(t);
  const refused = await run(["acme/mono"], appEnv);
  t.is(refused.code, 2);
  const body = JSON.parse(refused.stdout) as { repository: string; candidates: { rootDirectory: string }[] };
  t.is(body.repository, "acme/mono");
  t.deepEqual(body.candidates.map((candidate) => candidate.rootDirectory).sort(), ["apps/api", "apps/web"]);

  const picked = await run(["acme/mono", "--root-directory", "apps/api"], appEnv);
  t.is(picked.code, 0, picked.stderr);
  t.like(JSON.parse(picked.stdout), { repository: "acme/mono", framework: "hono", rootDirectory: "apps/api" });
});

test.serial("missing or half credentials: exit 1, nothing on stdout, the variables to set named", async (t) => {
  const { github, keyFile, run } = await setup(t);
  const none = await run(["acme/site"], {});
  t.is(none.code, 1);
  t.is(none.stdout, "");
  t.regex(none.stderr, /GITHUB_TOKEN/);
  t.regex(none.stderr, /GITHUB_APP_ID/);
  t.regex(none.stderr, /GITHUB_APP_PRIVATE_KEY_FILE/);

  const noKey = await run(["acme/site"], { GITHUB_APP_ID: String(APP_ID) });
  t.is(noKey.code, 1);
  t.is(noKey.stdout, "");
  t.regex(noKey.stderr, /GITHUB_APP_PRIVATE_KEY_FILE is not set/);

  const badInstallation = await run(["acme/site"], {
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
    GITHUB_INSTALLATION_ID: "acme",
  });
  t.is(badInstallation.code, 1);
  t.regex(badInstallation.stderr, /GITHUB_INSTALLATION_ID/);

  const unreadableKey = await run(["acme/site"], {
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY_FILE: `${keyFile}.missing`,
  });
  t.is(unreadableKey.code, 1);
  t.is(unreadableKey.stdout, "");
  t.regex(unreadableKey.stderr, /cannot read GITHUB_APP_PRIVATE_KEY_FILE/);
  t.deepEqual(github.requests(), [], "nothing reached GitHub without usable credentials");
});

test.serial("what is neither a folder nor owner/name[@ref] is a usage error, not a GitHub request", async (t) => {
  const { github, appEnv, run } = await setup(t);
  for (const argv of [["no-such-folder"], ["acme/site@bad..ref"], ["acme/site/extra"]]) {
    const result = await run(argv, appEnv);
    t.is(result.code, 1, argv.join(" "));
    t.is(result.stdout, "");
    t.regex(result.stderr, /cannot open/);
  }
  t.deepEqual(github.requests(), []);
});
