/**
 * Prints the deployment plan Slipway would detect for a repository, as JSON on stdout (diagnostics on stderr).
 *
 *   npm run --silent detect -- <path> [--root-directory <folder>]
 *   npm run --silent detect -- <owner>/<name>[@ref] [--root-directory <folder>]
 *
 * Exit 0 with the plan; 2 when there is no plan for a reason a person can act on (no single app, the ref or the
 * repository not found, the App not installed): the JSON then carries `reason` and `candidates`; 1 on a usage,
 * credentials or I/O error, with nothing on stdout.
 *
 * An argument that is not an existing path and reads `owner/name[@ref]` is read from GitHub through the code the
 * inspector runs: createRepositoryClient → resolveCommit(ref) → createGitHubFileSystem over getTree/readBlobs.
 * Credentials come from the environment (see GITHUB_CLI_ENV): a token, or a GitHub App whose installation token is
 * minted here. The token never reaches stdout or stderr.
 */
import { readFile, stat } from "fs/promises";
import { applyNodeVersionPolicy } from "./nodeVersionPolicy";
import { createAppAuth } from "@octokit/auth-app";
import { request as octokitRequest } from "@octokit/request";
import { brokenRefRule } from "../runtime/api/gitRefName";
import { isRepositoryName } from "../runtime/api/repositoryName";
import { createGitHubFileSystem, createLocalFileSystem, type RepoFileSystem } from "../runtime/detect/fileSystem";
import { candidatesOf, detectPlan } from "../runtime/detect/plan";
import { ENV } from "../runtime/environment";
import { describeError, isPermanentError, PermanentError } from "../runtime/errors";
import { statusOf } from "../runtime/github/githubErrors";
import { createInstallationTokens, type OctokitRequest } from "../runtime/github/installationTokens";
import { createRepositoryClient } from "../runtime/github/repositoryClient";

/** A repository opened for detection, with what to say about where its files came from. */
export interface OpenedRepository {
  readonly fileSystem: RepoFileSystem;
  /** Fields printed before the plan's (or the refusal's): `repository` and `commitSha` for a GitHub commit. */
  readonly origin?: Readonly<Record<string, string>>;
  /** A diagnostic line for stderr once detection is over, e.g. the GitHub requests it cost. */
  readonly summary?: () => string;
}

export interface DetectCliDependencies {
  /** Opens the repository the target names: a bare file system, or one with its origin and a summary. */
  readonly createFileSystem: (
    target: string,
  ) => RepoFileSystem | OpenedRepository | Promise<RepoFileSystem | OpenedRepository>;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

const USAGE = "usage: detect <path> | <owner>/<name>[@ref] [--root-directory <folder>]";

const HELP = `${USAGE}

  Prints, as JSON, the deployment plan Slipway would detect (framework, builder, root directory, commands,
  evidence) for a folder on this machine or a GitHub repository at a ref (default branch when no @ref).

  --root-directory <folder>   detect the app in this folder of the repository (a monorepo's app)
  --help                      this text

  GitHub: GITHUB_TOKEN, or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY_FILE (+ GITHUB_INSTALLATION_ID); GITHUB_API_URL
  for GitHub Enterprise. Exit 0 with a plan; 2 with \`reason\` and \`candidates\` when there is none; 1 on a usage,
  credentials or I/O error.

  npm run --silent detect -- examples/repos/demo/petclinic`;

export async function runDetectCli(argv: readonly string[], dependencies: DetectCliDependencies): Promise<number> {
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text));
  const printJson = (value: unknown) => stdout(JSON.stringify(value, null, 2) + "\n");
  /** A refusal a person can act on: exit 2 with the reason as JSON. */
  const refuse = (error: unknown, origin: Readonly<Record<string, string>> = {}) => {
    const { code, message } = describeError(error);
    printJson({ ...origin, reason: { code, message }, candidates: candidatesOf(error) ?? [] });
    stderr(`${code}: ${message}\n`);
    return 2;
  };

  if (argv.includes("--help") || argv.includes("-h")) {
    stdout(`${HELP}\n`);
    return 0;
  }
  const parsed = parseArguments(argv);
  if (typeof parsed === "string") {
    stderr(`${parsed}\n${USAGE}\n`);
    return 1;
  }
  let opened: OpenedRepository;
  try {
    const result = await dependencies.createFileSystem(parsed.target);
    opened = "fileSystem" in result ? result : { fileSystem: result };
  } catch (error) {
    // REPOSITORY_NOT_FOUND, REF_NOT_FOUND, GITHUB_APP_NOT_INSTALLED… are answers, not failures of the command.
    if (isPermanentError(error)) return refuse(error);
    stderr(`cannot open ${parsed.target}: ${describeError(error).message}\n`);
    return 1;
  }
  try {
    const plan = await detectPlan(
      opened.fileSystem,
      parsed.rootDirectory === undefined ? {} : { rootDirectory: parsed.rootDirectory },
    );
    printJson({ ...opened.origin, ...plan });
    return 0;
  } catch (error) {
    if (isPermanentError(error)) return refuse(error, opened.origin);
    stderr(`detection failed: ${describeError(error).message}\n`);
    return 1;
  } finally {
    const stats = (opened.fileSystem as { stats?: () => { requests: number } }).stats?.();
    const summary = opened.summary?.() ?? (stats === undefined ? undefined : `requests: ${stats.requests}`);
    if (summary !== undefined) stderr(`${summary}\n`);
  }
}

