/**
 * One `POST /graphql` body run against githubGraphqlSchema by the reference implementation (`graphql`'s parse,
 * validate and execute), its errors worded and shaped as GitHub's GraphQL API (graphql-ruby) sends them. GitHub's
 * shapes, as seen in its answers:
 * - a syntax error: `{"message":"Parse error on \")\" (RPAREN) at [25, 23]","locations":[…]}` (pyvec/python.cz#417,
 *   ocurrent/ocurrent#395); at the end of the document `{"message":"Unexpected end of document","locations":[]}`
 *   (phip1611/gitlab-timelogs#38, ropensci/ghql#25);
 * - a validation error: HTTP 200, no `data`, `{"path":["query","repository","pullRequest","viewerCanEditFiles"],
 *   "extensions":{"code":"undefinedField","typeName":"PullRequest","fieldName":"viewerCanEditFiles"},"locations":[…],
 *   "message":"Field 'viewerCanEditFiles' doesn't exist on type 'PullRequest'"}` (refined-github/refined-github#6946);
 *   the other rules' wording ("doesn't accept argument", "is declared by … but not used") as in
 *   raycast/extensions#29995 (GitLab, which runs the same graphql-ruby);
 * - a field error: `data` with that field null, `{"type":"NOT_FOUND","path":["repository","pullRequest"],
 *   "locations":[…],"message":"Could not resolve to a PullRequest with the number of 999."}` (octokit/graphql.js#314).
 * Timeouts, RESOURCE_LIMITS_EXCEEDED and spent budgets are whole-request answers: see the fault helpers in ../github.ts.
 */
import {
  execute,
  GraphQLError,
  Kind,
  Lexer,
  parse,
  print,
  Source,
  TokenKind,
  validate,
  visit,
  type ASTNode,
  type DocumentNode,
  type OperationDefinitionNode,
} from "graphql";
import { githubGraphqlSchema, type GitHubGraphqlContext } from "./githubGraphqlSchema";

/** One entry of a GraphQL response's `errors`, shaped like GitHub's. */
export interface GitHubGraphqlError {
  readonly type?: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Readonly<Record<string, unknown>>;
  readonly locations?: readonly { line: number; column: number }[];
  readonly message: string;
}

export interface GitHubGraphqlResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GitHubGraphqlError[];
}

/**
 * A query's document, or the errors that stop it before execution: a pure function of the query's text and the
 * (fixed) schema, so the answers for the last few queries are kept. Clients send the same few queries again and
 * again, and parsing and validating them was the emulator's largest cost per GraphQL request. Execution, variables
 * and every rate limit still happen per request.
 */
const checkedDocuments = new Map<string, { document: DocumentNode } | { errors: GitHubGraphqlError[] }>();
const DOCUMENTS_KEPT = 64;

function checkedDocument(query: string): { document: DocumentNode } | { errors: GitHubGraphqlError[] } {
  const kept = checkedDocuments.get(query);
  if (kept) return kept;
  let checked: { document: DocumentNode } | { errors: GitHubGraphqlError[] };
  try {
    const document = parse(new Source(query));
    const invalid = validate(githubGraphqlSchema, document);
    checked = invalid.length > 0 ? { errors: invalid.map((error) => asGitHubError(error, document)) } : { document };
  } catch (error) {
    checked = { errors: [parseError(query, error as GraphQLError)] };
  }
  checkedDocuments.set(query, checked);
  if (checkedDocuments.size > DOCUMENTS_KEPT) checkedDocuments.delete(checkedDocuments.keys().next().value!);
  return checked;
}

/** Parses, validates and runs one GraphQL request body (`{ query, variables, operationName }`). */
export async function executeGitHubGraphql(
  body: unknown,
  context: GitHubGraphqlContext,
): Promise<GitHubGraphqlResponse> {
  const request = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof request.query !== "string" || !request.query.trim()) {
    return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  }
  const checked = checkedDocument(request.query);
  if ("errors" in checked) return { errors: checked.errors };
  const { document } = checked;
  const variables =
    typeof request.variables === "object" && request.variables !== null
      ? (request.variables as Record<string, unknown>)
      : undefined;
  const result = await execute({
    schema: githubGraphqlSchema,
    document,
    variableValues: variables,
    operationName: typeof request.operationName === "string" ? request.operationName : undefined,
    contextValue: context,
  });
  const errors = result.errors?.map((error) => asGitHubError(error, document, variables));
  // Errors met before execution starts (variables, the operation to run) come without `data`, as GitHub's do.
  if (!("data" in result) || result.data === undefined) return { errors: errors ?? [] };
  return errors ? { data: result.data, errors } : { data: result.data };
}

