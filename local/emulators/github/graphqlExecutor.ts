import {
  parseGraphQL,
  type DocumentNode,
  type FieldNode,
  type OperationNode,
  type SelectionNode,
  type SourceLocation,
  type ValueNode,
} from "./graphqlDocument";
import type { RepositoryObject, RepositorySource } from "./repositorySource";

/** One entry of a GraphQL response's `errors`, shaped like GitHub's. */
export interface GraphQLError {
  readonly message: string;
  readonly type?: string;
  readonly path?: readonly (string | number)[];
  readonly locations?: readonly SourceLocation[];
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export interface GraphQLResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLError[];
}

/** What a query may see, decided by the caller's token. */
export interface GraphQLContext {
  /** The repository when the caller's token can see it; undefined otherwise (GitHub then says it does not exist). */
  repository(owner: string, name: string): Promise<{ source: RepositorySource; canReadContents: boolean } | undefined>;
  rateLimit(): { cost: number; limit: number; remaining: number; used: number; resetAt: string };
  /** Text longer than this many bytes is cut and flagged `isTruncated`. */
  readonly blobTextLimitBytes: number;
  /** A failure to report for this `object(expression:)` (see GitHubEmulator.failObjects), if one is due. */
  objectError?(expression: string): string | undefined;
}

/**
 * The slice of GitHub's GraphQL schema the emulator answers, as data: each type's fields, their result types and
 * arguments. Anything else is refused the way GitHub refuses an unknown field.
 */
interface FieldSpec {
  readonly type: string;
  readonly args?: Readonly<Record<string, string>>;
}
const SCHEMA: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>> = {
  Query: {
    repository: { type: "Repository", args: { owner: "String!", name: "String!", followRenames: "Boolean" } },
    rateLimit: { type: "RateLimit", args: { dryRun: "Boolean" } },
  },
  Repository: {
    id: { type: "ID" },
    name: { type: "String" },
    nameWithOwner: { type: "String" },
    isPrivate: { type: "Boolean" },
    defaultBranchRef: { type: "Ref" },
    object: { type: "GitObject", args: { expression: "String", oid: "GitObjectID" } },
  },
  Ref: { name: { type: "String" }, prefix: { type: "String" } },
  RateLimit: {
    cost: { type: "Int" },
    limit: { type: "Int" },
    nodeCount: { type: "Int" },
    remaining: { type: "Int" },
    resetAt: { type: "DateTime" },
    used: { type: "Int" },
  },
  GitObject: { oid: { type: "GitObjectID" }, abbreviatedOid: { type: "String" } },
  Blob: {
    oid: { type: "GitObjectID" },
    abbreviatedOid: { type: "String" },
    byteSize: { type: "Int" },
    isBinary: { type: "Boolean" },
    isTruncated: { type: "Boolean" },
    text: { type: "String" },
  },
  Tree: { oid: { type: "GitObjectID" }, abbreviatedOid: { type: "String" } },
  Commit: {
    oid: { type: "GitObjectID" },
    abbreviatedOid: { type: "String" },
    message: { type: "String" },
    committedDate: { type: "DateTime" },
  },
};
const SCALARS = new Set(["String", "Int", "Boolean", "ID", "GitObjectID", "DateTime"]);
/** Abstract types and the object types they stand for. */
const POSSIBLE_TYPES: Readonly<Record<string, readonly string[]>> = { GitObject: ["Blob", "Tree", "Commit"] };

type Value = Record<string, unknown> & { readonly __typename: string };

class FieldError extends Error {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

/** Parses, validates and runs one GraphQL request body (`{ query, variables, operationName }`). */
export async function executeGraphQL(body: unknown, context: GraphQLContext): Promise<GraphQLResponse> {
  const request = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof request.query !== "string" || !request.query.trim()) {
    return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  }
  let document: DocumentNode;
  try {
    document = parseGraphQL(request.query);
  } catch (error) {
    const syntax = error as { message?: string; locations?: SourceLocation[] };
    return {
      errors: [
        { message: syntax.message ?? "Parse error", ...(syntax.locations ? { locations: syntax.locations } : {}) },
      ],
    };
  }
  const operation = pickOperation(document, request.operationName);
  if (typeof operation === "string") return { errors: [{ message: operation }] };
  const validation = validate(document, operation);
  if (validation.length > 0) return { errors: validation };
  const variables = coerceVariables(operation, request.variables);
  if (!("values" in variables)) return { errors: variables.errors };

