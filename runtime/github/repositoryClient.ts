import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { PermanentError, TransientError } from "../errors";
import { createArchiveCheck, tooLarge } from "./archiveCheck";
import { forbidden, statusOf, withGitHubRetries, type RetryOptions } from "./githubErrors";
import { graphqlUrl } from "./graphqlUrl";
import type { OctokitRequest } from "./installationTokens";

export interface RepositoryClientOptions {
  readonly request: OctokitRequest;
  readonly baseUrl?: string;
  readonly owner: string;
  readonly name: string;
  /** An installation token for this repository; it never leaves this object (not logged, not returned). */
  readonly token: string;
  /**
   * When GitHub minted `token` (epoch ms). A 401 within REPLICATION_LAG_MS of it is GitHub's token replication lag,
   * not a bad token: the request is retried once.
   */
  readonly tokenCreatedAt?: number;
  /** Per-request time limit. Default 10 s (GitHub itself ends a request after 10 s). */
  readonly timeoutMs?: number;
  /** Largest source (the commit's files, and the archive of them) staged for a build. Default 500 MiB. */
  readonly maxSourceBytes?: number;
  /** Files read per GraphQL request. Default 100. */
  readonly blobsPerRequest?: number;
  /** Waits and deadline, shared by every call (see RetryOptions). */
  readonly retry?: RetryOptions;
}

/** A Git tree as the Git Trees API lists it. */
export interface RepositoryTree {
  /** The tree's own SHA (GitHub answers a commit or ref with its root tree). */
  readonly sha: string;
  /** Every blob path, posix and relative to the listed tree. */
  readonly paths: string[];
  /** Sub-folders and their tree SHAs (for walking a truncated listing one folder at a time). */
  readonly folders: ReadonlyMap<string, string>;
  /** Bytes of all blobs listed: the source's size, known before downloading anything. */
  readonly totalBytes: number;
  /** GitHub truncates recursive listings over 100,000 entries or 7 MB: the lists above are then partial. */
  readonly truncated: boolean;
}

/** A commit as the inspector needs it. */
export interface CommitRef {
  readonly sha: string;
  /** Its root tree, to check a tree listed by ref is this commit's. */
  readonly treeSha: string;
}

/** A zipball on its way: the checked bytes, and what GitHub announced. */
export interface ArchiveDownload {
  /** The archive's bytes; ends with an error unless the archive arrived whole (see createArchiveCheck). */
  readonly body: Readable;
  /** `content-length`, when GitHub sent one. */
  readonly contentLength?: number;
  /** Bytes passed so far. */
  bytes(): number;
}

/** GitHub's API for one repository, with GitHub's failures turned into Slipway's domain errors. */
export interface RepositoryClient {
  /** The commit a branch, tag or SHA points to (the default branch's head when `ref` is absent), with its tree. */
  lookupCommit(ref: string | undefined): Promise<CommitRef>;
  /** The commit SHA only. */
  resolveCommit(ref: string | undefined): Promise<string>;
  /** One Git Trees request for a commit SHA, tree SHA or ref: recursive unless `recursive` is false. */
  getTree(treeish: string, options?: { recursive?: boolean }): Promise<RepositoryTree>;
  /**
   * Text of many files in one GraphQL request per `blobsPerRequest`; missing or binary files are left out. A file
   * GitHub failed to read fails the whole read (a TransientError), never passes for absent.
   */
  readBlobs(commitSha: string, paths: readonly string[]): Promise<Map<string, string>>;
  /** The commit as GitHub's zipball (one top-level folder), streamed; see ArchiveDownload. */
  downloadArchive(commitSha: string): Promise<ArchiveDownload>;
}

/** How long after minting a 401 is taken for GitHub's token replication lag (@octokit/auth-app waits out 5 s). */
export const REPLICATION_LAG_MS = 5_000;

interface GraphQLErrorEntry {
  readonly type?: string;
  readonly code?: string;
  readonly message?: string;
  readonly path?: readonly (string | number)[];
}

