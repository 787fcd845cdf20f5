/**
 * Lambda event filtering: an event source mapping's `FilterCriteria` decides which records reach the function.
 * Patterns use EventBridge's syntax (AWS's Event Ruler), matched against the record as Lambda would send it:
 *
 * - every field named in a pattern must match (AND); a list of values matches if any value does (OR);
 * - values: exact strings, numbers, booleans and null; `prefix`, `suffix`, `equals-ignore-case`, `wildcard`;
 *   `anything-but` (a value, a list, or a prefix/suffix/equals-ignore-case/wildcard); `numeric` ranges; `exists`;
 * - `$or` with two or more alternatives at any level;
 * - where the record holds an array, the pattern matches if any element does (for objects in an array, one element
 *   must match the whole sub-pattern, as Event Ruler's array-consistent matching does).
 *
 * Types are strict: `{"N": ["101"]}` matches the DynamoDB string "101", never the number 101, and `numeric` only
 * matches JSON numbers, so a DynamoDB `N` (a string) never passes a numeric filter, exactly as on AWS. `exists` only
 * sees leaves: an object is not a value, so `exists: true` fails on it and `exists: false` passes.
 *
 * Invalid patterns throw a FilterPatternError naming the filter, the field and the fault (AWS refuses them when the
 * mapping is created). `cidr` is not supported here and is refused with a message saying so.
 */

export interface FilterCriteria {
  readonly filters?: readonly { readonly pattern?: string }[];
}

export class FilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterPatternError";
  }
}

type Leaf = string | number | boolean | null;
/** True if any of the value's leaves (the scalars at a field, arrays flattened) satisfies the operator. */
type ValueMatcher = (leaves: readonly Leaf[]) => boolean;

interface FieldsPattern {
  readonly fields: readonly (readonly [string, PatternNode])[];
  /** Each `$or` at this level: at least one alternative must match the same object. */
  readonly alternatives: readonly (readonly FieldsPattern[])[];
}

type PatternNode =
  | { readonly kind: "fields"; readonly pattern: FieldsPattern }
  | { readonly kind: "values"; readonly matchers: readonly ValueMatcher[] };

export type RecordFilter = (record: unknown) => boolean;

const compiled = new Map<string, FieldsPattern>();

/** Whether `record` passes the criteria: true without criteria (or with no filters), else if ANY filter matches. */
export function matchesFilterCriteria(record: unknown, filterCriteria?: FilterCriteria): boolean {
  return compileFilterCriteria(filterCriteria)(record);
}

/** Compiles the criteria once (throwing on any invalid pattern) into a predicate the mappings call per record. */
export function compileFilterCriteria(filterCriteria?: FilterCriteria): RecordFilter {
  const filters = filterCriteria?.filters ?? [];
  if (filters.length === 0) return () => true;
  const patterns = filters.map((filter, index) => {
    if (typeof filter?.pattern !== "string") {
      throw new FilterPatternError(`Filter #${index + 1} has no pattern: give it a JSON pattern string.`);
    }
    try {
      return compilePattern(filter.pattern);
    } catch (error) {
      if (error instanceof FilterPatternError) {
        throw new FilterPatternError(`Filter #${index + 1} is invalid: ${error.message}`);
      }
      throw error;
    }
  });
  return (record) => patterns.some((pattern) => matchFields(pattern, record));
}

/** Parses and checks one pattern (a JSON string), cached: mappings filter every record with the same few patterns. */
function compilePattern(source: string): FieldsPattern {
  const cached = compiled.get(source);
  if (cached) return cached;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new FilterPatternError(`the pattern is not valid JSON (${(error as Error).message}).`);
  }
  if (!isObject(parsed))
    throw new FilterPatternError('the pattern must be a JSON object, e.g. {"eventName": ["INSERT"]}.');
  const pattern = compileFields(parsed, [], false);
  compiled.set(source, pattern);
  return pattern;
}

// ---- matching -------------------------------------------------------------------------------------------------

