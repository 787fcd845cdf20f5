import test from "ava";
import fc from "fast-check";
import { PENDING_INSERTS_FILTER } from "../components/repoInspector";
import {
  compileFilterCriteria,
  FilterPatternError,
  matchesFilterCriteria,
} from "../local/platform/eventSources/eventFilter";

const matches = (record: unknown, pattern: unknown): boolean =>
  matchesFilterCriteria(record, { filters: [{ pattern: JSON.stringify(pattern) }] });

// ---- AWS's documented cases -----------------------------------------------------------------------------------

/** Lambda's table of comparison operators (Lambda developer guide, "Filter rule syntax"), each both ways. */
const lambdaOperatorCases: readonly [string, unknown, unknown, boolean][] = [
  ["Null: UserID is null", { UserID: null }, { UserID: [null] }, true],
  ["Null: a string is not null", { UserID: "u-1" }, { UserID: [null] }, false],
  ["Null: an absent field is not null", {}, { UserID: [null] }, false],
  ["Empty: LastName is empty", { LastName: "" }, { LastName: [""] }, true],
  ["Empty: a name is not empty", { LastName: "Doe" }, { LastName: [""] }, false],
  ["Equals: Name is Alice", { Name: "Alice" }, { Name: ["Alice"] }, true],
  ["Equals is case-sensitive", { Name: "alice" }, { Name: ["Alice"] }, false],
  ["Equals (ignore case)", { Name: "ALICE" }, { Name: [{ "equals-ignore-case": "alice" }] }, true],
  [
    "And: both fields match",
    { Location: "New York", Day: "Monday" },
    { Location: ["New York"], Day: ["Monday"] },
    true,
  ],
  [
    "And: one field differs",
    { Location: "New York", Day: "Tuesday" },
    { Location: ["New York"], Day: ["Monday"] },
    false,
  ],
  ["And: one field absent", { Location: "New York" }, { Location: ["New York"], Day: ["Monday"] }, false],
  ["Or: Credit or Debit", { PaymentType: "Debit" }, { PaymentType: ["Credit", "Debit"] }, true],
  ["Or: neither", { PaymentType: "Cash" }, { PaymentType: ["Credit", "Debit"] }, false],
  [
    "Or (multiple fields): second alternative",
    { Day: "Monday" },
    { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] },
    true,
  ],
  ["Or (multiple fields): none", { Day: "Friday" }, { $or: [{ Location: ["New York"] }, { Day: ["Monday"] }] }, false],
  ["Not: anything but Raining", { Weather: "Sunny" }, { Weather: [{ "anything-but": ["Raining"] }] }, true],
  ["Not: Raining is excluded", { Weather: "Raining" }, { Weather: [{ "anything-but": ["Raining"] }] }, false],
  ["Not: an absent field matches nothing", {}, { Weather: [{ "anything-but": ["Raining"] }] }, false],
  ["Numeric (equals)", { Price: 100 }, { Price: [{ numeric: ["=", 100] }] }, true],
  ["Numeric (equals) never matches a string", { Price: "100" }, { Price: [{ numeric: ["=", 100] }] }, false],
  ["Numeric (range): 10 is not > 10", { Price: 10 }, { Price: [{ numeric: [">", 10, "<=", 20] }] }, false],
  ["Numeric (range): 10.5", { Price: 10.5 }, { Price: [{ numeric: [">", 10, "<=", 20] }] }, true],
  ["Numeric (range): 20 is <= 20", { Price: 20 }, { Price: [{ numeric: [">", 10, "<=", 20] }] }, true],
  ["Numeric (range): 20.1", { Price: 20.1 }, { Price: [{ numeric: [">", 10, "<=", 20] }] }, false],
  ["Exists", { ProductName: "Widget" }, { ProductName: [{ exists: true }] }, true],
  ["Exists: absent", {}, { ProductName: [{ exists: true }] }, false],
  ["Does not exist", {}, { ProductName: [{ exists: false }] }, true],
  ["Does not exist: present", { ProductName: "Widget" }, { ProductName: [{ exists: false }] }, false],
  ["Begins with", { Region: "us-east-1" }, { Region: [{ prefix: "us-" }] }, true],
  ["Begins with: other region", { Region: "eu-west-1" }, { Region: [{ prefix: "us-" }] }, false],
  ["Ends with", { FileName: "photo.png" }, { FileName: [{ suffix: ".png" }] }, true],
  ["Ends with: other extension", { FileName: "photo.jpg" }, { FileName: [{ suffix: ".png" }] }, false],
];