interface GraphQLBlobsResponse {
  readonly data?: { readonly repository?: Record<string, BlobObject | null> | null } | null;
  readonly errors?: readonly GraphQLErrorEntry[];
}

interface BlobObject {
  readonly text: string | null;
  readonly isBinary: boolean | null;
  readonly isTruncated?: boolean | null;
}

/**
 * GitHub's GraphQL errors, as data. Sources: "Rate limits and query limits for the GraphQL API"
 * (https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api) for the limits;
 * the shapes as GitHub sends them, seen in octokit/plugin-throttling.js#632 (200 + `RATE_LIMITED`),
 * yanyongyu/githubkit#271 (`RATE_LIMIT` / `graphql_rate_limit`), yoshi389111/github-profile-3d-contrib#163
 * (`RESOURCE_LIMITS_EXCEEDED` with `data.<field>: null`) and gayanvoice/top-github-users#107 (a timeout:
 * `data: null` and "Something went wrong while executing your query. This may be the result of a timeout").
 */
const GRAPHQL_RATE_LIMIT_TYPES = ["RATE_LIMITED", "RATE_LIMIT"];
const GRAPHQL_SMALLER_BATCH_TYPES = ["RESOURCE_LIMITS_EXCEEDED"];
const GRAPHQL_TIMEOUT = /something went wrong while executing your query|timeout/i;

type GraphQLOutcome =
  | { readonly kind: "ok"; readonly blobs: Record<string, BlobObject | null> }
  | { readonly kind: "smaller-batch"; readonly why: string }
  | {
      readonly kind: "file-errors";
      readonly blobs: Record<string, BlobObject | null>;
      readonly indexes: readonly number[];
      readonly why: string;
    };