function parseArguments(argv: readonly string[]): { target: string; rootDirectory?: string } | string {
  let target: string | undefined;
  let rootDirectory: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--root-directory") {
      rootDirectory = argv[++i];
      if (rootDirectory === undefined) return "--root-directory needs a folder";
    } else if (arg.startsWith("--root-directory=")) {
      rootDirectory = arg.slice("--root-directory=".length);
    } else if (arg.startsWith("-")) {
      return `unknown option ${arg}`;
    } else if (target === undefined) {
      target = arg;
    } else {
      return `unexpected argument ${arg}`;
    }
  }
  if (target === undefined) return "missing <path> or <owner>/<name>[@ref]";
  return rootDirectory === undefined ? { target } : { target, rootDirectory };
}

/** The local backend: a folder on disk, which must exist. */
export async function openLocalFolder(path: string): Promise<RepoFileSystem> {
  const info = await stat(path);
  if (!info.isDirectory()) throw new Error(`${path} is not a folder`);
  return createLocalFileSystem(path);
}

// ---- the GitHub form ------------------------------------------------------------------------------------------------

/** The environment variables of the GitHub form, named once. */
export const GITHUB_CLI_ENV = {
  /** A personal access token or an installation token; used as is when set. */
  token: "GITHUB_TOKEN",
  /** Otherwise a GitHub App: its id… */
  appId: ENV.githubAppId,
  /** …a file holding its private key (PEM)… */
  privateKeyFile: "GITHUB_APP_PRIVATE_KEY_FILE",
  /** …and, optionally, the installation; looked up for the repository with the App's JWT when absent. */
  installationId: "GITHUB_INSTALLATION_ID",
  /** GitHub's API root: GitHub Enterprise Server or the local emulator. Default https://api.github.com. */
  apiUrl: ENV.githubApiUrl,
} as const;

export type GitHubCredentials =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "app"; readonly appId: string; readonly privateKeyFile: string; readonly installationId?: number };

const CREDENTIALS_HELP =
  `set ${GITHUB_CLI_ENV.token} (a personal or installation token), or ${GITHUB_CLI_ENV.appId} and ` +
  `${GITHUB_CLI_ENV.privateKeyFile} (a GitHub App installed on the repository; ${GITHUB_CLI_ENV.installationId} ` +
  `is optional)`;

