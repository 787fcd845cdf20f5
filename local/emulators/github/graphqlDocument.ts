/**
 * A GraphQL query-document parser: enough of the language for clients that read GitHub through aliases, variables,
 * inline fragments and named fragments. Directives and mutations are parsed so that they can be refused by name.
 */

export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

export type ValueNode =
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "null" }
  | { readonly kind: "enum"; readonly value: string }
  | { readonly kind: "list"; readonly values: readonly ValueNode[] }
  | { readonly kind: "object"; readonly fields: ReadonlyMap<string, ValueNode> };

export interface FieldNode {
  readonly kind: "field";
  readonly alias?: string;
  readonly name: string;
  readonly arguments: ReadonlyMap<string, ValueNode>;
  readonly directives: readonly string[];
  readonly selections?: readonly SelectionNode[];
  readonly loc: SourceLocation;
}

export interface InlineFragmentNode {
  readonly kind: "inlineFragment";
  readonly typeCondition?: string;
  readonly directives: readonly string[];
  readonly selections: readonly SelectionNode[];
  readonly loc: SourceLocation;
}

export interface FragmentSpreadNode {
  readonly kind: "fragmentSpread";
  readonly name: string;
  readonly directives: readonly string[];
  readonly loc: SourceLocation;
}

export type SelectionNode = FieldNode | InlineFragmentNode | FragmentSpreadNode;

export interface VariableDefinition {
  readonly name: string;
  /** As written: "String!", "[String!]". */
  readonly type: string;
  readonly defaultValue?: ValueNode;
}

export interface OperationNode {
  readonly operation: "query" | "mutation" | "subscription";
  readonly name?: string;
  readonly variables: readonly VariableDefinition[];
  readonly directives: readonly string[];
  readonly selections: readonly SelectionNode[];
  readonly loc: SourceLocation;
}

export interface FragmentNode {
  readonly name: string;
  readonly typeCondition: string;
  readonly selections: readonly SelectionNode[];
  readonly loc: SourceLocation;
}

export interface DocumentNode {
  readonly operations: readonly OperationNode[];
  readonly fragments: ReadonlyMap<string, FragmentNode>;
}

export class GraphQLSyntaxError extends Error {
  readonly locations: readonly SourceLocation[];
  constructor(message: string, loc: SourceLocation) {
    super(message);
    this.name = "GraphQLSyntaxError";
    this.locations = [loc];
  }
}

type TokenKind = "punct" | "name" | "int" | "float" | "string" | "eof";
interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  readonly loc: SourceLocation;
}