/** graphql-ruby's names for the tokens graphql-js reports (its lexer's token names). */
const TOKEN_NAMES: Readonly<Record<string, string>> = {
  [TokenKind.BANG]: "BANG",
  [TokenKind.DOLLAR]: "VAR_SIGN",
  [TokenKind.AMP]: "AMP",
  [TokenKind.PAREN_L]: "LPAREN",
  [TokenKind.PAREN_R]: "RPAREN",
  [TokenKind.SPREAD]: "ELLIPSIS",
  [TokenKind.COLON]: "COLON",
  [TokenKind.EQUALS]: "EQUALS",
  [TokenKind.AT]: "DIR_SIGN",
  [TokenKind.BRACKET_L]: "LBRACKET",
  [TokenKind.BRACKET_R]: "RBRACKET",
  [TokenKind.BRACE_L]: "LCURLY",
  [TokenKind.PIPE]: "PIPE",
  [TokenKind.BRACE_R]: "RCURLY",
  [TokenKind.NAME]: "IDENTIFIER",
  [TokenKind.INT]: "INT",
  [TokenKind.FLOAT]: "FLOAT",
  [TokenKind.STRING]: "STRING",
  [TokenKind.BLOCK_STRING]: "STRING",
};

/** graphql's syntax error, in GitHub's words: the token it stopped at, by graphql-ruby's name for it. */
function parseError(query: string, error: GraphQLError): GitHubGraphqlError {
  const at = error.locations?.[0];
  const position = error.positions?.[0];
  if (!at || position === undefined) return { message: `Parse error: ${error.message}` };
  const token = tokenAt(query, position);
  if (!token) return { message: "Unexpected end of document", locations: [] };
  const text = JSON.stringify(query.slice(token.start, token.end));
  return {
    message: `Parse error on ${text} (${TOKEN_NAMES[token.kind] ?? "error"}) at [${at.line}, ${at.column}]`,
    locations: [at],
  };
}

/** The token starting at `position`; undefined at the end of the document. A character no token starts with: itself. */
function tokenAt(query: string, position: number): { kind: string; start: number; end: number } | undefined {
  const lexer = new Lexer(new Source(query));
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (token.start >= position) return { kind: token.kind, start: token.start, end: token.end };
    }
  } catch {
    return position < query.length ? { kind: "error", start: position, end: position + 1 } : undefined;
  }
  return undefined;
}

interface Rewording {
  readonly pattern: RegExp;
  /** GitHub's message and extensions from the match, the operation's name and its declared variable types. */
  readonly github: (
    match: RegExpMatchArray,
    operation: { label: string; variableType: (name: string) => string; value: (name: string) => unknown },
  ) => { message: string; extensions?: Record<string, unknown> };
  /** Whether GitHub gives the error the static path of the node it is about. */
  readonly withPath?: boolean;
}

/**
 * graphql-js's validation and coercion messages, reworded as graphql-ruby words them. Unlisted messages pass through
 * in graphql-js's words: they still fail the query as GitHub would, only the sentence differs.
 */
