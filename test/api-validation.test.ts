import test from "ava";
import fc from "fast-check";
import { brokenRefRule, isCommitSha, isGitRefName } from "../runtime/api/gitRefName";
import { readIdempotencyKey } from "../runtime/api/idempotencyKey";
import { parseLimit } from "../runtime/api/listDeployments";
import { toDeploymentSummary, toPublicDeployment } from "../runtime/api/publicDeployment";
import { isRepositoryName } from "../runtime/api/repositoryName";
import { requestFingerprint } from "../runtime/api/requestFingerprint";
import { normaliseRootDirectory } from "../runtime/api/rootDirectory";
import { MAX_BODY_BYTES, validateDeploymentRequest } from "../runtime/api/validateDeploymentRequest";
import { PUBLIC_FIELDS, type Deployment } from "../runtime/deployment";
import { isValidationError } from "../runtime/errors";
import { invalidDeploymentRequest, validDeploymentRequest } from "./helpers/apiEvents";

const JSON_HEADERS = { "content-type": "application/json" };

/** The ValidationError's field, or a description of what happened instead. */
function refusedField(run: () => unknown): string {
  try {
    const result = run();
    return `accepted: ${JSON.stringify(result)}`;
  } catch (error) {
    return isValidationError(error) ? error.field : `threw a non-validation error: ${String(error)}`;
  }
}