/** Which credentials the environment gives; a token wins over an App. Throws, naming the variables, when neither. */
export function gitHubCredentialsFrom(env: NodeJS.ProcessEnv): GitHubCredentials {
  const value = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);
  const token = value(GITHUB_CLI_ENV.token);
  if (token !== undefined) return { kind: "token", token };
  const appId = value(GITHUB_CLI_ENV.appId);
  const privateKeyFile = value(GITHUB_CLI_ENV.privateKeyFile);
  if (appId === undefined && privateKeyFile === undefined) {
    throw new Error(`reading a GitHub repository needs credentials: ${CREDENTIALS_HELP}.`);
  }
  if (appId === undefined || privateKeyFile === undefined) {
    const missing = appId === undefined ? GITHUB_CLI_ENV.appId : GITHUB_CLI_ENV.privateKeyFile;
    throw new Error(`${missing} is not set: ${CREDENTIALS_HELP}.`);
  }
  const installation = value(GITHUB_CLI_ENV.installationId);
  if (installation !== undefined && !/^[1-9]\d*$/.test(installation)) {
    throw new Error(`${GITHUB_CLI_ENV.installationId} must be the installation's number, not "${installation}".`);
  }
  return installation === undefined
    ? { kind: "app", appId, privateKeyFile }
    : { kind: "app", appId, privateKeyFile, installationId: Number(installation) };
}

export interface GitHubTarget {
  readonly owner: string;
  readonly name: string;
  /** A branch, tag or commit; the default branch when absent. */
  readonly ref?: string;
}

/**
 * `owner/name[@ref]` as a GitHub target; undefined when the text is not one. A malformed ref after a valid
 * repository name is reported as such (a string), rather than as "no such folder".
 */
export function parseGitHubTarget(text: string): GitHubTarget | string | undefined {
  const at = text.indexOf("@"); // owners and names never hold "@"; refs may
  const repository = at < 0 ? text : text.slice(0, at);
  if (!isRepositoryName(repository)) return undefined;
  const [owner = "", name = ""] = repository.split("/");
  if (at < 0) return { owner, name };
  const ref = text.slice(at + 1);
  const broken = brokenRefRule(ref);
  if (broken !== undefined) return `"${ref}" is not a branch, tag or commit of ${repository}: it ${broken}`;
  return { owner, name, ref };
}

export interface GitHubOpenOptions {
  /** Where credentials and GITHUB_API_URL are read. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress for stderr, one line at a time (never a token). */
  readonly log?: (line: string) => void;
  readonly request?: OctokitRequest;
  /** Every HTTP request to GitHub's API goes through it, so the ones detection makes can be counted. */
  readonly fetch?: typeof globalThis.fetch;
  readonly readTextFile?: (path: string) => Promise<string>;
}

/**
 * What the command line opens: an existing path is a local folder (it must be a folder); anything else must read
 * `owner/name[@ref]` and is read from GitHub.
 */
export async function openTarget(
  target: string,
  options: GitHubOpenOptions = {},
): Promise<RepoFileSystem | OpenedRepository> {
  const info = await stat(target).catch((error: { code?: string }) => {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
    throw error;
  });
  if (info !== undefined) {
    if (!info.isDirectory()) throw new Error(`${target} is not a folder`);
    return createLocalFileSystem(target);
  }
  const github = parseGitHubTarget(target);
  if (github === undefined) throw new Error(`no such folder, and not a GitHub repository (<owner>/<name>[@ref])`);
  if (typeof github === "string") throw new Error(github);
  return openGitHubRepository(github, options);
}

/**
 * One commit of a GitHub repository, as the inspector reads it. Resolves the ref first (one request, reported on
 * its own), then counts every HTTP request detection makes through the client (retries included); minting the
 * token and looking up the installation go around the count, as the budget leaves them out.
 */