  const errors: GraphQLError[] = [];
  const run = new Execution(document, variables.values, context, errors);
  const data = await run.selectionSet("Query", { __typename: "Query" }, operation.selections, []);
  return errors.length > 0 ? { data, errors } : { data };
}

function pickOperation(document: DocumentNode, operationName: unknown): OperationNode | string {
  if (typeof operationName === "string" && operationName) {
    return (
      document.operations.find((operation) => operation.name === operationName) ??
      `Unknown operation named "${operationName}".`
    );
  }
  if (document.operations.length > 1)
    return "An operation name is required when the document holds several operations.";
  return document.operations[0]!;
}

function validate(document: DocumentNode, operation: OperationNode): GraphQLError[] {
  const errors: GraphQLError[] = [];
  if (operation.operation !== "query") {
    errors.push({
      message: `Schema is not configured for ${operation.operation}s (the emulator answers queries only)`,
      locations: [operation.loc],
    });
    return errors;
  }
  const declared = new Set(operation.variables.map((variable) => variable.name));
  const used = new Set<string>();
  const visiting = new Set<string>();

  const checkValue = (value: ValueNode, loc: SourceLocation) => {
    if (value.kind === "variable") {
      used.add(value.name);
      if (!declared.has(value.name)) {
        errors.push({
          message: `Variable $${value.name} is used by ${operation.name ?? "anonymous query"} but not declared`,
          locations: [loc],
          extensions: { code: "variableNotDefined", variableName: value.name },
        });
      }
    } else if (value.kind === "list") value.values.forEach((item) => checkValue(item, loc));
    else if (value.kind === "object") value.fields.forEach((item) => checkValue(item, loc));
  };

  const walk = (typeName: string, selections: readonly SelectionNode[], path: string[]) => {
    for (const selection of selections) {
      if (selection.directives.length > 0) {
        errors.push({
          message: `Directive '@${selection.directives[0]}' is not supported by the emulator`,
          locations: [selection.loc],
        });
      }
      if (selection.kind === "inlineFragment" || selection.kind === "fragmentSpread") {
        const fragment = selection.kind === "fragmentSpread" ? document.fragments.get(selection.name) : undefined;
        if (selection.kind === "fragmentSpread" && !fragment) {
          errors.push({ message: `Fragment ${selection.name} was used, but not defined`, locations: [selection.loc] });
          continue;
        }
        if (fragment && visiting.has(fragment.name)) {
          errors.push({ message: `Fragment ${fragment.name} contains an infinite loop`, locations: [selection.loc] });
          continue;
        }
        const condition = fragment
          ? fragment.typeCondition
          : selection.kind === "inlineFragment"
            ? selection.typeCondition
            : undefined;
        if (condition !== undefined && !SCHEMA[condition]) {
          errors.push({
            message: `No such type ${condition}, so it can't be a fragment condition`,
            locations: [selection.loc],
          });
          continue;
        }
        if (condition !== undefined && !typesOverlap(condition, typeName)) {
          errors.push({
            message: `Fragment on ${condition} can't be spread inside ${typeName}`,
            locations: [selection.loc],
          });
          continue;
        }
        if (fragment) visiting.add(fragment.name);
        walk(
          condition ?? typeName,
          fragment ? fragment.selections : (selection as { selections: readonly SelectionNode[] }).selections,
          path,
        );
        if (fragment) visiting.delete(fragment.name);
        continue;
      }
      const fieldPath = [...path, selection.alias ?? selection.name];
      if (selection.name === "__typename") {
        if (selection.selections)
          errors.push({
            message: "Selections can't be made on scalars (field '__typename' returns String)",
            path: fieldPath,
            locations: [selection.loc],
          });
        continue;
      }
      const spec = SCHEMA[typeName]?.[selection.name];
      if (!spec) {
        errors.push({
          message: `Field '${selection.name}' doesn't exist on type '${typeName}'`,
          path: fieldPath,
          locations: [selection.loc],
          extensions: { code: "undefinedField", typeName, fieldName: selection.name },
        });
        continue;
      }
      for (const [name, value] of selection.arguments) {
        if (!spec.args?.[name]) {
          errors.push({
            message: `Field '${selection.name}' doesn't accept argument '${name}'`,
            path: fieldPath,
            locations: [selection.loc],
            extensions: { code: "argumentNotAccepted", name },
          });
        }
        checkValue(value, selection.loc);
      }
      for (const [name, type] of Object.entries(spec.args ?? {})) {
        if (type.endsWith("!") && !selection.arguments.has(name)) {
          errors.push({
            message: `Field '${selection.name}' is missing required arguments: ${name}`,
            path: fieldPath,
            locations: [selection.loc],
            extensions: { code: "missingRequiredArguments" },
          });
        }
      }
      if (SCALARS.has(spec.type)) {
        if (selection.selections)
          errors.push({
            message: `Selections can't be made on scalars (field '${selection.name}' returns ${spec.type})`,
            path: fieldPath,
            locations: [selection.loc],
          });
      } else if (!selection.selections) {
        errors.push({
          message: `Field must have selections (field '${selection.name}' returns ${spec.type} but has no selections)`,
          path: fieldPath,
          locations: [selection.loc],
        });
      } else {
        walk(spec.type, selection.selections, fieldPath);
      }
    }
  };
  walk("Query", operation.selections, [operation.operation]);
  for (const variable of operation.variables) {
    if (!used.has(variable.name)) {
      errors.push({
        message: `Variable $${variable.name} is declared by ${operation.name ?? "anonymous query"} but not used`,
        locations: [operation.loc],
      });
    }
  }
  return errors;
}