test("property: every valid request is accepted and normalised", (t) => {
  fc.assert(
    fc.property(validDeploymentRequest, ({ body, expected }) => {
      const json = JSON.stringify(body);
      const plain = validateDeploymentRequest(json, false, JSON_HEADERS);
      const base64 = validateDeploymentRequest(Buffer.from(json).toString("base64"), true, JSON_HEADERS);
      return JSON.stringify(plain) === JSON.stringify(expected) && JSON.stringify(base64) === JSON.stringify(expected);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("property: every mutation of a valid request is refused, naming the broken field", (t) => {
  fc.assert(
    fc.property(invalidDeploymentRequest, ({ body, field, mutation }) => {
      const refused = refusedField(() => validateDeploymentRequest(body, false, JSON_HEADERS));
      if (refused !== field) throw new Error(`${mutation}: expected a 400 on ${field}, got ${refused}`);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test("property: the fingerprint ignores field order and spelling of the same folder, and sees every real difference", (t) => {
  fc.assert(
    fc.property(validDeploymentRequest, validDeploymentRequest, (a, b) => {
      const reordered = Object.fromEntries(Object.entries(a.body).reverse());
      const fa = requestFingerprint(validateDeploymentRequest(JSON.stringify(a.body), false, undefined));
      const fr = requestFingerprint(validateDeploymentRequest(JSON.stringify(reordered), false, undefined));
      const fb = requestFingerprint(validateDeploymentRequest(JSON.stringify(b.body), false, undefined));
      const same = JSON.stringify(a.expected) === JSON.stringify(b.expected);
      return fa === fr && (fa === fb) === same;
    }),
  );
  t.pass();
});

test("examples from the brief: each refused with the field and a fix", (t) => {
  const cases: [string | undefined, string, RegExp][] = [
    [undefined, "body", /empty/],
    ["", "body", /empty/],
    ["{", "body", /not valid JSON/],
    ["[]", "body", /JSON object/],
    ['"acme/shop"', "body", /JSON object/],
    ["null", "body", /JSON object/],
    ["{}", "repository", /required/],
    ['{"repository": 5}', "repository", /must be a string/],
    ['{"repository": "acme"}', "repository", /owner\/name, e\.g\. acme\/shop/],
    ['{"repository": "acme/shop", "branch": "main"}', "branch", /unknown field "branch"/],
    ['{"repository": "acme/shop", "ref": "a..b"}', "ref", /contains `\.\.`/],
    ['{"repository": "acme/shop", "ref": "x.lock"}', "ref", /\.lock/],
    ['{"repository": "acme/shop", "ref": "-rf"}', "ref", /starts with -/],
    ['{"repository": "acme/shop", "rootDirectory": "/etc"}', "rootDirectory", /relative/],
    ['{"repository": "acme/shop", "rootDirectory": "a/../../b"}', "rootDirectory", /\.\./],
    ['{"repository": "acme/shop", "rootDirectory": "a\\\\b"}', "rootDirectory", /use \//],
    [`{"repository": "acme/shop", "ref": "${"x".repeat(MAX_BODY_BYTES)}"}`, "body", /larger than 4096 bytes/],
  ];
  for (const [body, field, message] of cases) {
    const error = t.throws(() => validateDeploymentRequest(body, false, JSON_HEADERS), undefined, String(body));
    t.true(isValidationError(error));
    t.is((error as { field?: string }).field, field, String(body));
    t.regex(error?.message ?? "", message, String(body));
  }
});

test("the body limit is on bytes, before and after base64", (t) => {
  const fits = JSON.stringify({ repository: "acme/shop" }).padEnd(MAX_BODY_BYTES, " ");
  t.is(Buffer.byteLength(fits), MAX_BODY_BYTES);
  t.is(validateDeploymentRequest(fits, false, undefined).repository, "acme/shop");
  t.is(validateDeploymentRequest(Buffer.from(fits).toString("base64"), true, undefined).repository, "acme/shop");
  // One more byte, as a two-byte character: 4095 characters but 4097 bytes.
  const over = JSON.stringify({ repository: "acme/shop" }).padEnd(MAX_BODY_BYTES - 2, " ") + "é";
  t.is(
    refusedField(() => validateDeploymentRequest(over, false, undefined)),
    "body",
  );
  t.is(
    refusedField(() => validateDeploymentRequest(Buffer.from(fits + " ").toString("base64"), true, undefined)),
    "body",
  );
});

test("a base64 body that is not UTF-8 is refused rather than mangled", (t) => {
  const latin1 = Buffer.from('{"repository": "acme/caf\xe9"}', "latin1").toString("base64");
  t.is(
    refusedField(() => validateDeploymentRequest(latin1, true, undefined)),
    "body",
  );
});

test("content-type: JSON types (with parameters) or none are accepted; others are refused", (t) => {
  const body = JSON.stringify({ repository: "acme/shop" });
  for (const type of [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/vnd.api+json",
  ]) {
    t.is(validateDeploymentRequest(body, false, { "content-type": type }).repository, "acme/shop", type);
  }
  t.is(validateDeploymentRequest(body, false, {}).repository, "acme/shop");
  t.is(validateDeploymentRequest(body, false, { "Content-Type": "application/json" }).repository, "acme/shop");
  for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
    t.is(
      refusedField(() => validateDeploymentRequest(body, false, { "content-type": type })),
      "content-type",
      type,
    );
  }
});

test("repository names follow GitHub's rules", (t) => {
  for (const ok of [
    "a/b",
    "acme/shop",
    "a-b-c/x.y_z-1",
    `${"a".repeat(39)}/${"b".repeat(100)}`,
    "A1/.github",
    "o/...",
  ]) {
    t.true(isRepositoryName(ok), ok);
  }
  for (const bad of [
    "",
    "/",
    "a/",
    "/b",
    "a/b/c",
    "-a/b",
    "a-/b",
    "a--b/c",
    `${"a".repeat(40)}/b`,
    `a/${"b".repeat(101)}`,
    "a/.",
    "a/..",
    "a b/c",
    "a/b c",
    "a_b/c",
    "ä/b",
  ]) {
    t.false(isRepositoryName(bad), bad);
  }
});

test("git ref names follow check-ref-format (one-level allowed)", (t) => {
  for (const ok of ["main", "v1.0", "feature/x", "a/b/c", "@home", "x@y", "ü", "a.b.c", "a".repeat(255)]) {
    t.true(isGitRefName(ok), ok);
  }
  const refused: [string, RegExp][] = [
    ["", /empty/],
    ["a".repeat(256), /longer than 255/],
    ["a..b", /\.\./],
    ["a b", /space/],
    ["a\u0001b", /control/],
    ["a~1", /~/],
    ["a^", /\^/],
    ["a:b", /:/],
    ["a?", /\?/],
    ["a*", /\*/],
    ["a[b", /\[/],
    ["a\\b", /\\/],
    ["-a", /starts with -/],
    ["/a", /starts with - or \//],
    ["a/", /ends with \//],
    ["a.", /ends with \//],
    ["a//b", /\/\//],
    ["a@{1}", /@\{/],
    ["@", /is @/],
    [".a", /starts with \./],
    ["a/.b", /starts with \./],
    ["a.lock", /\.lock/],
    ["a.lock/b", /\.lock/],
  ];
  for (const [ref, rule] of refused) t.regex(brokenRefRule(ref) ?? "accepted", rule, JSON.stringify(ref));
  t.true(isCommitSha("0123456789abcdef0123456789ABCDEF01234567"));
  t.false(isCommitSha("0123456789abcdef"));
  t.false(isCommitSha("g".repeat(40)));
});

test("root directories normalise to a plain relative path", (t) => {
  const cases: [string, string][] = [
    [".", ""],
    ["./", ""],
    ["", ""],
    ["./a/b/", "a/b"],
    ["a//b", "a/b"],
    ["a/./b", "a/b"],
    ["apps/web", "apps/web"],
    ["my app/x.y", "my app/x.y"],
  ];
  for (const [input, expected] of cases) t.is(normaliseRootDirectory(input), expected, input);
  t.throws(() => normaliseRootDirectory("a".repeat(256)), { message: /at most 255/ });
});

test("Idempotency-Key: absent is fine; 1–255 printable ASCII is kept; anything else is a 400 on idempotency-key", (t) => {
  t.is(readIdempotencyKey({}), undefined);
  t.is(readIdempotencyKey(undefined), undefined);
  t.is(readIdempotencyKey({ "idempotency-key": "k" }), "k");
  t.is(readIdempotencyKey({ "Idempotency-Key": "a b~" }), "a b~");
  t.is(readIdempotencyKey({ "idempotency-key": "x".repeat(255) }), "x".repeat(255));
  for (const bad of ["", "x".repeat(256), "é", "a\nb", "tab\t", "\u007f"]) {
    t.is(
      refusedField(() => readIdempotencyKey({ "idempotency-key": bad })),
      "idempotency-key",
      JSON.stringify(bad),
    );
  }
});

test("limit: default 20; whole numbers 1–100; anything else is a 400 on limit", (t) => {
  t.is(parseLimit(undefined), 20);
  t.is(parseLimit("1"), 1);
  t.is(parseLimit("100"), 100);
  t.is(parseLimit("007"), 7);
  for (const bad of ["", "0", "101", "-1", "1.5", "1e2", " 5", "5,6", "abc", "0x10", "1000"]) {
    t.is(
      refusedField(() => parseLimit(bad)),
      "limit",
      JSON.stringify(bad),
    );
  }
});

test("public deployments carry exactly the public fields that are set", (t) => {
  const full: Required<Deployment> = {
    id: "id",
    userId: "secret-user",
    repository: "acme/shop",
    ref: "main",
    commitSha: "a".repeat(40),
    status: "BUILDING",
    statusReason: { code: "C", message: "M" },
    framework: "nextjs",
    builder: "node",
    rootDirectory: "",
    rootDirectoryRequested: true,
    buildId: "b",
    trigger: "push",
    projectId: "p",
    createdAt: "2030-01-01T00:00:00.000Z",
    updatedAt: "2030-01-01T00:00:00.000Z",
    attempts: 2,
    buildRequestedAt: "2030-01-01T00:00:00.000Z",
    lastError: { code: "E", message: "boom" },
    notBefore: "2030-01-01T00:01:00.000Z",
    phase: "BUILD",
    image: { uri: "r@sha256:0", digest: "sha256:0" },
    logsUrl: "https://console.aws.amazon.com/cloudwatch/home",
    finishedAt: "2030-01-01T00:00:00.000Z",
    cancelRequestedAt: "2030-01-01T00:00:00.000Z",
    buildRequest: { projectName: "p", sourceLocation: "b/k", environment: {} },
    phaseRank: 6,
    phaseAt: "2030-01-01T00:00:00.000Z",
    activeStatus: "BUILDING",
    activeAt: "2030-01-01T00:00:00.000Z",
    queuedUserId: "secret-user",
    history: [
      { status: "PENDING", at: "2030-01-01T00:00:00.000Z" },
      { status: "PROCESSING", at: "2030-01-01T00:00:01.000Z" },
      { status: "BUILDING", at: "2030-01-01T00:00:02.000Z" },
    ],
  };
  t.deepEqual(Object.keys(toPublicDeployment(full)).sort(), [...PUBLIC_FIELDS].sort());
  t.deepEqual(toPublicDeployment(full).history, full.history, "GET /deployments/{id} shows the history as stored");
  t.deepEqual(
    Object.keys(toPublicDeployment({ ...full, ref: undefined, buildId: undefined })).sort(),
    PUBLIC_FIELDS.filter((f) => f !== "ref" && f !== "buildId").sort(),
  );
  // A deployment stored before the history was kept has none, and shows none.
  t.false("history" in toPublicDeployment({ ...full, history: undefined }));
  // The list's items leave it out: everything else public stays.
  t.deepEqual(Object.keys(toDeploymentSummary(full)).sort(), PUBLIC_FIELDS.filter((f) => f !== "history").sort());
});