/** A DynamoDB stream record as Lambda delivers it (the Lambda guide's "Using event filtering with DynamoDB"). */
const customerRecord = {
  eventID: "1",
  eventName: "INSERT",
  eventVersion: "1.1",
  eventSource: "aws:dynamodb",
  awsRegion: "us-east-1",
  dynamodb: {
    ApproximateCreationDateTime: 1678831218,
    Keys: { CustomerName: { S: "AnyCompany Industries" } },
    NewImage: {
      AccountManager: { S: "Pat Candella" },
      PaymentTerms: { S: "60 days" },
      CustomerName: { S: "AnyCompany Industries" },
      OrderCount: { N: "101" },
      Active: { BOOL: true },
    },
    SequenceNumber: "111",
    SizeBytes: 26,
    StreamViewType: "NEW_IMAGE",
  },
};

const dynamodbCases: readonly [string, unknown, boolean][] = [
  ["filter on a key", { dynamodb: { Keys: { CustomerName: { S: ["AnyCompany Industries"] } } } }, true],
  ["filter on a key: another customer", { dynamodb: { Keys: { CustomerName: { S: ["Example Corp"] } } } }, false],
  ["filter on an attribute", { dynamodb: { NewImage: { AccountManager: { S: ["Pat Candella"] } } } }, true],
  [
    "two attributes (AND)",
    { dynamodb: { NewImage: { AccountManager: { S: ["Pat Candella"] }, PaymentTerms: { S: ["30 days"] } } } },
    false,
  ],
  [
    "event name and attribute",
    { eventName: ["INSERT"], dynamodb: { NewImage: { PaymentTerms: { S: ["60 days"] } } } },
    true,
  ],
  ["MODIFY only", { eventName: ["MODIFY"] }, false],
  ["a BOOL attribute", { dynamodb: { NewImage: { Active: { BOOL: [true] } } } }, true],
  ["a number is a string in DynamoDB JSON", { dynamodb: { NewImage: { OrderCount: { N: ["101"] } } } }, true],
  ["…so the number 101 does not match it", { dynamodb: { NewImage: { OrderCount: { N: [101] } } } }, false],
  ["…nor does a numeric range", { dynamodb: { NewImage: { OrderCount: { N: [{ numeric: [">", 100] }] } } } }, false],
  [
    "exists on the attribute's type key",
    { dynamodb: { NewImage: { AccountManager: { S: [{ exists: true }] } } } },
    true,
  ],
  [
    "exists on the attribute itself fails: it is not a leaf",
    { dynamodb: { NewImage: { AccountManager: [{ exists: true }] } } },
    false,
  ],
  ["an absent attribute", { dynamodb: { NewImage: { Discount: { N: [{ exists: false }] } } } }, true],
  ["prefix on a string attribute", { dynamodb: { NewImage: { PaymentTerms: { S: [{ prefix: "60" }] } } } }, true],
];

/** Event Ruler's README event and rules (minus cidr). */
const ec2Event = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: { "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.33", state: "running" },
};