export async function openGitHubRepository(
  target: GitHubTarget,
  options: GitHubOpenOptions = {},
): Promise<OpenedRepository> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const credentials = gitHubCredentialsFrom(env);
  const baseUrl = env[GITHUB_CLI_ENV.apiUrl] || "https://api.github.com";
  const request = options.request ?? octokitRequest;
  const repository = `${target.owner}/${target.name}`;

  let token: string;
  if (credentials.kind === "token") {
    log(`authenticating with ${GITHUB_CLI_ENV.token}`);
    token = credentials.token;
  } else {
    const privateKey = await (options.readTextFile ?? ((path) => readFile(path, "utf8")))(
      credentials.privateKeyFile,
    ).catch((error: unknown) => {
      throw new Error(
        `cannot read ${GITHUB_CLI_ENV.privateKeyFile} (${credentials.privateKeyFile}): ${describeError(error).message}`,
      );
    });
    const installationId =
      credentials.installationId ??
      (await findInstallationId(credentials.appId, privateKey, target, request.defaults({ baseUrl })));
    log(`authenticating as GitHub App ${credentials.appId}, installation ${installationId}`);
    token = await createInstallationTokens({
      appId: credentials.appId,
      loadPrivateKey: async () => privateKey,
      baseUrl,
      request,
    }).tokenFor(installationId, target.owner, target.name);
  }

  const fetch = options.fetch ?? globalThis.fetch;
  let requests = 0;
  let graphqlRequests = 0;
  const counted = request.defaults({
    request: {
      fetch: (...args: Parameters<typeof globalThis.fetch>) => {
        requests += 1;
        if (new URL(args[0] instanceof Request ? args[0].url : String(args[0])).pathname.endsWith("/graphql")) {
          graphqlRequests += 1;
        }
        return fetch(...args);
      },
    },
  });
  const client = createRepositoryClient({ request: counted, baseUrl, owner: target.owner, name: target.name, token });
  const commitSha = await client.resolveCommit(target.ref);
  const resolveRequests = requests;
  log(`commit: ${commitSha} (${repository}@${target.ref ?? "default branch"})`);

  const fileSystem = createGitHubFileSystem({
    getTree: () => client.getTree(commitSha),
    readBlobs: (paths: readonly string[]) => client.readBlobs(commitSha, paths),
  });
  return {
    fileSystem,
    origin: { repository, commitSha },
    summary: () => {
      const detection = requests - resolveRequests;
      return (
        `requests: ${detection} (${detection - graphqlRequests} tree listing, ${graphqlRequests} GraphQL read(s); ` +
        `resolving the ref took ${resolveRequests} more; token minting not counted)`
      );
    },
  };
}

/** The App's installation on a repository's account, found with the App's JWT. */
async function findInstallationId(
  appId: string,
  privateKey: string,
  target: GitHubTarget,
  request: OctokitRequest,
): Promise<number> {
  const repository = `${target.owner}/${target.name}`;
  try {
    const { token: jwt } = await createAppAuth({ appId, privateKey, request })({ type: "app" });
    const response = await request("GET /repos/{owner}/{repo}/installation", {
      owner: target.owner,
      repo: target.name,
      headers: { authorization: `bearer ${jwt}` },
    });
    return response.data.id;
  } catch (error) {
    switch (statusOf(error)) {
      case 404:
        throw new PermanentError(
          "GITHUB_APP_NOT_INSTALLED",
          `GitHub App ${appId} is not installed on ${repository} (or the repository does not exist). Install the App ` +
            `on ${target.owner} with access to ${target.name}, or set ${GITHUB_CLI_ENV.installationId}.`,
        );
      case 401:
        throw new PermanentError(
          "GITHUB_APP_AUTH_FAILED",
          `GitHub rejected App ${appId}'s JWT: check ${GITHUB_CLI_ENV.appId} and that ` +
            `${GITHUB_CLI_ENV.privateKeyFile} holds that App's private key.`,
        );
      default:
        throw error;
    }
  }
}

if (require.main === module) {
  applyNodeVersionPolicy();
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  runDetectCli(process.argv.slice(2), { createFileSystem: (target) => openTarget(target, { log }) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${describeError(error).message}\n`);
      process.exitCode = 1;
    },
  );
}