function matchFields(pattern: FieldsPattern, value: unknown): boolean {
  if (Array.isArray(value)) {
    const elements = value.flat(Infinity) as unknown[];
    // An empty array holds no fields at all: match as if the field were absent (only `exists: false` can pass).
    if (elements.length === 0) return matchFields(pattern, undefined);
    return elements.some((element) => matchFields(pattern, element));
  }
  const object = isObject(value) ? value : undefined;
  for (const [name, node] of pattern.fields) {
    const child = object && Object.prototype.hasOwnProperty.call(object, name) ? object[name] : undefined;
    if (!matchNode(node, child)) return false;
  }
  return pattern.alternatives.every((alternatives) =>
    alternatives.some((alternative) => matchFields(alternative, value)),
  );
}

function matchNode(node: PatternNode, value: unknown): boolean {
  if (node.kind === "fields") return matchFields(node.pattern, value);
  const leaves = leavesOf(value);
  return node.matchers.some((matcher) => matcher(leaves));
}

function leavesOf(value: unknown): Leaf[] {
  if (value === undefined) return [];
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return [value];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  return []; // an object is not a leaf
}

// ---- compiling ------------------------------------------------------------------------------------------------

function compileFields(object: Record<string, unknown>, path: readonly string[], insideOr: boolean): FieldsPattern {
  const entries = Object.entries(object);
  if (entries.length === 0) throw invalid(path, "empty objects are not allowed.");
  const fields: (readonly [string, PatternNode])[] = [];
  const alternatives: FieldsPattern[][] = [];
  for (const [name, value] of entries) {
    if (name === "$or") {
      alternatives.push(compileOr(value, path));
      continue;
    }
    if (insideOr && RESERVED_IN_OR.includes(name)) {
      throw invalid(path, `"${name}" is an operator and cannot be a field name inside "$or".`);
    }
    const fieldPath = [...path, name];
    if (Array.isArray(value)) fields.push([name, { kind: "values", matchers: compileValues(value, fieldPath) }]);
    else if (isObject(value))
      fields.push([name, { kind: "fields", pattern: compileFields(value, fieldPath, insideOr) }]);
    else {
      throw invalid(
        path,
        `"${name}" must be an object or an array (values are always listed: "${name}": [${JSON.stringify(value)}]).`,
      );
    }
  }
  return { fields, alternatives };
}

const RESERVED_IN_OR = [
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "numeric",
  "exists",
  "cidr",
];

function compileOr(value: unknown, path: readonly string[]): FieldsPattern[] {
  if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
    throw invalid(path, '"$or" must be an array of at least two objects.');
  }
  return value.map((alternative) => compileFields(alternative, path, true));
}

function compileValues(values: readonly unknown[], path: readonly string[]): ValueMatcher[] {
  if (values.length === 0) throw invalid(path, "empty arrays are not allowed.");
  return values.map((value) => {
    if (isLeaf(value)) return exactMatcher(value);
    if (isObject(value)) return compileOperator(value, path);
    throw invalid(path, "a value must be a string, number, true, false, null or an operator object.");
  });
}

/**
 * Operator objects by name: the data the compiler dispatches on. Each entry checks its argument and returns the
 * matcher (or throws a FilterPatternError).
 */
const OPERATORS: Readonly<Record<string, (argument: unknown, path: readonly string[]) => ValueMatcher>> = {
  prefix: (argument, path) => stringTest(argument, path, "prefix", (leaf, text) => leaf.startsWith(text)),
  suffix: (argument, path) => stringTest(argument, path, "suffix", (leaf, text) => leaf.endsWith(text)),
  "equals-ignore-case": (argument, path) => {
    const text = requireString(argument, path, "equals-ignore-case");
    return (leaves) => leaves.some((leaf) => typeof leaf === "string" && foldCase(leaf) === foldCase(text));
  },
  wildcard: (argument, path) => {
    const regex = wildcardRegex(requireString(argument, path, "wildcard"), path);
    return (leaves) => leaves.some((leaf) => typeof leaf === "string" && regex.test(leaf));
  },
  "anything-but": (argument, path) => {
    const excluded = anythingButExclusion(argument, path);
    // Matches a field that has some value outside the exclusion; an absent field matches nothing.
    return (leaves) => leaves.some((leaf) => !excluded(leaf));
  },
  numeric: (argument, path) => {
    const inRange = numericRange(argument, path);
    return (leaves) => leaves.some((leaf) => typeof leaf === "number" && inRange(leaf));
  },
  exists: (argument, path) => {
    if (typeof argument !== "boolean") throw invalid(path, '"exists" must be true or false.');
    return argument ? (leaves) => leaves.length > 0 : (leaves) => leaves.length === 0;
  },
  cidr: (_argument, path) => {
    throw invalid(
      path,
      '"cidr" is not supported by the local event filter (Lambda filters rarely use it): filter on the address as a string instead.',
    );
  },
};