function typesOverlap(condition: string, typeName: string): boolean {
  const concrete = (name: string) => POSSIBLE_TYPES[name] ?? [name];
  return concrete(condition).some((type) => concrete(typeName).includes(type));
}

function coerceVariables(
  operation: OperationNode,
  provided: unknown,
): { values: Record<string, unknown> } | { errors: GraphQLError[] } {
  const given = typeof provided === "object" && provided !== null ? (provided as Record<string, unknown>) : {};
  const values: Record<string, unknown> = {};
  const errors: GraphQLError[] = [];
  for (const variable of operation.variables) {
    let value = given[variable.name];
    if (value === undefined && variable.defaultValue) value = literal(variable.defaultValue, {});
    const required = variable.type.endsWith("!");
    const base = variable.type.replace(/!$/, "");
    const fits =
      value === undefined || value === null
        ? !required
        : base.startsWith("[")
          ? Array.isArray(value)
          : base === "Int"
            ? Number.isInteger(value)
            : base === "Float"
              ? typeof value === "number"
              : base === "Boolean"
                ? typeof value === "boolean"
                : typeof value === "string";
    if (!fits) {
      errors.push({
        message: `Variable $${variable.name} of type ${variable.type} was provided invalid value`,
        locations: [operation.loc],
        extensions: { value: value ?? null },
      });
    }
    values[variable.name] = value ?? null;
  }
  return errors.length > 0 ? { errors } : { values };
}

function literal(value: ValueNode, variables: Record<string, unknown>): unknown {
  switch (value.kind) {
    case "variable":
      return variables[value.name] ?? null;
    case "null":
      return null;
    case "list":
      return value.values.map((item) => literal(item, variables));
    case "object":
      return Object.fromEntries([...value.fields].map(([name, item]) => [name, literal(item, variables)]));
    default:
      return value.value;
  }
}

class Execution {
  constructor(
    private readonly document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly context: GraphQLContext,
    private readonly errors: GraphQLError[],
  ) {}

