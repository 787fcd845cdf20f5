/**
 * The slice of GitHub's GraphQL schema the emulator serves, in SDL, with its resolvers: run by the reference
 * implementation (the `graphql` package), so a query outside the slice fails validation the way GitHub's does.
 * Types, fields, arguments and nullability follow GitHub's public schema ("Objects", "Interfaces" and "Queries" in
 * https://docs.github.com/en/graphql/reference); fields GitHub has and Slipway never asks for are left out on purpose.
 */
import { buildSchema, GraphQLError, GraphQLObjectType, type GraphQLFieldResolver } from "graphql";
import type { RepositoryObject, RepositorySource } from "./repositorySource";

/** What a query may see, decided by the caller's token. */
export interface GitHubGraphqlContext {
  /** The repository when the caller's token can see it; undefined otherwise (GitHub then says it does not exist). */
  repository(owner: string, name: string): Promise<{ source: RepositorySource; canReadContents: boolean } | undefined>;
  rateLimit(): { cost: number; limit: number; remaining: number; used: number; resetAt: string };
  /** Text longer than this many bytes is cut and flagged `isTruncated`. */
  readonly blobTextLimitBytes: number;
  /** A failure to report for this `object(expression:)` (see GitHubEmulator.failObjects), if one is due. */
  objectError?(expression: string): string | undefined;
}

const SDL = /* GraphQL */ `
  scalar DateTime
  scalar GitObjectID

  type Query {
    repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
    rateLimit(dryRun: Boolean = false): RateLimit
  }

  type Repository {
    id: ID!
    name: String!
    nameWithOwner: String!
    isPrivate: Boolean!
    defaultBranchRef: Ref
    object(expression: String, oid: GitObjectID): GitObject
  }

  type Ref {
    name: String!
    prefix: String!
  }

  type RateLimit {
    cost: Int!
    limit: Int!
    nodeCount: Int!
    remaining: Int!
    resetAt: DateTime!
    used: Int!
  }

  interface GitObject {
    oid: GitObjectID!
    abbreviatedOid: String!
  }

  type Blob implements GitObject {
    oid: GitObjectID!
    abbreviatedOid: String!
    byteSize: Int!
    isBinary: Boolean
    isTruncated: Boolean!
    text: String
  }

  type Tree implements GitObject {
    oid: GitObjectID!
    abbreviatedOid: String!
  }

  type Commit implements GitObject {
    oid: GitObjectID!
    abbreviatedOid: String!
    message: String!
    committedDate: DateTime!
  }
`;

/** A resolved value: `__typename` is what graphql's default type resolver reads to pick a GitObject's type. */
type Value = Record<string, unknown> & { readonly __typename: string };

/** A field error as GitHub reports it: its `type` (NOT_FOUND, FORBIDDEN…) is lifted to the top level on the way out. */
function fieldError(message: string, type: string): GraphQLError {
  return new GraphQLError(message, { extensions: { type } });
}

type Resolver = GraphQLFieldResolver<Value, GitHubGraphqlContext, Record<string, unknown>>;

/** The fields that do more than read a property of their parent (graphql's default resolver does the rest). */
const RESOLVERS: Readonly<Record<string, Readonly<Record<string, Resolver>>>> = {
  Query: {
    async repository(_parent, args, context) {
      const owner = String(args.owner);
      const name = String(args.name);
      const access = await context.repository(owner, name);
      if (!access) throw fieldError(`Could not resolve to a Repository with the name '${owner}/${name}'.`, "NOT_FOUND");
      return repositoryValue(access.source, access.canReadContents, context.blobTextLimitBytes);
    },
    rateLimit: (_parent, _args, context) => ({ __typename: "RateLimit", ...context.rateLimit(), nodeCount: 0 }),
  },
  Repository: {
    async defaultBranchRef(parent) {
      const source = parent.source as RepositorySource;
      return (await source.hasCommits())
        ? { __typename: "Ref", name: await source.defaultBranch(), prefix: "refs/heads/" }
        : null;
    },
    object(parent, args, context) {
      if (!parent.canReadContents) throw fieldError("Resource not accessible by integration", "FORBIDDEN");
      const expression = typeof args.expression === "string" ? args.expression : (args.oid as string | undefined);
      if (expression === undefined) throw fieldError("Either an expression or an oid is required", "INVALID_ARGUMENTS");
      const failure = context.objectError?.(expression);
      if (failure !== undefined) throw fieldError(failure, "INTERNAL");
      return (parent.load as (expression: string) => Promise<Value | null>)(expression);
    },
  },
};