function compileOperator(object: Record<string, unknown>, path: readonly string[]): ValueMatcher {
  const keys = Object.keys(object);
  if (keys.length !== 1) {
    throw invalid(
      path,
      `an operator object has exactly one key (one of ${Object.keys(OPERATORS).join(", ")}); got ${keys.length}.`,
    );
  }
  const name = keys[0]!;
  const operator = OPERATORS[name];
  if (!operator) throw invalid(path, `unrecognized operator "${name}" (known: ${Object.keys(OPERATORS).join(", ")}).`);
  return operator(object[name], path);
}

function exactMatcher(expected: Leaf): ValueMatcher {
  return (leaves) => leaves.some((leaf) => leaf === expected);
}

/** prefix/suffix take a string, or `{ "equals-ignore-case": string }` to compare without case. */
function stringTest(
  argument: unknown,
  path: readonly string[],
  name: string,
  test: (leaf: string, text: string) => boolean,
): ValueMatcher {
  if (isObject(argument)) {
    const keys = Object.keys(argument);
    if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
      throw invalid(path, `"${name}" takes a string or { "equals-ignore-case": string }.`);
    }
    const text = foldCase(requireString(argument["equals-ignore-case"], path, `${name}/equals-ignore-case`));
    return (leaves) => leaves.some((leaf) => typeof leaf === "string" && test(foldCase(leaf), text));
  }
  const text = requireString(argument, path, name);
  return (leaves) => leaves.some((leaf) => typeof leaf === "string" && test(leaf, text));
}

/** What `anything-but` excludes, as a predicate on one leaf. */
function anythingButExclusion(argument: unknown, path: readonly string[]): (leaf: Leaf) => boolean {
  if (typeof argument === "string" || isFiniteNumber(argument)) return (leaf) => leaf === argument;
  if (Array.isArray(argument)) {
    const allStrings = argument.length > 0 && argument.every((value) => typeof value === "string");
    const allNumbers = argument.length > 0 && argument.every(isFiniteNumber);
    if (!allStrings && !allNumbers) {
      throw invalid(path, '"anything-but" lists must be non-empty and all strings or all numbers.');
    }
    const values: readonly unknown[] = argument;
    return (leaf) => values.includes(leaf);
  }
  if (isObject(argument)) {
    const keys = Object.keys(argument);
    const name = keys[0];
    if (keys.length !== 1 || name === undefined) throw invalid(path, '"anything-but" takes one operator object.');
    const inner = argument[name];
    switch (name) {
      case "prefix": {
        const text = nonEmptyString(inner, path, "anything-but/prefix");
        return (leaf) => typeof leaf === "string" && leaf.startsWith(text);
      }
      case "suffix": {
        const text = nonEmptyString(inner, path, "anything-but/suffix");
        return (leaf) => typeof leaf === "string" && leaf.endsWith(text);
      }
      case "equals-ignore-case": {
        const texts = stringOrStrings(inner, path, "anything-but/equals-ignore-case").map(foldCase);
        return (leaf) => typeof leaf === "string" && texts.includes(foldCase(leaf));
      }
      case "wildcard": {
        const regexes = stringOrStrings(inner, path, "anything-but/wildcard").map((text) => wildcardRegex(text, path));
        return (leaf) => typeof leaf === "string" && regexes.some((regex) => regex.test(leaf));
      }
      default:
        throw invalid(
          path,
          `unsupported "anything-but" operator "${name}" (prefix, suffix, equals-ignore-case or wildcard).`,
        );
    }
  }
  throw invalid(path, '"anything-but" takes a string, a number, a list of either, or an operator object.');
}

