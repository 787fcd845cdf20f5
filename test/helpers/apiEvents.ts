import { randomUUID } from "node:crypto";
import fc from "fast-check";
import type { ApiEvent } from "../../runtime/http";

export interface ApiEventOptions {
  /** The JWT `sub`; `null` builds a request with no `sub` claim. Default "user-1". */
  readonly userId?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly pathParameters?: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
}

/**
 * An API Gateway HTTP API event (payload format 2.0) as the JWT authorizer hands it to Lambda: lowercased header
 * names, claims as strings, and the route key API Gateway matched.
 */
export function apiEvent(
  method: "GET" | "POST",
  path: string,
  routePath: string,
  options: ApiEventOptions = {},
): ApiEvent {
  const userId = options.userId === undefined ? "user-1" : options.userId;
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const query = options.queryStringParameters;
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: `${method} ${routePath}`,
    rawPath: path,
    rawQueryString: query ? new URLSearchParams(query).toString() : "",
    headers: { host: "api.example.test", "user-agent": "ava", ...headers },
    ...(query ? { queryStringParameters: query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.test",
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "ava" },
      requestId: randomUUID(),
      routeKey: `${method} ${routePath}`,
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
      authorizer: {
        principalId: "",
        integrationLatency: 0,
        jwt: {
          claims:
            userId === null
              ? { iss: "https://issuer.example.test" }
              : { sub: userId, iss: "https://issuer.example.test" },
          scopes: null,
        },
      },
    },
  };
}

/** POST /deployments with a JSON body (an object is serialized; a string is sent as is). */
export function postDeploymentEvent(
  body: unknown,
  options: Omit<ApiEventOptions, "body"> & { idempotencyKey?: string } = {},
): ApiEvent {
  const { idempotencyKey, ...rest } = options;
  return apiEvent("POST", "/deployments", "/deployments", {
    ...rest,
    headers: {
      "content-type": "application/json",
      ...(idempotencyKey !== undefined ? { "idempotency-key": idempotencyKey } : {}),
      ...rest.headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** GET /deployments/{id} */
export function getDeploymentEvent(id: string, options: ApiEventOptions = {}): ApiEvent {
  return apiEvent("GET", `/deployments/${encodeURIComponent(id)}`, "/deployments/{id}", {
    ...options,
    pathParameters: { id },
  });
}

/** GET /deployments?limit=&cursor= */
export function listDeploymentsEvent(query: Record<string, string> = {}, options: ApiEventOptions = {}): ApiEvent {
  return apiEvent("GET", "/deployments", "/deployments", {
    ...options,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
  });
}

/** The parsed JSON body of a handler's response. */
export function responseJson<T = Record<string, unknown>>(result: { body?: string }): T {
  return JSON.parse(result.body ?? "null") as T;
}

/*
 * POST /deployments bodies for property tests: valid requests (with the normalised request each must become) and
 * mutations that each break exactly one thing, tagged with the field the 400 must name.
 */

const alnum = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);

/** Owners as GitHub allows them: alphanumeric runs joined by single hyphens, at most 39 characters. */
export const validOwner = fc
  .array(alnum, { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join("-"))
  .filter((owner) => owner.length <= 39);

export const validName = fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/).filter((name) => name !== "." && name !== "..");

/** Branch and tag names built from pieces git accepts (a component may hold a dot, never at its start). */
const refComponent = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_+,=-]{0,11}$/),
    fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/)),
  )
  .map(([stem, extension]) => (extension ? `${stem}.${extension}` : stem))
  .filter((part) => !part.endsWith(".lock"));

export const validRef = fc.oneof(
  fc.array(refComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/")),
  fc.constantFrom("main", "v1.2.0", "release/2024-05", "feature/ünïcode", "heads@home", "fix_#12"),
  fc.stringMatching(/^[0-9a-fA-F]{40}$/),
);

const directoryComponent = fc
  .stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._ -]{0,10}$/)
  .filter((part) => !part.includes("..") && part.trim() === part);

/** A root directory as a user might type it, and what it normalises to. */
export const validRootDirectory = fc
  .tuple(fc.array(directoryComponent, { minLength: 0, maxLength: 4 }), fc.boolean(), fc.boolean())
  .map(([parts, dotSlash, trailingSlash]) => ({
    input: `${dotSlash ? "./" : ""}${parts.join("/")}${trailingSlash && parts.length > 0 ? "/" : ""}` || ".",
    normalised: parts.join("/"),
  }));