const rulerCases: readonly [string, unknown, boolean][] = [
  [
    "simple matching, an array in the event",
    {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      detail: { state: ["initializing", "running"] },
    },
    true,
  ],
  ["prefix", { time: [{ prefix: "2017-10-02" }] }, true],
  ["suffix", { source: [{ suffix: "ec2" }] }, true],
  ["equals-ignore-case", { source: [{ "equals-ignore-case": "AWS.EC2" }] }, true],
  ["prefix ignoring case", { source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, true],
  ["wildcard", { source: [{ wildcard: "aws.*" }] }, true],
  ["wildcard that does not match", { source: [{ wildcard: "*.s3" }] }, false],
  ["anything-but a string", { detail: { state: [{ "anything-but": "initializing" }] } }, true],
  ["anything-but a number", { detail: { "x-limit": [{ "anything-but": 123 }] } }, true],
  ["anything-but a list of strings", { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, true],
  ["anything-but a list naming the value", { detail: { state: [{ "anything-but": ["stopped", "running"] }] } }, false],
  ["anything-but numbers", { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, true],
  ["anything-but a prefix", { detail: { state: [{ "anything-but": { prefix: "init" } }] } }, true],
  ["anything-but a prefix it has", { detail: { state: [{ "anything-but": { prefix: "run" } }] } }, false],
  ["anything-but a suffix it has", { detail: { state: [{ "anything-but": { suffix: "ing" } }] } }, false],
  [
    "anything-but ignoring case",
    { detail: { state: [{ "anything-but": { "equals-ignore-case": ["RUNNING"] } }] } },
    false,
  ],
  [
    "numeric matching",
    {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    },
    true,
  ],
  ["exists", { detail: { "c-count": [{ exists: true }] } }, true],
  ["does not exist", { detail: { "c-count": [{ exists: false }] } }, false],
  [
    "complex example",
    {
      time: [{ prefix: "2017-10-02" }],
      detail: {
        state: [{ "anything-but": "initializing" }],
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ "anything-but": [100, 200, 300] }],
      },
    },
    true,
  ],
  [
    "$or with an AND inside",
    { source: ["aws.ec2"], $or: [{ region: ["eu-west-1"] }, { account: ["012345679012"], id: [{ prefix: "ddd" }] }] },
    true,
  ],
  ["$or nested under a field", { detail: { $or: [{ state: ["stopped"] }, { "c-count": [5] }] } }, true],
  ["$or where no alternative matches", { detail: { $or: [{ state: ["stopped"] }, { "c-count": [6] }] } }, false],
];

const employees = {
  employees: [
    { firstName: "John", lastName: "Doe" },
    { firstName: "Anna", lastName: "Smith" },
    { firstName: "Peter", lastName: "Jones" },
  ],
};

for (const [title, record, pattern, expected] of lambdaOperatorCases) {
  test(`Lambda operator — ${title}`, (t) => t.is(matches(record, pattern), expected));
}

for (const [title, pattern, expected] of dynamodbCases) {
  test(`DynamoDB record — ${title}`, (t) => t.is(matches(customerRecord, pattern), expected));
}

for (const [title, pattern, expected] of rulerCases) {
  test(`Event Ruler — ${title}`, (t) => t.is(matches(ec2Event, pattern), expected));
}

test("arrays of objects match when one element matches the whole sub-pattern (array-consistent)", (t) => {
  t.true(matches(employees, { employees: { firstName: ["Anna"] } }));
  t.true(matches(employees, { employees: { firstName: ["Anna"], lastName: ["Smith"] } }));
  t.false(matches(employees, { employees: { firstName: ["Anna"], lastName: ["Jones"] } }));
  t.true(
    matches(
      { employees: [[{ firstName: "Anna" }], [{ firstName: "Peter" }]] },
      { employees: { firstName: ["Peter"] } },
    ),
  );
});

test("the repo inspector's filter passes only pending inserts", (t) => {
  const record = (eventName: string, status: string) => ({
    ...customerRecord,
    eventName,
    dynamodb: { ...customerRecord.dynamodb, NewImage: { id: { S: "d-1" }, status: { S: status } } },
  });
  t.true(matches(record("INSERT", "PENDING"), PENDING_INSERTS_FILTER));
  t.false(matches(record("MODIFY", "PENDING"), PENDING_INSERTS_FILTER));
  t.false(matches(record("INSERT", "PROCESSING"), PENDING_INSERTS_FILTER));
  t.false(
    matches(
      { ...customerRecord, eventName: "REMOVE", dynamodb: { Keys: { id: { S: "d-1" } } } },
      PENDING_INSERTS_FILTER,
    ),
  );
});

test("no criteria, or no filters, let everything through; several filters are ORed", (t) => {
  t.true(matchesFilterCriteria({ anything: 1 }));
  t.true(matchesFilterCriteria({ anything: 1 }, {}));
  t.true(matchesFilterCriteria({ anything: 1 }, { filters: [] }));
  const criteria = {
    filters: [{ pattern: JSON.stringify({ a: ["x"] }) }, { pattern: JSON.stringify({ b: [{ prefix: "y" }] }) }],
  };
  t.true(matchesFilterCriteria({ a: "x" }, criteria));
  t.true(matchesFilterCriteria({ b: "yes" }, criteria));
  t.false(matchesFilterCriteria({ a: "y", b: "no" }, criteria));
});

// ---- invalid patterns -----------------------------------------------------------------------------------------

const invalidPatterns: readonly [string, RegExp][] = [
  ["{not json", /not valid JSON/],
  ["[]", /must be a JSON object/],
  ["{}", /empty objects are not allowed/],
  [JSON.stringify({ a: "x" }), /^Filter #1 is invalid: "a" must be an object or an array/],
  [JSON.stringify({ a: { b: 1 } }), /at a: "b" must be an object or an array/],
  [JSON.stringify({ a: [] }), /at a: empty arrays are not allowed/],
  [JSON.stringify({ a: [["nested"]] }), /must be a string, number, true, false, null or an operator object/],
  [JSON.stringify({ a: [{ prefix: 1 }] }), /"prefix" must be a string/],
  [JSON.stringify({ a: [{ startsWith: "x" }] }), /unrecognized operator "startsWith"/],
  [JSON.stringify({ a: [{ prefix: "x", suffix: "y" }] }), /exactly one key/],
  [JSON.stringify({ a: [{}] }), /exactly one key/],
  [JSON.stringify({ a: [{ numeric: [">", "x"] }] }), /must be a number/],
  [JSON.stringify({ a: [{ numeric: ["<", 5, ">", 1] }] }), /is not one of/],
  [JSON.stringify({ a: [{ numeric: [">", 5, "<", 1] }] }), /lower bound 5 must be less than the upper bound 1/],
  [JSON.stringify({ a: [{ numeric: ["!=", 5] }] }), /is not one of/],
  [JSON.stringify({ a: [{ numeric: 5 }] }), /takes an array/],
  [JSON.stringify({ a: [{ "anything-but": ["x", 1] }] }), /all strings or all numbers/],
  [JSON.stringify({ a: [{ "anything-but": [] }] }), /all strings or all numbers/],
  [JSON.stringify({ a: [{ "anything-but": { prefix: "" } }] }), /must not be empty/],
  [JSON.stringify({ a: [{ "anything-but": { numeric: [">", 1] } }] }), /unsupported "anything-but" operator "numeric"/],
  [JSON.stringify({ a: [{ "anything-but": null }] }), /"anything-but" takes/],
  [JSON.stringify({ a: [{ exists: "yes" }] }), /"exists" must be true or false/],
  [JSON.stringify({ a: [{ wildcard: "a**b" }] }), /consecutive \* are not allowed/],
  [JSON.stringify({ a: [{ wildcard: "a\\b" }] }), /may only escape/],
  [JSON.stringify({ $or: [{ a: ["x"] }] }), /"\$or" must be an array of at least two objects/],
  [
    JSON.stringify({ $or: [{ prefix: ["x"] }, { a: ["y"] }] }),
    /"prefix" is an operator and cannot be a field name inside "\$or"/,
  ],
  [JSON.stringify({ a: [{ cidr: "10.0.0.0/24" }] }), /"cidr" is not supported/],
];

for (const [pattern, message] of invalidPatterns) {
  test(`invalid pattern ${pattern} is refused`, (t) => {
    const error = t.throws(() => matchesFilterCriteria({}, { filters: [{ pattern }] }), {
      instanceOf: FilterPatternError,
    });
    t.regex(error?.message ?? "", message);
    t.regex(error?.message ?? "", /^Filter #1 is invalid: /);
  });
}

test("the error names the filter at fault, and a filter without a pattern is refused", (t) => {
  const good = { pattern: JSON.stringify({ a: ["x"] }) };
  t.throws(() => compileFilterCriteria({ filters: [good, { pattern: "{" }] }), { message: /^Filter #2 is invalid: / });
  t.throws(() => compileFilterCriteria({ filters: [good, {}] }), { message: /^Filter #2 has no pattern/ });
});

// ---- properties -----------------------------------------------------------------------------------------------

const leaf = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.string({ minLength: 1, maxLength: 6 }).filter((name) => name !== "$or" && name !== "__proto__");
type Tree = { [name: string]: Tree | string | number | boolean | null };
const { tree } = fc.letrec<{ tree: Tree; node: Tree | string | number | boolean | null }>((tie) => ({
  tree: fc.dictionary(key, tie("node"), { minKeys: 1, maxKeys: 4 }),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("tree")),
}));

/** The pattern that asks for exactly the record's values: every leaf v becomes [v]. */
function selfPattern(record: Tree): unknown {
  const pattern: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value !== null && typeof value === "object") {
      const child = selfPattern(value) as object;
      if (Object.keys(child).length > 0) pattern[name] = child;
    } else pattern[name] = [value];
  }
  return pattern;
}

function leafPaths(record: Tree, prefix: string[] = []): string[][] {
  return Object.entries(record).flatMap(([name, value]) =>
    value !== null && typeof value === "object" ? leafPaths(value, [...prefix, name]) : [[...prefix, name]],
  );
}

function nest(path: readonly string[], inner: unknown): unknown {
  return path.reduceRight<unknown>((acc, name) => ({ [name]: acc }), inner);
}

test("property: a record matches the pattern of its own values, whatever else it holds", (t) => {
  fc.assert(
    fc.property(tree, tree, (record, extra) => {
      const pattern = selfPattern(record);
      fc.pre(Object.keys(pattern as object).length > 0);
      t.true(matches(record, pattern));
      t.true(matches({ ...extra, ...record }, pattern)); // fields the pattern does not name are ignored
    }),
  );
});

test("property: changing one value the pattern names breaks the match", (t) => {
  fc.assert(
    fc.property(tree, fc.nat(), leaf, (record, pick, replacement) => {
      const paths = leafPaths(record);
      const path = paths[pick % paths.length]!;
      const original = path.reduce<unknown>((value, name) => (value as Tree)[name], record);
      fc.pre(replacement !== original);
      const changed = structuredClone(record);
      const parent = path.slice(0, -1).reduce<Tree>((value, name) => value[name] as Tree, changed);
      parent[path.at(-1)!] = replacement;
      t.false(matches(changed, selfPattern(record)));
    }),
  );
});

test("property: exists true and exists false disagree on every record and path", (t) => {
  fc.assert(
    fc.property(tree, fc.array(key, { minLength: 1, maxLength: 3 }), (record, path) => {
      t.not(matches(record, nest(path, [{ exists: true }])), matches(record, nest(path, [{ exists: false }])));
    }),
  );
});

test("property: anything-but is the complement of equals for a single value", (t) => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (value, other) => {
      t.not(matches({ a: value }, { a: [other] }), matches({ a: value }, { a: [{ "anything-but": other }] }));
      t.not(matches({ a: value }, { a: [other] }), matches({ a: value }, { a: [{ "anything-but": [other] }] }));
    }),
  );
});

test("property: prefix, suffix, equals-ignore-case and wildcard agree with string operations", (t) => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (value, text) => {
      t.is(matches({ a: value }, { a: [{ prefix: text }] }), value.startsWith(text));
      t.is(matches({ a: value }, { a: [{ suffix: text }] }), value.endsWith(text));
      t.is(matches({ a: value }, { a: [{ "equals-ignore-case": text }] }), value.toLowerCase() === text.toLowerCase());
      t.true(
        matches({ a: value.toUpperCase() }, { a: [{ "equals-ignore-case": value.toLowerCase() }] }) ||
          value.toUpperCase().toLowerCase() !== value.toLowerCase(),
      );
      const escaped = text.replace(/[\\*]/g, "\\$&");
      t.is(matches({ a: value }, { a: [{ wildcard: escaped }] }), value === text); // no * is an exact match
      t.true(
        matches(
          { a: `${text}-middle-${value}` },
          { a: [{ wildcard: `${escaped}*${value.replace(/[\\*]/g, "\\$&")}` }] },
        ),
      );
    }),
  );
});