/** ["=", n] | [">"|">=", n] | ["<"|"<=", n] | [">"|">=", low, "<"|"<=", high], low < high: Event Ruler's forms. */
function numericRange(argument: unknown, path: readonly string[]): (value: number) => boolean {
  if (!Array.isArray(argument)) throw invalid(path, '"numeric" takes an array such as [">", 0, "<=", 5].');
  const [operator, bound, upperOperator, upperBound, ...rest] = argument as unknown[];
  const need = (value: unknown, what: string): number => {
    if (!isFiniteNumber(value)) throw invalid(path, `"numeric": the value after "${what}" must be a number.`);
    return value;
  };
  if (operator === "=" && argument.length === 2) {
    const value = need(bound, "=");
    return (leaf) => leaf === value;
  }
  if ((operator === "<" || operator === "<=") && argument.length === 2) {
    const top = need(bound, operator);
    return operator === "<" ? (leaf) => leaf < top : (leaf) => leaf <= top;
  }
  if (
    (operator === ">" || operator === ">=") &&
    (argument.length === 2 || argument.length === 4) &&
    rest.length === 0
  ) {
    const bottom = need(bound, operator);
    const above = operator === ">" ? (leaf: number) => leaf > bottom : (leaf: number) => leaf >= bottom;
    if (argument.length === 2) return above;
    if (upperOperator !== "<" && upperOperator !== "<=") {
      throw invalid(
        path,
        `"numeric": a range is [">"|">=", low, "<"|"<=", high]; got ${JSON.stringify(upperOperator)} as the upper operator.`,
      );
    }
    const top = need(upperBound, upperOperator);
    if (!(bottom < top))
      throw invalid(path, `"numeric": the lower bound ${bottom} must be less than the upper bound ${top}.`);
    return upperOperator === "<" ? (leaf) => above(leaf) && leaf < top : (leaf) => above(leaf) && leaf <= top;
  }
  throw invalid(
    path,
    `"numeric" ${JSON.stringify(argument)} is not one of ["=", n], [">"|">="|"<"|"<=", n], [">"|">=", low, "<"|"<=", high].`,
  );
}

/** Event Ruler's wildcard: `*` matches any run of characters; `\*` is a literal star, `\\` a backslash; no `**`. */
function wildcardRegex(text: string, path: readonly string[]): RegExp {
  let source = "";
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (character === "\\") {
      const next = text[index + 1];
      if (next !== "*" && next !== "\\")
        throw invalid(path, `"wildcard" ${JSON.stringify(text)}: a backslash may only escape * or \\.`);
      source += escapeRegex(next);
      index++;
    } else if (character === "*") {
      if (text[index + 1] === "*")
        throw invalid(path, `"wildcard" ${JSON.stringify(text)}: consecutive * are not allowed.`);
      source += "[\\s\\S]*";
    } else source += escapeRegex(character);
  }
  return new RegExp(`^${source}$`);
}

// ---- helpers --------------------------------------------------------------------------------------------------

function invalid(path: readonly string[], message: string): FilterPatternError {
  return new FilterPatternError(path.length > 0 ? `at ${path.join(".")}: ${message}` : message);
}

function requireString(value: unknown, path: readonly string[], name: string): string {
  if (typeof value !== "string") throw invalid(path, `"${name}" must be a string.`);
  return value;
}

function nonEmptyString(value: unknown, path: readonly string[], name: string): string {
  const text = requireString(value, path, name);
  if (text === "") throw invalid(path, `"${name}" must not be empty.`);
  return text;
}

function stringOrStrings(value: unknown, path: readonly string[], name: string): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string"))
    return value as string[];
  throw invalid(path, `"${name}" must be a string or a non-empty list of strings.`);
}

/** Case folding for equals-ignore-case, character by character as Event Ruler does (so "ß" is not "ss"). */
function foldCase(text: string): string {
  return text.toLowerCase();
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === "string" || typeof value === "boolean" || isFiniteNumber(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