  async selectionSet(
    typeName: string,
    parent: Value,
    selections: readonly SelectionNode[],
    path: (string | number)[],
  ): Promise<Record<string, unknown>> {
    const fields = this.collect(parent.__typename, selections, new Map());
    const keys = [...fields.keys()];
    const values = await Promise.all(
      keys.map((key) => {
        const nodes = fields.get(key)!;
        return this.field(typeName, parent, nodes, [...path, key]);
      }),
    );
    return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
  }

  /** Fields by response key, through the fragments that apply to the value's concrete type (GraphQL's CollectFields). */
  private collect(
    concreteType: string,
    selections: readonly SelectionNode[],
    into: Map<string, FieldNode[]>,
  ): Map<string, FieldNode[]> {
    for (const selection of selections) {
      if (selection.kind === "field") {
        const key = selection.alias ?? selection.name;
        into.set(key, [...(into.get(key) ?? []), selection]);
        continue;
      }
      const fragment = selection.kind === "fragmentSpread" ? this.document.fragments.get(selection.name)! : undefined;
      const condition = fragment
        ? fragment.typeCondition
        : selection.kind === "inlineFragment"
          ? selection.typeCondition
          : undefined;
      if (condition === undefined || (POSSIBLE_TYPES[condition] ?? [condition]).includes(concreteType)) {
        this.collect(
          concreteType,
          fragment ? fragment.selections : (selection as { selections: readonly SelectionNode[] }).selections,
          into,
        );
      }
    }
    return into;
  }

  private async field(
    typeName: string,
    parent: Value,
    nodes: FieldNode[],
    path: (string | number)[],
  ): Promise<unknown> {
    const node = nodes[0]!;
    if (node.name === "__typename") return parent.__typename;
    const concrete = parent.__typename;
    const spec = SCHEMA[concrete]?.[node.name] ?? SCHEMA[typeName]?.[node.name];
    if (!spec) return null;
    const args = Object.fromEntries([...node.arguments].map(([name, value]) => [name, literal(value, this.variables)]));
    try {
      const resolved = await this.resolve(concrete, node.name, parent, args);
      if (resolved === null || resolved === undefined) return null;
      if (SCALARS.has(spec.type)) return resolved;
      const selections = nodes.flatMap((each) => each.selections ?? []);
      return await this.selectionSet(spec.type, resolved as Value, selections, path);
    } catch (error) {
      const failure = error as { message?: string; type?: string };
      this.errors.push({
        ...(failure.type ? { type: failure.type } : {}),
        path,
        locations: [node.loc],
        message: failure.message ?? String(error),
      });
      return null;
    }
  }

  private async resolve(
    typeName: string,
    fieldName: string,
    parent: Value,
    args: Record<string, unknown>,
  ): Promise<unknown> {
    if (typeName === "Query" && fieldName === "repository") {
      const owner = String(args.owner);
      const name = String(args.name);
      const access = await this.context.repository(owner, name);
      if (!access)
        throw new FieldError(`Could not resolve to a Repository with the name '${owner}/${name}'.`, "NOT_FOUND");
      return repositoryValue(access.source, access.canReadContents, this.context.blobTextLimitBytes);
    }
    if (typeName === "Query" && fieldName === "rateLimit")
      return { __typename: "RateLimit", ...this.context.rateLimit(), nodeCount: 0 };
    if (typeName === "Repository" && fieldName === "defaultBranchRef") {
      const source = parent.source as RepositorySource;
      return (await source.hasCommits())
        ? { __typename: "Ref", name: await source.defaultBranch(), prefix: "refs/heads/" }
        : null;
    }
    if (typeName === "Repository" && fieldName === "object") {
      if (!parent.canReadContents) throw new FieldError("Resource not accessible by integration", "FORBIDDEN");
      const expression =
        typeof args.expression === "string" ? args.expression : typeof args.oid === "string" ? args.oid : undefined;
      if (expression === undefined)
        throw new FieldError("Either an expression or an oid is required", "INVALID_ARGUMENTS");
      const failure = this.context.objectError?.(expression);
      if (failure !== undefined) throw new FieldError(failure, "INTERNAL");
      return (parent.load as (expression: string) => Promise<Value | null>)(expression);
    }
    return parent[fieldName];
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