test("property: numeric ranges agree with comparisons, and never match strings", (t) => {
  const number = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });
  fc.assert(
    fc.property(number, number, number, (value, x, y) => {
      const [low, high] = x < y ? [x, y] : [y, x];
      t.is(matches({ a: value }, { a: [{ numeric: [">", low] }] }), value > low);
      t.is(matches({ a: value }, { a: [{ numeric: ["<=", high] }] }), value <= high);
      t.is(matches({ a: value }, { a: [{ numeric: ["=", x] }] }), value === x);
      if (low < high) {
        t.is(matches({ a: value }, { a: [{ numeric: [">=", low, "<", high] }] }), value >= low && value < high);
      }
      t.false(matches({ a: String(value) }, { a: [{ numeric: [">=", -1e10] }] }));
    }),
  );
});

test("property: an array value matches when any of its elements does", (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 5 }))),
      fc.string({ maxLength: 3 }),
      (values, wanted) => {
        t.is(matches({ a: values }, { a: [wanted] }), values.includes(wanted));
        t.is(matches({ a: values }, { a: [{ exists: true }] }), values.length > 0);
      },
    ),
  );
});

test("property: several filters match exactly when one of them does", (t) => {
  const pattern = fc.oneof(
    fc.record({ a: fc.constant([{ prefix: "x" }]) }),
    fc.record({ b: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ a: fc.constant([{ exists: false }]) }),
  );
  const record = fc.record({ a: fc.string({ maxLength: 3 }), b: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: [] });
  fc.assert(
    fc.property(fc.array(pattern, { minLength: 1, maxLength: 4 }), record, (patterns, value) => {
      const each = patterns.map((p) => matches(value, p));
      const all = matchesFilterCriteria(value, { filters: patterns.map((p) => ({ pattern: JSON.stringify(p) })) });
      t.is(all, each.some(Boolean));
    }),
  );
});