export function parseGraphQL(source: string): DocumentNode {
  const tokens = tokenize(source);
  let at = 0;
  const peek = (): Token => tokens[at]!;
  const next = (): Token => tokens[at++]!;
  const fail = (message: string, token: Token = peek()): never => {
    throw new GraphQLSyntaxError(`Parse error on ${describe(token)}: ${message}`, token.loc);
  };
  const isPunct = (value: string) => peek().kind === "punct" && peek().value === value;
  const isName = (value?: string) => peek().kind === "name" && (value === undefined || peek().value === value);
  const expectPunct = (value: string) => (isPunct(value) ? next() : fail(`expected "${value}"`));
  const expectName = (value?: string) =>
    isName(value) ? next().value : fail(value ? `expected "${value}"` : "expected a name");

  const parseValue = (constant: boolean): ValueNode => {
    const token = peek();
    if (isPunct("$")) {
      if (constant) fail("variables are not allowed here");
      next();
      return { kind: "variable", name: expectName() };
    }
    if (isPunct("[")) {
      next();
      const values: ValueNode[] = [];
      while (!isPunct("]")) values.push(parseValue(constant));
      next();
      return { kind: "list", values };
    }
    if (isPunct("{")) {
      next();
      const fields = new Map<string, ValueNode>();
      while (!isPunct("}")) {
        const name = expectName();
        expectPunct(":");
        fields.set(name, parseValue(constant));
      }
      next();
      return { kind: "object", fields };
    }
    next();
    switch (token.kind) {
      case "string":
        return { kind: "string", value: token.value };
      case "int":
        return { kind: "int", value: Number(token.value) };
      case "float":
        return { kind: "float", value: Number(token.value) };
      case "name":
        if (token.value === "true" || token.value === "false")
          return { kind: "boolean", value: token.value === "true" };
        if (token.value === "null") return { kind: "null" };
        return { kind: "enum", value: token.value };
      default:
        return fail("expected a value", token);
    }
  };

  const parseDirectives = (): string[] => {
    const directives: string[] = [];
    while (isPunct("@")) {
      next();
      directives.push(expectName());
      if (isPunct("(")) parseArguments();
    }
    return directives;
  };

  const parseArguments = (): Map<string, ValueNode> => {
    const args = new Map<string, ValueNode>();
    if (!isPunct("(")) return args;
    next();
    while (!isPunct(")")) {
      const name = expectName();
      expectPunct(":");
      if (args.has(name)) fail(`there can be only one argument named "${name}"`);
      args.set(name, parseValue(false));
    }
    next();
    if (args.size === 0) fail("expected an argument");
    return args;
  };

  const parseSelectionSet = (): SelectionNode[] => {
    expectPunct("{");
    const selections: SelectionNode[] = [];
    while (!isPunct("}")) {
      if (peek().kind === "eof") fail('expected "}"');
      selections.push(parseSelection());
    }
    next();
    if (selections.length === 0) fail("a selection set cannot be empty");
    return selections;
  };

  const parseSelection = (): SelectionNode => {
    const loc = peek().loc;
    if (isPunct("...")) {
      next();
      if (isName("on")) {
        next();
        const typeCondition = expectName();
        const directives = parseDirectives();
        return { kind: "inlineFragment", typeCondition, directives, selections: parseSelectionSet(), loc };
      }
      if (isName()) {
        const name = expectName();
        return { kind: "fragmentSpread", name, directives: parseDirectives(), loc };
      }
      const directives = parseDirectives();
      return { kind: "inlineFragment", directives, selections: parseSelectionSet(), loc };
    }
    const first = expectName();
    let alias: string | undefined;
    let name = first;
    if (isPunct(":")) {
      next();
      alias = first;
      name = expectName();
    }
    const args = parseArguments();
    const directives = parseDirectives();
    const selections = isPunct("{") ? parseSelectionSet() : undefined;
    return {
      kind: "field",
      ...(alias === undefined ? {} : { alias }),
      name,
      arguments: args,
      directives,
      ...(selections ? { selections } : {}),
      loc,
    };
  };

  const parseType = (): string => {
    let type: string;
    if (isPunct("[")) {
      next();
      type = `[${parseType()}]`;
      expectPunct("]");
    } else {
      type = expectName();
    }
    if (isPunct("!")) {
      next();
      type += "!";
    }
    return type;
  };

  const operations: OperationNode[] = [];
  const fragments = new Map<string, FragmentNode>();
  while (peek().kind !== "eof") {
    const loc = peek().loc;
    if (isPunct("{")) {
      operations.push({ operation: "query", variables: [], directives: [], selections: parseSelectionSet(), loc });
      continue;
    }
    if (isName("fragment")) {
      next();
      const name = expectName();
      if (name === "on") fail('a fragment cannot be named "on"');
      expectName("on");
      const typeCondition = expectName();
      parseDirectives();
      if (fragments.has(name)) fail(`there can be only one fragment named "${name}"`);
      fragments.set(name, { name, typeCondition, selections: parseSelectionSet(), loc });
      continue;
    }
    if (isName("query") || isName("mutation") || isName("subscription")) {
      const operation = next().value as OperationNode["operation"];
      const name = isName() ? expectName() : undefined;
      const variables: VariableDefinition[] = [];
      if (isPunct("(")) {
        next();
        while (!isPunct(")")) {
          expectPunct("$");
          const variable = expectName();
          expectPunct(":");
          const type = parseType();
          let defaultValue: ValueNode | undefined;
          if (isPunct("=")) {
            next();
            defaultValue = parseValue(true);
          }
          if (variables.some((existing) => existing.name === variable))
            fail(`there can be only one variable named "$${variable}"`);
          variables.push({ name: variable, type, ...(defaultValue ? { defaultValue } : {}) });
        }
        next();
      }
      const directives = parseDirectives();
      operations.push({
        operation,
        ...(name === undefined ? {} : { name }),
        variables,
        directives,
        selections: parseSelectionSet(),
        loc,
      });
      continue;
    }
    fail("expected a query, a fragment or a selection set");
  }
  if (operations.length === 0)
    throw new GraphQLSyntaxError("The document contains no operation", { line: 1, column: 1 });
  return { operations, fragments };
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  let line = 1;
  let lineStart = 0;
  const loc = (offset: number): SourceLocation => ({ line, column: offset - lineStart + 1 });
  const fail = (message: string, offset: number): never => {
    throw new GraphQLSyntaxError(`Parse error: ${message}`, loc(offset));
  };
  while (at < source.length) {
    const char = source[at]!;
    if (char === "\n" || (char === "\r" && source[at + 1] !== "\n")) {
      at++;
      line++;
      lineStart = at;
      continue;
    }
    // Commas are insignificant in GraphQL, like whitespace; so is the byte-order mark.
    if (char === " " || char === "\t" || char === "," || char === "\r" || char === "\ufeff") {
      at++;
      continue;
    }
    if (char === "#") {
      while (at < source.length && source[at] !== "\n" && source[at] !== "\r") at++;
      continue;
    }
    const start = at;
    if (source.startsWith("...", at)) {
      tokens.push({ kind: "punct", value: "...", loc: loc(start) });
      at += 3;
      continue;
    }
    if ("!$()[]{}:=@|&".includes(char)) {
      tokens.push({ kind: "punct", value: char, loc: loc(start) });
      at++;
      continue;
    }
    if (/[_A-Za-z]/.test(char)) {
      while (at < source.length && /[_0-9A-Za-z]/.test(source[at]!)) at++;
      tokens.push({ kind: "name", value: source.slice(start, at), loc: loc(start) });
      continue;
    }
    if (char === "-" || /[0-9]/.test(char)) {
      const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(at));
      if (!match) fail("invalid number", at);
      const text = match![0];
      if (/[_A-Za-z.]/.test(source[at + text.length] ?? "")) fail("invalid number", at);
      tokens.push({ kind: match![2] || match![3] ? "float" : "int", value: text, loc: loc(start) });
      at += text.length;
      continue;
    }
    if (source.startsWith('"""', at)) {
      const end = source.indexOf('"""', at + 3);
      if (end < 0) fail("unterminated block string", at);
      tokens.push({
        kind: "string",
        value: blockStringValue(source.slice(at + 3, end).replace(/\\"""/g, '"""')),
        loc: loc(start),
      });
      for (let i = at; i < end; i++) {
        if (source[i] === "\n") {
          line++;
          lineStart = i + 1;
        }
      }
      at = end + 3;
      continue;
    }
    if (char === '"') {
      let value = "";
      at++;
      for (;;) {
        const c = source[at];
        if (c === undefined || c === "\n" || c === "\r") fail("unterminated string", start);
        if (c === '"') break;
        if (c === "\\") {
          const escape = source[at + 1];
          const simple: Record<string, string> = {
            '"': '"',
            "\\": "\\",
            "/": "/",
            b: "\b",
            f: "\f",
            n: "\n",
            r: "\r",
            t: "\t",
          };
          if (escape !== undefined && simple[escape] !== undefined) {
            value += simple[escape];
            at += 2;
          } else if (escape === "u" && /^[0-9A-Fa-f]{4}$/.test(source.slice(at + 2, at + 6))) {
            value += String.fromCharCode(parseInt(source.slice(at + 2, at + 6), 16));
            at += 6;
          } else {
            fail("invalid escape sequence in string", at);
          }
          continue;
        }
        value += c;
        at++;
      }
      at++;
      tokens.push({ kind: "string", value, loc: loc(start) });
      continue;
    }
    fail(`unexpected character "${char}"`, at);
  }
  tokens.push({ kind: "eof", value: "", loc: loc(at) });
  return tokens;
}

/** Block strings drop their common indentation and blank first/last lines, as the GraphQL spec says. */
function blockStringValue(raw: string): string {
  const lines = raw.split(/\r\n|\n|\r/);
  const indents = lines
    .slice(1)
    .filter((text) => text.trim())
    .map((text) => text.length - text.trimStart().length);
  const common = indents.length ? Math.min(...indents) : 0;
  const trimmed = lines.map((text, index) => (index === 0 ? text : text.slice(common)));
  while (trimmed.length && !trimmed[0]!.trim()) trimmed.shift();
  while (trimmed.length && !trimmed[trimmed.length - 1]!.trim()) trimmed.pop();
  return trimmed.join("\n");
}

function describe(token: Token): string {
  if (token.kind === "eof") return "end of document";
  return token.kind === "string" ? `string "${token.value}"` : `"${token.value}"`;
}