export interface ValidDeploymentRequest {
  /** The JSON object to send. */
  readonly body: Record<string, string>;
  /** What validateDeploymentRequest must return for it. */
  readonly expected: { repository: string; ref?: string; rootDirectory?: string };
}

export const validDeploymentRequest: fc.Arbitrary<ValidDeploymentRequest> = fc
  .record(
    { owner: validOwner, name: validName, ref: validRef, root: validRootDirectory },
    { requiredKeys: ["owner", "name"] },
  )
  .map(({ owner, name, ref, root }) => {
    const repository = `${owner}/${name}`;
    const body: Record<string, string> = { repository };
    const expected: { repository: string; ref?: string; rootDirectory?: string } = { repository };
    if (ref !== undefined) body.ref = expected.ref = ref;
    if (root !== undefined) {
      body.rootDirectory = root.input;
      expected.rootDirectory = root.normalised;
    }
    return { body, expected };
  });

export interface InvalidDeploymentRequest {
  /** The raw body to send. */
  readonly body: string;
  /** The field the 400 must name. */
  readonly field: string;
  /** What was broken, for failure messages. */
  readonly mutation: string;
}

const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

/** One way to break a field: what is wrong, and the value that is wrong in that way. */
interface Broken {
  readonly what: string;
  readonly value: unknown;
}
const broken =
  <T>(what: string, make: (input: T) => unknown) =>
  (input: T): Broken => ({ what, value: make(input) });

/**
 * Text JSON can carry that is not Unicode, or is what invalid UTF-8 decodes to: a lone surrogate (high or low, at any
 * position) and U+FFFD, the replacement character.
 */
function brokenText(valid: fc.Arbitrary<string>): fc.Arbitrary<Broken>[] {
  const at = (text: string, n: number, inserted: string) => {
    const i = n % (text.length + 1);
    return `${text.slice(0, i)}${inserted}${text.slice(i)}`;
  };
  return [
    fc
      .tuple(valid, fc.nat(), fc.integer({ min: 0xd800, max: 0xdfff }))
      .map(broken("lone surrogate", ([text, n, unit]) => at(text, n, String.fromCharCode(unit)))),
    fc.tuple(valid, fc.nat()).map(broken("U+FFFD", ([text, n]) => at(text, n, "\uFFFD"))),
  ];
}

/** Invalid repositories, each with what is wrong. */
const badRepository: fc.Arbitrary<Broken> = fc.oneof(
  validOwner.map(broken("no slash", (o) => o)),
  fc.tuple(validOwner, validName, validName).map(broken("two slashes", ([o, a, b]) => `${o}/${a}/${b}`)),
  fc.tuple(validOwner, validName).map(broken("owner starts with -", ([o, n]) => `-${o}/${n}`)),
  fc.tuple(validOwner, validName).map(broken("owner ends with -", ([o, n]) => `${o}-/${n}`)),
  fc.tuple(alnum, alnum, validName).map(broken("double hyphen", ([a, b, n]) => `${a}--${b}/${n}`)),
  validName.map(broken("owner too long", (n) => `${"a".repeat(40)}/${n}`)),
  fc
    .tuple(validOwner, fc.constantFrom("_", ".", "é", " ", "+"))
    .map(broken("owner bad char", ([o, c]) => `${o}${c}x/shop`)),
  fc
    .tuple(validOwner, validName, fc.constantFrom(" ", "!", "é", "#", "%", "\\", ":", "\n"))
    .map(broken("name bad char", ([o, n, c]) => `${o}/${n}${c}`)),
  fc.tuple(validOwner, fc.constantFrom(".", "..", "")).map(broken("name . or .. or empty", ([o, n]) => `${o}/${n}`)),
  validOwner.map(broken("name too long", (o) => `${o}/${"n".repeat(101)}`)),
  fc.constant({ what: "empty", value: "" }),
  notAString.map(broken("not a string", (v) => v)),
);

