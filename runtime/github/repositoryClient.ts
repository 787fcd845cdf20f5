import { PermanentError, TransientError } from "../errors";
import { forbidden, statusOf, withGitHubRetries, type RetryOptions } from "./githubErrors";
import type { OctokitRequest } from "./installationTokens";

export interface RepositoryClientOptions {
  readonly request: OctokitRequest;
  readonly baseUrl?: string;
  readonly owner: string;
  readonly name: string;
  /** An installation token for this repository; it never leaves this object (not logged, not returned). */
  readonly token: string;
  /** Per-request time limit. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest source archive staged for a build. Default 500 MiB. */
  readonly maxArchiveBytes?: number;
  /** Files read per GraphQL request. Default 100. */
  readonly blobsPerRequest?: number;
  readonly retry?: RetryOptions;
}

export interface RepositoryTree {
  /** Every blob path of the commit, posix and relative to the repository root. */
  readonly paths: string[];
  /** GitHub truncates trees over 100,000 entries or 7 MB. */
  readonly truncated: boolean;
}

/** GitHub's API for one repository, with GitHub's failures turned into Slipway's domain errors. */
export interface RepositoryClient {
  /** The commit SHA a branch, tag or SHA points to; the default branch's head when `ref` is absent. */
  resolveCommit(ref: string | undefined): Promise<string>;
  /** One recursive Git Trees request. */
  getTree(commitSha: string): Promise<RepositoryTree>;
  /** Text of many files in one GraphQL request per `blobsPerRequest`; missing or binary files are left out. */
  readBlobs(commitSha: string, paths: readonly string[]): Promise<Map<string, string>>;
  /** The commit as GitHub's zipball (one top-level folder), for CodeBuild's S3 source. */
  downloadArchive(commitSha: string): Promise<Uint8Array>;
}

interface GraphQLBlobsResponse {
  readonly data?: { readonly repository?: Record<string, BlobObject | null> | null };
  readonly errors?: readonly { readonly type?: string; readonly message?: string }[];
}

interface BlobObject {
  readonly text: string | null;
  readonly isBinary: boolean | null;
}

export function createRepositoryClient(options: RepositoryClientOptions): RepositoryClient {
  const { owner, name } = options;
  const repository = `${owner}/${name}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const request = options.request.defaults({
    baseUrl: options.baseUrl ?? "https://api.github.com",
    headers: { authorization: `token ${options.token}`, "x-github-api-version": "2022-11-28" },
  });
  const call = <T>(what: string, run: () => Promise<T>) => withGitHubRetries(what, run, options.retry);
  const timeout = () => ({ signal: AbortSignal.timeout(timeoutMs) });

  const notFound = (): PermanentError =>
    new PermanentError(
      "REPOSITORY_NOT_FOUND",
      `GitHub has no repository ${repository} that the Slipway App can see. Check the name, and that the App is ` +
        `installed with access to it.`,
    );

  return {
    async resolveCommit(ref) {
      const what = ref ? `resolving ${ref} in ${repository}` : `finding the default branch of ${repository}`;
      try {
        const response = await call(what, () =>
          request("GET /repos/{owner}/{repo}/commits/{ref}", {
            owner,
            repo: name,
            ref: ref ?? "HEAD",
            headers: { accept: "application/vnd.github.sha" },
            request: timeout(),
          }),
        );
        const sha = String(response.data).trim();
        if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`GitHub answered ${what} with something that is not a SHA`);
        return sha;
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
    },

    async getTree(commitSha) {
      const what = `listing the files of ${repository}@${commitSha.slice(0, 7)}`;
      try {
        const response = await call(what, () =>
          request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", {
            owner,
            repo: name,
            tree_sha: commitSha,
            recursive: "1",
            request: timeout(),
          }),
        );
        const paths = response.data.tree.filter((entry) => entry.type === "blob" && entry.path).map((e) => e.path!);
        return { paths, truncated: response.data.truncated };
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
        const chunk = paths.slice(start, start + perRequest);
        const { query, variables } = blobsQuery(owner, name, commitSha, chunk);
        const what = `reading ${chunk.length} file(s) of ${repository}`;
        const response = await call(what, () =>
          request("POST /graphql", { query, variables, request: timeout() }),
        ).catch((error: unknown) => {
          if (statusOf(error) === 403) throw forbidden(what);
          throw error;
        });
        const data = response.data as GraphQLBlobsResponse;
        if (data.errors?.some((error) => error.type === "RATE_LIMITED")) {
          // GraphQL reports an exhausted budget as 200 with an error, not 403: the reset time is in the headers.
          throw new TransientError(
            "GITHUB_RATE_LIMITED",
            `GitHub's GraphQL rate limit was reached while ${what}; Slipway retries.`,
          );
        }
        const found = data.data?.repository;
        if (!found) throw notFound();
        chunk.forEach((path, index) => {
          const blob = found[`f${index}`];
          if (blob && !blob.isBinary && typeof blob.text === "string") files.set(path, blob.text);
        });
      }
      return files;
    },

    async downloadArchive(commitSha) {
      const what = `downloading ${repository}@${commitSha.slice(0, 7)}`;
      const limit = options.maxArchiveBytes ?? 500 * 1024 * 1024;
      const response = await call(what, () =>
        request("GET /repos/{owner}/{repo}/zipball/{ref}", {
          owner,
          repo: name,
          ref: commitSha,
          // Archives take longer than API calls: allow six times the per-request limit.
          request: { signal: AbortSignal.timeout(timeoutMs * 6) },
        }),
      ).catch((error: unknown) => {
        if (statusOf(error) === 404) throw notFound();
        throw error;
      });
      const archive = new Uint8Array(response.data as ArrayBuffer);
      if (archive.byteLength > limit) {
        throw new PermanentError(
          "SOURCE_TOO_LARGE",
          `${repository}@${commitSha.slice(0, 7)} is ${Math.round(archive.byteLength / 1048576)} MiB as an ` +
            `archive; Slipway builds sources up to ${Math.round(limit / 1048576)} MiB. Remove large files from the ` +
            `repository (or use Git LFS) and deploy again.`,
        );
      }
      return archive;
    },
  };
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
    fields.push(`f${index}:object(expression:$e${index}){...on Blob{text isBinary}}`);
  });
  return {
    query: `query(${declarations.join(",")}){repository(owner:$owner,name:$name){${fields.join(" ")}}}`,
    variables,
  };
}