export function createRepositoryClient(options: RepositoryClientOptions): RepositoryClient {
  const { owner, name } = options;
  const repository = `${owner}/${name}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxSourceBytes = options.maxSourceBytes ?? 500 * 1024 * 1024;
  const baseUrl = options.baseUrl ?? "https://api.github.com";
  const retry = options.retry ?? {};
  const now = retry.now ?? Date.now;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const request = options.request.defaults({
    baseUrl,
    headers: { authorization: `token ${options.token}`, "x-github-api-version": "2022-11-28" },
  });
  /** A per-request signal: the request's own limit, and never past the invocation's deadline. */
  const signal = (limitMs = timeoutMs) => {
    const left = (retry.deadline ?? Number.POSITIVE_INFINITY) - now();
    return AbortSignal.timeout(Math.max(1, Math.min(limitMs, left)));
  };
  /**
   * One request with GitHub's retries, and the replication lag: a token used within seconds of being minted can meet
   * a 401 until GitHub has copied it everywhere, so such a 401 is retried once after a second.
   */
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await withGitHubRetries(what, run, retry);
    } catch (error) {
      const fresh = options.tokenCreatedAt !== undefined && now() - options.tokenCreatedAt < REPLICATION_LAG_MS;
      if (statusOf(error) !== 401) throw error;
      if (fresh) {
        await sleep(1_000);
        try {
          return await withGitHubRetries(what, run, retry);
        } catch (again) {
          if (statusOf(again) !== 401) throw again;
        }
      }
      throw new TransientError(
        "GITHUB_TOKEN_REJECTED",
        `GitHub rejected the installation token while ${what}; Slipway mints a new one and retries.`,
      );
    }
  };

  const notFound = (): PermanentError =>
    new PermanentError(
      "REPOSITORY_NOT_FOUND",
      `GitHub has no repository ${repository} that the Slipway App can see. Check the name, and that the App is ` +
        `installed with access to it.`,
    );

  const lookupCommit = async (ref: string | undefined): Promise<CommitRef> => {
    const what = ref ? `resolving ${ref} in ${repository}` : `finding the default branch of ${repository}`;
    try {
      // JSON, not the bare-SHA media type: octokit decodes `application/vnd.github.sha` as text only when GitHub adds
      // `charset=utf-8` (otherwise it is an ArrayBuffer), and the tree SHA is needed too. `per_page=1` keeps the
      // answer small: it pages the commit's file list, which can run to 300 files with their patches.
      const response = await call(what, () =>
        request("GET /repos/{owner}/{repo}/commits/{ref}", {
          owner,
          repo: name,
          ref: ref ?? "HEAD",
          per_page: 1,
          request: { signal: signal() },
        }),
      );
      const sha = String(response.data.sha ?? "");
      const treeSha = String(response.data.commit?.tree?.sha ?? "");
      if (!/^[0-9a-f]{40}$/.test(sha) || !/^[0-9a-f]{40}$/.test(treeSha)) {
        throw new Error(`GitHub answered ${what} with something that is not a commit`);
      }
      return { sha, treeSha };
    } catch (error) {
      switch (statusOf(error)) {
        case 404:
          throw notFound();
        case 409:
          throw new PermanentError("REPOSITORY_EMPTY", `${repository} has no commits yet: push one, then deploy.`);
        case 422:
          throw new PermanentError(
            "REF_NOT_FOUND",
            `${repository} has no branch, tag or commit named "${ref}". Check the ref, or leave it out to deploy ` +
              `the default branch.`,
          );
        case 403:
          throw forbidden(what);
        default:
          throw error;
      }
    }
  };

  /** One GraphQL request for `paths`, classified (rate limits are thrown for withGitHubRetries to wait out). */
  const queryBlobs = async (commitSha: string, paths: readonly string[]): Promise<GraphQLOutcome> => {
    const { query, variables } = blobsQuery(owner, name, commitSha, paths);
    const what = `reading ${paths.length} file(s) of ${repository}`;
    const response = await call(what, async () => {
      const answer = await request("POST {url}", {
        url: graphqlUrl(baseUrl),
        query,
        variables,
        request: { signal: signal() },
      });
      const body = answer.data as GraphQLBlobsResponse;
      const limited = body.errors?.find(
        (e) => GRAPHQL_RATE_LIMIT_TYPES.includes(e.type ?? "") || e.code === "graphql_rate_limit",
      );
      // GraphQL reports a spent budget as 200 with an error; the wait is in the headers. Thrown as GitHub's REST
      // answer would be, so one place decides about waits.
      if (limited) throw graphqlRateLimit(answer.headers as Record<string, string | undefined>, now(), limited);
      return body;
    }).catch((error: unknown) => {
      if (statusOf(error) === 403) throw forbidden(what);
      throw error;
    });
    const errors = response.errors ?? [];
    const found = response.data?.repository;
    if (errors.some((e) => e.type === "NOT_FOUND" && e.path?.length === 1)) throw notFound();
    if (errors.some((e) => e.type === "FORBIDDEN")) throw forbidden(what);
    if (!found) {
      const why = errors.map((e) => e.type ?? e.message ?? "").join("; ") || "no data";
      if (
        errors.some((e) => GRAPHQL_SMALLER_BATCH_TYPES.includes(e.type ?? "") || GRAPHQL_TIMEOUT.test(e.message ?? ""))
      ) {
        return { kind: "smaller-batch", why };
      }
      throw new Error(`GitHub's GraphQL API answered ${what} with errors: ${why.slice(0, 300)}`);
    }
    const failed = new Set<number>();
    for (const error of errors) {
      const alias = error.path?.[1];
      const index = typeof alias === "string" && /^f\d+$/.test(alias) ? Number(alias.slice(1)) : undefined;
      if (index === undefined) {
        throw new Error(`GitHub's GraphQL API answered ${what} with an error: ${(error.message ?? "").slice(0, 300)}`);
      }
      failed.add(index);
    }
    if (failed.size > 0) {
      const why = errors.map((e) => e.message ?? e.type ?? "").join("; ");
      return { kind: "file-errors", blobs: found, indexes: [...failed], why };
    }
    return { kind: "ok", blobs: found };
  };

  /**
   * A file longer than GraphQL's text limit, read whole through the contents API's raw media type (files up to
   * 100 MB; "Get repository content", https://docs.github.com/en/rest/repos/contents#get-repository-content). The
   * body is read as a stream and decoded here, whatever charset GitHub names.
   */
  const readWholeFile = async (commitSha: string, path: string): Promise<string> => {
    const what = `reading ${path} of ${repository}`;
    const response = await call(what, () =>
      request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo: name,
        path,
        ref: commitSha,
        headers: { accept: "application/vnd.github.raw+json" },
        request: { parseSuccessResponseBody: false, signal: signal() },
      }),
    );
    const body = response.data as unknown as WebReadableStream<Uint8Array> | null;
    return body ? Buffer.from(await new Response(body as never).arrayBuffer()).toString("utf8") : "";
  };

  const readBatch = async (
    commitSha: string,
    paths: readonly string[],
    files: Map<string, string>,
    retriesLeft: number,
  ): Promise<void> => {
    const outcome = await queryBlobs(commitSha, paths);
    const unreadable = (again: readonly string[], why: string) =>
      new TransientError(
        "GITHUB_READ_FAILED",
        `GitHub could not read ${again.slice(0, 3).join(", ")}${again.length > 3 ? "…" : ""} of ${repository} ` +
          `(${why.slice(0, 200)}); Slipway retries rather than decide without ${again.length > 1 ? "them" : "it"}.`,
      );
    if (outcome.kind === "smaller-batch") {
      if (paths.length > 1) {
        // A timeout or GitHub's resource limit: the same files in two smaller requests.
        const middle = Math.ceil(paths.length / 2);
        await readBatch(commitSha, paths.slice(0, middle), files, retriesLeft);
        await readBatch(commitSha, paths.slice(middle), files, retriesLeft);
        return;
      }
      if (retriesLeft > 0) return readBatch(commitSha, paths, files, retriesLeft - 1);
      throw unreadable(paths, outcome.why);
    }
    const failed = new Set(outcome.kind === "file-errors" ? outcome.indexes : []);
    const truncated: string[] = [];
    paths.forEach((path, index) => {
      const blob = outcome.blobs[`f${index}`];
      if (failed.has(index) || !blob || blob.isBinary || typeof blob.text !== "string") return;
      // GraphQL cuts Blob.text (GitHub: at 512,000 bytes) and says so in isTruncated: the rest comes by REST.
      if (blob.isTruncated) truncated.push(path);
      else files.set(path, blob.text);
    });
    for (const path of truncated) files.set(path, await readWholeFile(commitSha, path));
    if (outcome.kind === "file-errors") {
      // An error on one aliased file nulls that file: it is unknown, not absent. Read it again, or fail the read.
      const again = [...failed].map((index) => paths[index]!);
      if (retriesLeft > 0) return readBatch(commitSha, again, files, retriesLeft - 1);
      throw unreadable(again, outcome.why);
    }
  };

  return {
    lookupCommit,
    resolveCommit: async (ref) => (await lookupCommit(ref)).sha,

    async getTree(treeish, treeOptions = {}) {
      const what = `listing the files of ${repository}@${treeish.slice(0, 7)}`;
      try {
        const response = await call(what, () =>
          request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
            owner,
            repo: name,
            tree_sha: treeish,
            ...(treeOptions.recursive === false ? {} : { recursive: "1" }),
            request: { signal: signal() },
          }),
        );
        const paths: string[] = [];
        const folders = new Map<string, string>();
        let totalBytes = 0;
        for (const entry of response.data.tree) {
          if (!entry.path) continue;
          if (entry.type === "blob") {
            paths.push(entry.path);
            totalBytes += entry.size ?? 0;
          } else if (entry.type === "tree" && entry.sha) folders.set(entry.path, entry.sha);
        }
        return { sha: response.data.sha, paths, folders, totalBytes, truncated: response.data.truncated };
      } catch (error) {
        if (statusOf(error) === 404) throw notFound();
        if (statusOf(error) === 403) throw forbidden(what);
        throw error;
      }
    },

    async readBlobs(commitSha, paths) {
      const files = new Map<string, string>();
      const perRequest = options.blobsPerRequest ?? 100;
      for (let start = 0; start < paths.length; start += perRequest) {
        await readBatch(commitSha, paths.slice(start, start + perRequest), files, 1);
      }
      return files;
    },

    async downloadArchive(commitSha) {
      const label = `${repository}@${commitSha.slice(0, 7)}`;
      const what = `downloading ${label}`;
      const response = await call(what, () =>
        request("GET /repos/{owner}/{repo}/zipball/{ref}", {
          owner,
          repo: name,
          ref: commitSha,
          // The body is read as a stream (the default would buffer it, and hand over an empty buffer if it broke).
          // Archives take longer than API calls: six times the per-request limit, within the deadline.
          request: { parseSuccessResponseBody: false, signal: signal(timeoutMs * 6) },
        }),
      ).catch((error: unknown) => {
        if (statusOf(error) === 404) throw notFound();
        throw error;
      });
      const announced = Number(response.headers["content-length"]);
      const contentLength = Number.isFinite(announced) && announced > 0 ? announced : undefined;
      const stream = response.data as unknown as WebReadableStream<Uint8Array> | null;
      if (contentLength !== undefined && contentLength > maxSourceBytes) {
        await stream?.cancel().catch(() => undefined);
        throw tooLarge(label, contentLength, maxSourceBytes);
      }
      const check = createArchiveCheck({
        label,
        maxBytes: maxSourceBytes,
        ...(contentLength !== undefined ? { expectedBytes: contentLength } : {}),
      });
      if (!stream) {
        check.end();
      } else {
        const source = Readable.fromWeb(stream);
        source.on("error", (error) =>
          check.destroy(
            new TransientError(
              "SOURCE_DOWNLOAD_INCOMPLETE",
              `The source archive of ${label} broke off after ${check.bytes()} bytes (${describe(error)}); ` +
                `Slipway downloads it again.`,
            ),
          ),
        );
        check.on("error", () => source.destroy());
        source.pipe(check);
      }
      return { body: check, ...(contentLength !== undefined ? { contentLength } : {}), bytes: () => check.bytes() };
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * GraphQL's rate-limit error as the failure GitHub's REST API would send, so withGitHubRetries waits it out: the
 * wait is `retry-after` if sent, else until `x-ratelimit-reset` (GraphQL's `x-ratelimit-remaining` is not always 0
 * then: octokit/plugin-throttling.js#636), else a minute.
 */
function graphqlRateLimit(
  headers: Record<string, string | undefined>,
  now: number,
  error: GraphQLErrorEntry,
): { status: number; message: string; response: { headers: Record<string, string>; data: { message: string } } } {
  const reset = Number(headers["x-ratelimit-reset"]);
  const retryAfter = headers["retry-after"];
  const seconds =
    retryAfter !== undefined && /^\d+$/.test(retryAfter)
      ? Number(retryAfter)
      : Number.isFinite(reset) && reset > 0
        ? Math.max(0, Math.ceil(reset - now / 1000))
        : 60;
  const message = error.message ?? "GraphQL rate limit exceeded";
  return { status: 429, message, response: { headers: { "retry-after": String(seconds) }, data: { message } } };
}

/**
 * One GraphQL query that reads many files of one commit by `<sha>:<path>` expressions; each file is an alias
 * `f<i>`, so a missing file is simply `null`. Paths travel as variables, never spliced into the query text.
 */
export function blobsQuery(
  owner: string,
  name: string,
  commitSha: string,
  paths: readonly string[],
): { query: string; variables: Record<string, string> } {
  const variables: Record<string, string> = { owner, name };
  const declarations = ["$owner:String!", "$name:String!"];
  const fields: string[] = [];
  paths.forEach((path, index) => {
    variables[`e${index}`] = `${commitSha}:${path}`;
    declarations.push(`$e${index}:String!`);
    fields.push(`f${index}:object(expression:$e${index}){...on Blob{text isBinary isTruncated}}`);
  });
  return {
    query: `query(${declarations.join(",")}){repository(owner:$owner,name:$name){${fields.join(" ")}}}`,
    variables,
  };
}