/** GitHub's GraphQL slice, executable: the SDL above with RESOLVERS attached. */
export const githubGraphqlSchema = buildSchema(SDL);
for (const [typeName, fields] of Object.entries(RESOLVERS)) {
  const type = githubGraphqlSchema.getType(typeName);
  if (!(type instanceof GraphQLObjectType)) throw new Error(`The GitHub GraphQL schema has no object type ${typeName}`);
  for (const [fieldName, resolve] of Object.entries(fields)) {
    const field = type.getFields()[fieldName];
    if (!field) throw new Error(`The GitHub GraphQL schema has no field ${typeName}.${fieldName}`);
    field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
  }
}

function repositoryValue(source: RepositorySource, canReadContents: boolean, textLimit: number): Value {
  return {
    __typename: "Repository",
    id: Buffer.from(`Repository:${source.owner}/${source.name}`).toString("base64"),
    name: source.name,
    nameWithOwner: `${source.owner}/${source.name}`,
    isPrivate: source.private,
    source,
    canReadContents,
    load: createObjectLoader(source, textLimit),
  };
}

/**
 * Reads `<rev>:<path>` expressions in batches: every expression asked for in the same turn of the event loop is read
 * with one `objects` call per commit, so a query with a hundred aliases costs one pass over the repository.
 * Hand-written rather than the `dataloader` package: it is these 40 lines, and the batch is grouped by revision.
 */
function createObjectLoader(
  source: RepositorySource,
  textLimit: number,
): (expression: string) => Promise<Value | null> {
  let pending: { expression: string; resolve: (value: Value | null) => void; reject: (error: unknown) => void }[] = [];
  const flush = async (batch: typeof pending) => {
    const byRevision = new Map<string, typeof pending>();
    for (const item of batch) {
      const colon = item.expression.indexOf(":");
      const revision = colon < 0 ? item.expression : item.expression.slice(0, colon);
      byRevision.set(revision, [...(byRevision.get(revision) ?? []), item]);
    }
    for (const [revision, items] of byRevision) {
      try {
        const commitSha = await source.resolveCommit(revision);
        if (!commitSha) {
          items.forEach((item) => item.resolve(null));
          continue;
        }
        const withPath = items.filter((item) => item.expression.includes(":"));
        const objects = await source.objects(
          commitSha,
          withPath.map((item) => item.expression.slice(item.expression.indexOf(":") + 1)),
        );
        withPath.forEach((item, index) => item.resolve(objectValue(objects[index], textLimit)));
        const commits = items.filter((item) => !item.expression.includes(":"));
        if (commits.length > 0) {
          const commit = await source.commit(commitSha);
          const value: Value | null = commit
            ? {
                __typename: "Commit",
                oid: commit.sha,
                abbreviatedOid: commit.sha.slice(0, 7),
                message: commit.message.replace(/\n$/, ""),
                committedDate: commit.committer.date,
              }
            : null;
          commits.forEach((item) => item.resolve(value));
        }
      } catch (error) {
        items.forEach((item) => item.reject(error));
      }
    }
  };
  return (expression) =>
    new Promise((resolve, reject) => {
      if (pending.length === 0) {
        setImmediate(() => {
          const batch = pending;
          pending = [];
          void flush(batch);
        });
      }
      pending.push({ expression, resolve, reject });
    });
}

function objectValue(object: RepositoryObject | undefined, textLimit: number): Value | null {
  if (!object) return null;
  const ids = { oid: object.sha, abbreviatedOid: object.sha.slice(0, 7) };
  if (object.type !== "blob") return { __typename: object.type === "tree" ? "Tree" : "Commit", ...ids };
  // Git's own test for binary content: a NUL byte within the first 8000 bytes.
  const isBinary = object.content.subarray(0, 8000).includes(0);
  const isTruncated = !isBinary && object.content.length > textLimit;
  return {
    __typename: "Blob",
    ...ids,
    byteSize: object.content.length,
    isBinary,
    isTruncated,
    text: isBinary ? null : object.content.subarray(0, isTruncated ? textLimit : undefined).toString("utf8"),
  };
}