const REWORDINGS: readonly Rewording[] = [
  {
    pattern: /^Cannot query field "(\w+)" on type "(\w+)"\./,
    github: ([, fieldName, typeName]) => ({
      message: `Field '${fieldName}' doesn't exist on type '${typeName}'`,
      extensions: { code: "undefinedField", typeName, fieldName },
    }),
    withPath: true,
  },
  {
    pattern: /^Unknown argument "(\w+)" on field "\w+\.(\w+)"\./,
    github: ([, argumentName, name]) => ({
      message: `Field '${name}' doesn't accept argument '${argumentName}'`,
      extensions: { code: "argumentNotAccepted", name, typeName: "Field", argumentName },
    }),
    withPath: true,
  },
  {
    pattern: /^Field "(\w+)" argument "(\w+)" of type ".+" is required, but it was not provided\./,
    github: ([, name, argument]) => ({
      message: `Field '${name}' is missing required arguments: ${argument}`,
      extensions: { code: "missingRequiredArguments", className: "Field", name, arguments: argument },
    }),
    withPath: true,
  },
  {
    pattern: /^Field "(\w+)" must not have a selection since type "(.+)" has no subfields\./,
    github: ([, name, type]) => ({
      message: `Selections can't be made on scalars (field '${name}' returns ${type})`,
      extensions: { code: "selectionMismatch", nodeName: `field '${name}'`, typeName: type },
    }),
    withPath: true,
  },
  {
    pattern: /^Field "(\w+)" of type "(.+)" must have a selection of subfields\./,
    github: ([, name, type]) => ({
      message: `Field must have selections (field '${name}' returns ${type} but has no selections. Did you mean '${name} { ... }'?)`,
      extensions: { code: "selectionMismatch", nodeName: `field '${name}'`, typeName: type },
    }),
    withPath: true,
  },
  {
    pattern: /^Variable "\$(\w+)" is not defined/,
    github: ([, variableName], operation) => ({
      message: `Variable $${variableName} is used by ${operation.label} but not declared`,
      extensions: { code: "variableNotDefined", variableName },
    }),
    withPath: true,
  },
  {
    pattern: /^Variable "\$(\w+)" is never used/,
    github: ([, variableName], operation) => ({
      message: `Variable $${variableName} is declared by ${operation.label} but not used`,
      extensions: { code: "variableNotUsed", variableName },
    }),
  },
  {
    pattern:
      /^Variable "\$(\w+)" (?:of required type ".+" was not provided|of non-null type ".+" must not be null|got invalid value .*?; (.*))\.?$/s,
    github: ([, variableName, explanation], operation) => ({
      message: `Variable $${variableName} of type ${operation.variableType(variableName!)} was provided invalid value`,
      extensions: {
        value: operation.value(variableName!),
        problems: [{ path: [], explanation: explanation ?? "Expected value to not be null" }],
      },
    }),
  },
  {
    pattern: /^Schema is not configured to execute (\w+) operation\./,
    github: ([, kind]) => ({ message: `Schema is not configured for ${kind}s (the emulator answers queries only)` }),
  },
];

/** A graphql error as GitHub shapes it: a field error's `type` at the top level, validation errors reworded. */
function asGitHubError(
  error: GraphQLError,
  document: DocumentNode,
  variables: Record<string, unknown> = {},
): GitHubGraphqlError {
  const locations = error.locations ? [...error.locations] : undefined;
  const type = error.extensions.type;
  if (error.path) {
    // Raised while executing: GitHub's field error, its path the response path.
    return {
      ...(typeof type === "string" ? { type } : {}),
      path: error.path,
      ...(locations ? { locations } : {}),
      message: error.message,
    };
  }
  const node = error.nodes?.[0];
  const operation = node ? operationOf(document, node) : undefined;
  const label = operation?.name ? operation.name.value : `anonymous ${operation?.operation ?? "query"}`;
  const variableType = (name: string) => {
    const definition = operation?.variableDefinitions?.find((each) => each.variable.name.value === name);
    return definition ? print(definition.type) : "?";
  };
  for (const rewording of REWORDINGS) {
    const match = error.message.match(rewording.pattern);
    if (!match) continue;
    const github = rewording.github(match, { label, variableType, value: (name) => variables[name] ?? null });
    const path = rewording.withPath && node ? staticPath(document, node) : undefined;
    return {
      ...(path ? { path } : {}),
      ...(github.extensions ? { extensions: github.extensions } : {}),
      ...(locations ? { locations } : {}),
      message: github.message,
    };
  }
  return { ...(locations ? { locations } : {}), message: error.message };
}

function operationOf(document: DocumentNode, node: ASTNode): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const start = node.loc?.start ?? 0;
  return (
    operations.find((operation) => (operation.loc?.start ?? 0) <= start && start <= (operation.loc?.end ?? 0)) ??
    operations[0]
  );
}

/**
 * graphql-ruby's path to a node of the document (or to the innermost field holding it, for an argument or a
 * selection set): the operation ("query" or "query Name"), then each field by alias or name, each inline fragment
 * as "... on Type" and each fragment definition as "fragment Name".
 */
function staticPath(document: DocumentNode, target: ASTNode): string[] | undefined {
  const start = target.loc?.start ?? -1;
  const stack: string[] = [];
  let found: string[] | undefined;
  // Depth first: the last node entered that holds the target is the innermost one.
  const push = (label: string, node: ASTNode) => {
    stack.push(label);
    if (node.loc && node.loc.start <= start && start < node.loc.end) found = [...stack];
  };
  const pop = () => void stack.pop();
  visit(document, {
    OperationDefinition: {
      enter: (node) => push(node.name ? `${node.operation} ${node.name.value}` : node.operation, node),
      leave: pop,
    },
    FragmentDefinition: { enter: (node) => push(`fragment ${node.name.value}`, node), leave: pop },
    InlineFragment: {
      enter: (node) => push(node.typeCondition ? `... on ${node.typeCondition.name.value}` : "...", node),
      leave: pop,
    },
    Field: { enter: (node) => push(node.alias?.value ?? node.name.value, node), leave: pop },
  });
  return found;
}