/** Invalid refs: one per git check-ref-format rule, plus ours. */
const badRef: fc.Arbitrary<Broken> = fc.oneof(
  fc.tuple(validRef, validRef).map(broken("..", ([a, b]) => `${a}..${b}`)),
  fc
    .tuple(
      validRef,
      fc.constantFrom(" ", "\t", "\n", "\u0000", "\u001f", "\u007f", "~", "^", ":", "?", "*", "[", "\\"),
      validRef,
    )
    .map(broken("forbidden character", ([a, c, b]) => `${a}${c}${b}`)),
  validRef.map(broken("leading -", (r) => `-${r}`)),
  validRef.map(broken("leading /", (r) => `/${r}`)),
  validRef.map(broken("trailing /", (r) => `${r}/`)),
  validRef.map(broken("trailing .", (r) => `${r}.`)),
  fc.tuple(validRef, validRef).map(broken("//", ([a, b]) => `${a}//${b}`)),
  fc.tuple(validRef, validRef).map(broken("@{", ([a, b]) => `${a}@{${b}`)),
  fc.constant({ what: "@", value: "@" }),
  fc.tuple(validRef, refComponent).map(broken("component starts with .", ([a, c]) => `${a}/.${c}`)),
  validRef.map(broken(".lock suffix", (r) => `${r}.lock`)),
  fc.tuple(validRef, refComponent).map(broken("component ends with .lock", ([a, c]) => `${c}.lock/${a}`)),
  fc.constant({ what: "too long", value: "r".repeat(256) }),
  fc.constant({ what: "empty", value: "" }),
  notAString.map(broken("not a string", (v) => v)),
  ...brokenText(validRef),
);

const badRootDirectory: fc.Arbitrary<Broken> = fc.oneof(
  validRootDirectory.map(broken("absolute", (r) => `/${r.normalised}`)),
  fc.tuple(directoryComponent, directoryComponent).map(broken("backslash", ([a, b]) => `${a}\\${b}`)),
  fc.tuple(directoryComponent, fc.constantFrom("..", "../", "/..", "x..y")).map(broken("..", ([a, d]) => `${a}/${d}`)),
  fc.constant({ what: "too long", value: "a/".repeat(128) }),
  fc
    .tuple(directoryComponent, fc.constantFrom("\n", "\u0000", "\u007f"))
    .map(broken("control character", ([a, c]) => `${a}${c}`)),
  notAString.map(broken("not a string", (v) => v)),
  ...brokenText(validRootDirectory.map((r) => r.normalised || "app")),
);

const knownFields = new Set(["repository", "ref", "rootDirectory"]);

/** A valid request broken in exactly one way. */
export const invalidDeploymentRequest: fc.Arbitrary<InvalidDeploymentRequest> = fc.oneof(
  ...(
    [
      ["repository", badRepository],
      ["ref", badRef],
      ["rootDirectory", badRootDirectory],
    ] as const
  ).map(([field, bad]) =>
    fc.tuple(validDeploymentRequest, bad).map(([valid, { what, value }]) => ({
      body: JSON.stringify({ ...valid.body, [field]: value }),
      field,
      mutation: `${field}: ${what} ${JSON.stringify(value)}`,
    })),
  ),
  fc
    .tuple(
      validDeploymentRequest,
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !knownFields.has(k)),
      fc.jsonValue(),
    )
    .map(([valid, key, value]) => ({
      body: JSON.stringify({ ...valid.body, [key]: value }),
      field: key,
      mutation: `unknown field ${JSON.stringify(key)}`,
    })),
  validDeploymentRequest.map((valid) => {
    const rest = Object.fromEntries(Object.entries(valid.body).filter(([field]) => field !== "repository"));
    return { body: JSON.stringify(rest), field: "repository", mutation: "repository missing" };
  }),
  fc.tuple(validDeploymentRequest, fc.nat()).map(([valid, n]) => {
    const json = JSON.stringify(valid.body);
    return { body: json.slice(0, n % json.length), field: "body", mutation: "truncated JSON" };
  }),
  validDeploymentRequest.map((valid) => ({ body: JSON.stringify([valid.body]), field: "body", mutation: "array" })),
  fc
    .jsonValue()
    .filter((v) => typeof v !== "object" || v === null)
    .map((v) => ({
      body: JSON.stringify(v),
      field: "body",
      mutation: "not an object",
    })),
  validDeploymentRequest.map((valid) => ({
    body: " ".repeat(4096) + JSON.stringify(valid.body),
    field: "body",
    mutation: "over 4 KiB (padding only)",
  })),
);
