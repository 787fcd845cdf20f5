import { execFile } from "node:child_process";
import { createSign, generateKeyPairSync, createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { createDeployHandler, createGetDeploymentHandler } from "../runtime/api/handlers";
import { ENV } from "../runtime/environment";
import { createRouteTable } from "../local/platform/httpApi/routeTable";
import {
  startHttpApi,
  type AccessLogEntry,
  type HttpApiEvent,
  type HttpApiRoute,
  type StartHttpApiOptions,
} from "../local/platform/httpApi/startHttpApi";
import type { InvokeResult } from "../local/platform/lambda/invokeResult";
import { lambdaRuntimeModules } from "../local/platform/lambda/lambdaRuntimeModules";
import { startFunction, type LocalFunction } from "../local/platform/lambda/startFunction";
import {
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
  mintToken,
  startLocalIssuer,
  type IssuerKey,
  type LocalIssuer,
} from "../local/platform/localIssuer";
import type { JwtAuthorizerConfig } from "../local/platform/httpApi/createJwtVerifier";
import { runTokenCommand } from "../scripts/token";
import { LOCAL_AWS, sharedDynamoDbLocal } from "./helpers/dynamodbLocal";
import { createTables } from "./helpers/tables";

/*
 * The local HTTP API: a real server on 127.0.0.1 spoken to over HTTP. Integrations are plain functions here (they
 * stand where Lambda stands), except in the last tests, where they are real local Lambda containers.
 */

const root = mkdtempSync(join(tmpdir(), "slipway-local-http-api-"));
const T0 = 1_700_000_000_000; // 14 Nov 2023 22:13:20 UTC
const projectRoot = resolve(__dirname, "..");

// The local issuer serves its discovery document and JWKS; the authorizer finds the key there.
let issuer: IssuerKey;
let localIssuer: LocalIssuer;
let authorizer: JwtAuthorizerConfig;
test.before(async () => {
  issuer = await loadOrCreateIssuerKey(join(root, "state"));
  localIssuer = await startLocalIssuer({ key: issuer });
  authorizer = {
    issuer: LOCAL_ISSUER,
    audiences: [LOCAL_AUDIENCE, "other-client"],
    fetch: localIssuer.issuerFetch,
  };
});

test.after.always(async () => {
  await localIssuer?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Harness {
  url: string;
  events: HttpApiEvent[];
  log: AccessLogEntry[];
  clock: { now: number };
}

/** Starts an API over `routes` with a frozen clock at T0 (tests move it), recording events and access log lines. */
async function startApi(
  t: { teardown(fn: () => Promise<void>): void },
  routes: { routeKey: string; authorizationType?: "JWT" | "NONE"; answer?: (event: HttpApiEvent) => unknown }[],
  options: Partial<StartHttpApiOptions> = {},
): Promise<Harness> {
  const events: HttpApiEvent[] = [];
  const log: AccessLogEntry[] = [];
  const clock = { now: T0 };
  const api = await startHttpApi({
    routes: routes.map(({ routeKey, authorizationType, answer }): HttpApiRoute => ({
      routeKey,
      ...(authorizationType ? { authorizationType } : {}),
      async invoke(event) {
        events.push(event);
        const value = answer ? await answer(event) : { route: routeKey };
        if (value && typeof value === "object" && "ok" in value) return value as InvokeResult;
        return { ok: true, result: value, durationMs: 1 };
      },
    })),
    authorizer,
    logger: (entry) => log.push(entry),
    clock: () => clock.now,
    ...options,
  });
  t.teardown(() => api.close());
  return { url: api.url, events, log, clock };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: any;
}

/** A raw HTTP request (repeated headers as arrays), so the test controls exactly what goes on the wire. */
function call(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const request = http.request(
      `${url}${path}`,
      { method: init.method ?? "GET", headers: init.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          const text = body.toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          done({ status: response.statusCode ?? 0, headers: response.headers, body, text, json });
        });
      },
    );
    request.on("error", fail);
    request.end(init.body);
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token with any header and claims, signed with `privateKeyPem` (RS256 unless the header says otherwise). */
function signToken(header: object, claims: object, privateKeyPem = issuer.privateKeyPem): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signer = createSign("sha256");
  signer.update(input);
  return `${input}.${signer.sign(privateKeyPem).toString("base64url")}`;
}

const validClaims = (overrides: object = {}) => ({
  iss: LOCAL_ISSUER,
  sub: "alice",
  aud: LOCAL_AUDIENCE,
  iat: T0 / 1000,
  exp: T0 / 1000 + 3600,
  ...overrides,
});

test("routes by method and path template: exact beats templated beats greedy; no route is 404", async (t) => {
  const api = await startApi(t, [
    { routeKey: "GET /deployments/latest" },
    { routeKey: "GET /deployments/{id}" },
    { routeKey: "POST /deployments" },
    { routeKey: "ANY /files/{path+}" },
    { routeKey: "GET /files/{path+}" },
  ]);
  const latest = await call(api.url, "/deployments/latest");
  t.deepEqual(latest.json, { route: "GET /deployments/latest" });
  const byId = await call(api.url, "/deployments/d%2D1%2Fx");
  t.deepEqual(byId.json, { route: "GET /deployments/{id}" });
  t.deepEqual(api.events.at(-1)?.pathParameters, { id: "d-1/x" }, "decoded, and one segment even with %2F in it");
  t.deepEqual((await call(api.url, "/files/a/b/c")).json, { route: "GET /files/{path+}" });
  t.deepEqual(api.events.at(-1)?.pathParameters, { path: "a/b/c" });
  t.deepEqual((await call(api.url, "/files/a", { method: "DELETE" })).json, { route: "ANY /files/{path+}" });

  for (const [method, path] of [
    ["GET", "/deployments/a/b"],
    ["DELETE", "/deployments/x"],
    ["GET", "/deployments/"],
    ["GET", "/nothing"],
  ] as const) {
    const missing = await call(api.url, path, { method });
    t.is(missing.status, 404, `${method} ${path}`);
    t.deepEqual(missing.json, { message: "Not Found" });
    t.regex(String(missing.headers["apigw-requestid"]), /^[A-Za-z0-9+/]{15}=$/);
  }
  t.is(api.events.length, 4, "unmatched requests never reach an integration");
  t.is(api.log.at(-1)?.routeKey, "-");

  t.throws(() => createRouteTable([{ routeKey: "FETCH /x" }]), { message: /must be "<METHOD> \/path"/ });
  t.throws(() => createRouteTable([{ routeKey: "GET /x" }, { routeKey: "GET /x" }]), {
    message: "route GET /x is defined twice",
  });
  t.throws(() => createRouteTable([{ routeKey: "GET /{p+}/x" }]), { message: /must be the last segment/ });
  await t.throwsAsync(
    startHttpApi({
      routes: [
        { routeKey: "GET /x", authorizationType: "JWT", invoke: async () => ({ ok: true, result: 1, durationMs: 0 }) },
      ],
    }),
    {
      message: "routes GET /x use JWT: pass `authorizer` too",
    },
  );
});

test("the integration receives a payload format 2.0 event", async (t) => {
  const api = await startApi(t, [{ routeKey: "POST /deployments/{id}", authorizationType: "JWT" }]);
  const token = signToken(
    { alg: "RS256", kid: issuer.kid },
    validClaims({ groups: ["admin", "dev"], scope: "read write", admin: true }),
  );
  const response = await call(api.url, "/deployments/d-1?a=1&b=x%20y&a=2&empty=", {
    method: "POST",
    headers: {
      ...bearer(token),
      "Content-Type": "application/json; charset=utf-8",
      "X-Dup": ["one", "two"],
      Cookie: "session=abc; theme=dark",
      "User-Agent": "slipway-test/1.0",
    },
    body: '{"repository":"acme/shop"}',
  });
  t.is(response.status, 200, String(response.headers["www-authenticate"]));
  const event = api.events[0]!;
  const requestId = String(response.headers["apigw-requestid"]);
  t.deepEqual(event, {
    version: "2.0",
    routeKey: "POST /deployments/{id}",
    rawPath: "/deployments/d-1",
    rawQueryString: "a=1&b=x%20y&a=2&empty=",
    cookies: ["session=abc", "theme=dark"],
    headers: {
      host: api.url.slice("http://".length),
      authorization: `Bearer ${token}`,
      "content-type": "application/json; charset=utf-8",
      "x-dup": "one,two",
      "user-agent": "slipway-test/1.0",
      "content-length": "26",
      connection: event.headers.connection!,
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-port": api.url.split(":")[2]!,
      "x-forwarded-proto": "http",
      "x-amzn-trace-id": event.headers["x-amzn-trace-id"]!,
    },
    queryStringParameters: { a: "1,2", b: "x y", empty: "" },
    pathParameters: { id: "d-1" },
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      authorizer: {
        principalId: "",
        integrationLatency: 0,
        jwt: {
          claims: {
            iss: LOCAL_ISSUER,
            sub: "alice",
            aud: LOCAL_AUDIENCE,
            iat: "1700000000",
            exp: "1700003600",
            groups: "[admin dev]",
            scope: "read write",
            admin: "true",
          },
          scopes: ["read", "write"],
        },
      },
      domainName: "127.0.0.1",
      domainPrefix: "127",
      http: {
        method: "POST",
        path: "/deployments/d-1",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "slipway-test/1.0",
      },
      requestId,
      routeKey: "POST /deployments/{id}",
      stage: "$default",
      time: "14/Nov/2023:22:13:20 +0000",
      timeEpoch: T0,
    },
    body: '{"repository":"acme/shop"}',
    isBase64Encoded: false,
  });
  t.regex(event.headers["x-amzn-trace-id"]!, /^Root=1-6553f100-[0-9a-f]{24}$/);
  t.like(api.log[0], {
    requestId,
    routeKey: "POST /deployments/{id}",
    status: 200,
    userId: "alice",
    requestTime: "14/Nov/2023:22:13:20 +0000",
  });
});

test("bodies are text for text types and base64 for everything else; no body means none", async (t) => {
  const api = await startApi(t, [{ routeKey: "POST /upload" }, { routeKey: "GET /upload" }]);
  const bytes = Buffer.from([0, 255, 1, 2, 0x80]);
  const cases: [string | undefined, Buffer, boolean][] = [
    ["application/octet-stream", bytes, true],
    ["application/x-www-form-urlencoded", Buffer.from("a=1&b=2"), true],
    [undefined, Buffer.from('{"no":"type"}'), true],
    ["image/png", bytes, true],
    ["text/plain; charset=utf-8", Buffer.from("héllo"), false],
    ["application/xml", Buffer.from("<a/>"), false],
    ["application/JSON", Buffer.from("{}"), false],
  ];
  for (const [contentType, body, base64] of cases) {
    await call(api.url, "/upload", {
      method: "POST",
      headers: contentType ? { "content-type": contentType } : {},
      body,
    });
    const event = api.events.at(-1)!;
    t.is(event.isBase64Encoded, base64, String(contentType));
    t.deepEqual(Buffer.from(event.body!, base64 ? "base64" : "utf8"), body, String(contentType));
  }
  await call(api.url, "/upload");
  const empty = api.events.at(-1)!;
  t.false("body" in empty);
  t.false("cookies" in empty || "queryStringParameters" in empty || "pathParameters" in empty);
  t.false(empty.isBase64Encoded);
  t.false("authorizer" in empty.requestContext, "routes without an authorizer get no authorizer context");
});

test("integration results map to responses by the 2.0 rules; failures are 500 and timeouts 503", async (t) => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]);
  const api = await startApi(
    t,
    [
      {
        routeKey: "GET /structured",
        answer: () => ({
          statusCode: 201,
          headers: { "Content-Type": "text/plain", "X-Count": 3 },
          cookies: ["a=1; Path=/", "b=2; HttpOnly"],
          body: "made",
        }),
      },
      {
        routeKey: "GET /binary",
        answer: () => ({
          statusCode: 200,
          headers: { "content-type": "image/png" },
          isBase64Encoded: true,
          body: png.toString("base64"),
        }),
      },
      { routeKey: "GET /object", answer: () => ({ hello: "world", n: 1 }) },
      { routeKey: "GET /string", answer: () => "just text" },
      { routeKey: "GET /empty", answer: () => ({ statusCode: 204 }) },
      {
        routeKey: "GET /error",
        answer: () => ({ ok: false, errorType: "TypeError", errorMessage: "boom", durationMs: 3 }),
      },
      {
        routeKey: "GET /timeout",
        answer: () => ({
          ok: false,
          errorType: "Sandbox.Timedout",
          errorMessage: "Task timed out after 1.00 seconds",
          timedOut: true,
          durationMs: 1000,
        }),
      },
      {
        routeKey: "GET /crash",
        answer: () => ({
          ok: false,
          errorType: "Runtime.ExitError",
          errorMessage: "Runtime exited with error: exit status 1",
          crashed: true,
          durationMs: 2,
        }),
      },
      { routeKey: "GET /rejects", answer: () => Promise.reject(new Error("integration unreachable")) },
      { routeKey: "GET /malformed", answer: () => ({ statusCode: "two hundred", body: "x" }) },
      { routeKey: "GET /bad-header", answer: () => ({ statusCode: 200, headers: { "bad header": "x" } }) },
      { routeKey: "GET /slow", answer: () => new Promise((done) => setTimeout(() => done({ late: true }), 1_000)) },
    ],
    { integrationTimeoutMs: 200 },
  );
  const structured = await call(api.url, "/structured");
  t.is(structured.status, 201);
  t.is(structured.text, "made");
  t.is(structured.headers["content-type"], "text/plain");
  t.is(structured.headers["x-count"], "3");
  t.deepEqual(structured.headers["set-cookie"], ["a=1; Path=/", "b=2; HttpOnly"]);

  const binary = await call(api.url, "/binary");
  t.deepEqual(binary.body, png);
  t.is(binary.headers["content-type"], "image/png");

  const object = await call(api.url, "/object");
  t.is(object.status, 200);
  t.is(object.headers["content-type"], "application/json");
  t.is(object.text, '{"hello":"world","n":1}');
  t.is((await call(api.url, "/string")).text, "just text");
  const empty = await call(api.url, "/empty");
  t.is(empty.status, 204);
  t.is(empty.body.length, 0);

  for (const [path, status, message] of [
    ["/error", 500, "Internal Server Error"],
    ["/crash", 500, "Internal Server Error"],
    ["/rejects", 500, "Internal Server Error"],
    ["/malformed", 500, "Internal Server Error"],
    ["/bad-header", 500, "Internal Server Error"],
    ["/timeout", 503, "Service Unavailable"],
    ["/slow", 503, "Service Unavailable"],
  ] as const) {
    const reply = await call(api.url, path);
    t.is(reply.status, status, path);
    t.deepEqual(reply.json, { message }, path);
    t.is(reply.headers["content-type"], "application/json");
    t.truthy(reply.headers["apigw-requestid"]);
  }
  t.like(
    api.log.find((entry) => entry.routeKey === "GET /error"),
    { status: 500, integrationError: "TypeError: boom" },
  );
  t.regex(
    api.log.find((entry) => entry.routeKey === "GET /malformed")?.integrationError ?? "",
    /statusCode "two hundred"/,
  );
  const ids = api.log.map((entry) => entry.requestId);
  t.is(new Set(ids).size, ids.length, "every request has its own id");
});

test("the JWT authorizer admits valid tokens and answers 401 with a www-authenticate challenge otherwise", async (t) => {
  const api = await startApi(t, [
    { routeKey: "GET /me", authorizationType: "JWT", answer: (e) => e.requestContext.authorizer?.jwt.claims },
  ]);
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  const minted = await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice", now: () => T0 });
  const good = await call(api.url, "/me", { headers: bearer(minted) });
  t.is(good.status, 200);
  t.like(good.json, { sub: "alice", iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE });
  const statusWith = async (headers: Record<string, string>) => (await call(api.url, "/me", { headers })).status;
  t.is(await statusWith({ authorization: minted }), 200, "the Bearer prefix is optional");
  t.is(await statusWith(bearer(signToken({ alg: "RS256" }, validClaims({ aud: ["x", "other-client"] })))), 200);
  t.is(
    await statusWith(bearer(signToken({ alg: "RS256" }, validClaims({ aud: undefined, client_id: "other-client" })))),
    200,
  );
  t.is(
    await statusWith(bearer(signToken({ alg: "RS256" }, validClaims({ iat: T0 / 1000 + 30, nbf: T0 / 1000 + 59 })))),
    200,
    "60 s of clock skew",
  );

  const [head, payload] = minted.split(".") as [string, string, string];
  const tampered = `${head}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "mallory" })).toString("base64url")}.${minted.split(".")[2]}`;
  const hmac = (() => {
    const input = `${Buffer.from('{"alg":"HS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(validClaims())).toString("base64url")}`;
    return `${input}.${createHmac("sha256", issuer.publicKeyPem).update(input).digest("base64url")}`;
  })();
  const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(validClaims())).toString("base64url")}.`;

  const refusals: [string, Record<string, string>, string | undefined][] = [
    ["no token", {}, undefined],
    [
      "expired",
      bearer(await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice", now: () => T0 - 3_601_000 })),
      "the token has expired",
    ],
    ["exp missing", bearer(signToken({ alg: "RS256" }, validClaims({ exp: undefined }))), "the token has expired"],
    [
      "wrong audience",
      bearer(
        await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice", audience: "someone-else", now: () => T0 }),
      ),
      "the token does not have a valid audience",
    ],
    [
      "wrong issuer",
      bearer(
        await mintToken({
          privateKeyPem: issuer.privateKeyPem,
          sub: "alice",
          issuer: "https://evil.example/",
          now: () => T0,
        }),
      ),
      "the token does not have a valid issuer",
    ],
    ["tampered claims", bearer(tampered), "the token signature is invalid"],
    [
      "another key",
      bearer(await mintToken({ privateKeyPem: other, sub: "alice", now: () => T0 })),
      "the token is not signed by a key of the issuer",
    ],
    // The answer never repeats the token's own text (a header built from request input could break the response).
    ["alg none", bearer(unsigned), "the token's signing method is not RS256, RS384 or RS512"],
    ["HS256 with the public key as secret", bearer(hmac), "the token's signing method is not RS256, RS384 or RS512"],
    [
      "an alg no header may carry",
      bearer(signToken({ alg: "RS256\u{1F4A5}\r\nx-injected: 1" }, validClaims())),
      "the token's signing method is not RS256, RS384 or RS512",
    ],
    [
      "not yet valid",
      bearer(signToken({ alg: "RS256" }, validClaims({ nbf: T0 / 1000 + 61 }))),
      "the token is not valid yet",
    ],
    [
      "issued in the future",
      bearer(signToken({ alg: "RS256" }, validClaims({ iat: T0 / 1000 + 120 }))),
      "the token was issued in the future",
    ],
    ["garbage", bearer("not-a-jwt"), "token contains an invalid number of segments"],
    ["bad json", bearer("e30.bm90IGpzb24.c2ln"), "the token is malformed"],
  ];
  for (const [what, headers, description] of refusals) {
    const reply = await call(api.url, "/me", { headers });
    t.is(reply.status, 401, what);
    t.deepEqual(reply.json, { message: "Unauthorized" }, what);
    t.is(
      reply.headers["www-authenticate"],
      description === undefined ? "Bearer" : `Bearer scope="" error="invalid_token" error_description="${description}"`,
      what,
    );
  }
  t.is(api.events.length, 5, "no refused request reached the integration");
  t.like(api.log.at(-1), { status: 401, authorizerError: "the token is malformed" });

  // Time moves: the minted token expires an hour after it was issued.
  api.clock.now = T0 + 3_600_000;
  t.is((await call(api.url, "/me", { headers: bearer(minted) })).status, 401);
});

test("CORS: the gateway answers preflights and adds allow-origin and expose headers for allowed origins", async (t) => {
  const cors = {
    allowOrigins: ["https://app.example", "https://*.preview.example"],
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["authorization", "content-type", "idempotency-key"],
    exposeHeaders: ["location", "idempotent-replayed"],
    maxAge: 600,
  };
  const api = await startApi(
    t,
    [
      {
        routeKey: "POST /deployments",
        answer: () => ({
          statusCode: 202,
          headers: { "access-control-allow-origin": "*", location: "/deployments/1" },
          body: "{}",
        }),
      },
      { routeKey: "GET /private", authorizationType: "JWT" },
    ],
    { cors },
  );
  const preflight = (origin: string, path = "/deployments") =>
    call(api.url, path, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
  const allowed = await preflight("https://app.example");
  t.is(allowed.status, 204);
  t.like(allowed.headers, {
    "access-control-allow-origin": "https://app.example",
    "access-control-allow-methods": "GET,POST,OPTIONS",
    "access-control-allow-headers": "authorization,content-type,idempotency-key",
    "access-control-max-age": "600",
  });
  t.truthy(allowed.headers["apigw-requestid"]);
  t.is(
    (await preflight("https://pr-12.preview.example")).headers["access-control-allow-origin"],
    "https://pr-12.preview.example",
  );
  t.is((await preflight("https://app.example", "/no/such/route")).status, 204, "preflights need no route");
  const refused = await preflight("https://evil.example");
  t.is(refused.status, 204);
  t.false(Object.keys(refused.headers).some((name) => name.startsWith("access-control-")));
  t.is(api.events.length, 0, "preflights never reach an integration");

  const post = await call(api.url, "/deployments", {
    method: "POST",
    headers: { origin: "https://app.example" },
    body: "{}",
  });
  t.is(post.status, 202);
  t.like(post.headers, {
    "access-control-allow-origin": "https://app.example",
    "access-control-expose-headers": "location,idempotent-replayed",
    location: "/deployments/1",
  });
  const foreign = await call(api.url, "/deployments", {
    method: "POST",
    headers: { origin: "https://evil.example" },
    body: "{}",
  });
  t.is(foreign.headers["access-control-allow-origin"], undefined, "the integration's own CORS header is dropped");
  const unauthorized = await call(api.url, "/private", { headers: { origin: "https://app.example" } });
  t.is(unauthorized.status, 401);
  t.is(unauthorized.headers["access-control-allow-origin"], "https://app.example", "a browser can read the 401");

  const plain = await startApi(t, [{ routeKey: "POST /deployments" }]);
  const unconfigured = await call(plain.url, "/deployments", {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  t.is(unconfigured.status, 404, "without CORS configured, OPTIONS is routed like any request");
});

test("throttling is a token bucket: burst, then the steady rate, then 429", async (t) => {
  const api = await startApi(t, [{ routeKey: "GET /x" }], { throttling: { rateLimit: 2, burstLimit: 3 } });
  const statuses = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await call(api.url, "/x")).status);
    return out;
  };
  t.deepEqual(await statuses(4), [200, 200, 200, 429]);
  const limited = await call(api.url, "/x");
  t.deepEqual(limited.json, { message: "Too Many Requests" });
  t.truthy(limited.headers["apigw-requestid"]);
  api.clock.now += 500; // one token back at 2 per second
  t.deepEqual(await statuses(2), [200, 429]);
  api.clock.now += 60_000; // refills to the burst, not beyond
  t.deepEqual(await statuses(4), [200, 200, 200, 429]);
});

test("a payload over 10 MB is refused with 413 before any integration runs", async (t) => {
  const api = await startApi(t, [
    { routeKey: "POST /upload", answer: (e) => ({ length: Buffer.from(e.body ?? "", "base64").length }) },
  ]);
  const limit = 10 * 1024 * 1024;
  const fits = await call(api.url, "/upload", {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: Buffer.alloc(limit),
  });
  t.deepEqual(fits.json, { length: limit });
  const tooLarge = await call(api.url, "/upload", {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: Buffer.alloc(limit + 1),
  });
  t.is(tooLarge.status, 413);
  t.deepEqual(tooLarge.json, { message: "Request Entity Too Large" });
  t.is(api.events.length, 1);
});

test("the local issuer keeps one owner-only key per state folder and mints tokens with its kid", async (t) => {
  const stateDir = join(root, "issuer-state");
  const first = await loadOrCreateIssuerKey(stateDir);
  const file = join(stateDir, "issuer-key.pem");
  t.is(statSync(file).mode & 0o777, 0o600);
  const again = await loadOrCreateIssuerKey(stateDir);
  t.is(again.privateKeyPem, first.privateKeyPem);
  t.is(again.kid, first.kid);
  t.regex(first.kid, /^[A-Za-z0-9_-]{43}$/);
  t.not((await loadOrCreateIssuerKey(join(root, "other-state"))).kid, first.kid);

  const token = await mintToken({
    privateKeyPem: first.privateKeyPem,
    sub: "bob",
    expiresInSeconds: 60,
    now: () => T0,
  });
  const [header, claims] = token
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
  t.deepEqual(header, { alg: "RS256", typ: "JWT", kid: first.kid });
  t.like(claims, {
    iss: LOCAL_ISSUER,
    aud: LOCAL_AUDIENCE,
    sub: "bob",
    iat: T0 / 1000,
    nbf: T0 / 1000,
    exp: T0 / 1000 + 60,
  });

  const broken = join(root, "broken-state");
  mkdirSync(broken);
  writeFileSync(join(broken, "issuer-key.pem"), "not a key");
  await t.throwsAsync(loadOrCreateIssuerKey(broken), { message: /is not a PEM private key .*delete it/ });
});

test("the local issuer serves OpenID discovery and its JWKS; the authorizer fetches them once and keeps them", async (t) => {
  const discovery = await (await fetch(`${localIssuer.url}/.well-known/openid-configuration`)).json();
  t.like(discovery, {
    issuer: LOCAL_ISSUER,
    jwks_uri: `${LOCAL_ISSUER}.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ["RS256"],
  });
  const jwks = await (await fetch(`${localIssuer.url}/.well-known/jwks.json`)).json();
  t.deepEqual(jwks, {
    keys: [{ kty: "RSA", n: issuer.publicJwk.n, e: "AQAB", kid: issuer.kid, alg: "RS256", use: "sig" }],
  });
  t.is((await fetch(`${localIssuer.url}/nothing`)).status, 404);

  // The authorizer reaches the issuer only through its discovery document and jwks_uri, as API Gateway does.
  const requested: string[] = [];
  const recording: typeof fetch = (input, init) => {
    requested.push(input instanceof Request ? input.url : String(input));
    return localIssuer.issuerFetch(input, init);
  };
  const api = await startApi(t, [{ routeKey: "GET /me", authorizationType: "JWT" }], {
    authorizer: { ...authorizer, fetch: recording },
  });
  const token = await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice", now: () => T0 });
  for (let i = 0; i < 3; i++) t.is((await call(api.url, "/me", { headers: bearer(token) })).status, 200);
  t.deepEqual(requested, [`${LOCAL_ISSUER}.well-known/openid-configuration`, `${LOCAL_ISSUER}.well-known/jwks.json`]);
});

test("an issuer that cannot be reached, or whose discovery names another issuer, admits nobody; a later request retries", async (t) => {
  let down = true;
  const flaky: typeof fetch = async (input, init) => {
    if (down) throw new TypeError("fetch failed");
    return localIssuer.issuerFetch(input, init);
  };
  const api = await startApi(t, [{ routeKey: "GET /me", authorizationType: "JWT" }], {
    authorizer: { ...authorizer, fetch: flaky },
  });
  const token = bearer(await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice", now: () => T0 }));
  const refused = await call(api.url, "/me", { headers: token });
  t.is(refused.status, 401);
  t.regex(String(refused.headers["www-authenticate"]), /the issuer's keys could not be fetched/);
  down = false;
  t.is((await call(api.url, "/me", { headers: token })).status, 200, "the next request discovers again");

  const impostor = await startApi(t, [{ routeKey: "GET /me", authorizationType: "JWT" }], {
    authorizer: { ...authorizer, issuer: "https://slipway.local/other/" },
  });
  const other = bearer(
    await mintToken({
      privateKeyPem: issuer.privateKeyPem,
      sub: "alice",
      issuer: "https://slipway.local/other/",
      now: () => T0,
    }),
  );
  t.regex(
    String((await call(impostor.url, "/me", { headers: other })).headers["www-authenticate"]),
    /the issuer's keys could not be fetched/,
    "slipway.local/other/ has no discovery document of its own",
  );
});

test("`npm run token -- <userId>` prints only a token the API accepts; usage mistakes exit 2", async (t) => {
  const stateDir = join(root, "script-state");
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "scripts/token.ts", ...args],
        {
          cwd: projectRoot,
          env: { ...process.env, SLIPWAY_STATE_DIR: stateDir },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
  const printed = await run(["alice"]);
  t.is(printed.code, 0, printed.stderr);
  t.regex(printed.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  t.is(statSync(join(stateDir, "issuer-key.pem")).mode & 0o777, 0o600);

  const scriptIssuer = await startLocalIssuer({ key: await loadOrCreateIssuerKey(stateDir) });
  t.teardown(() => scriptIssuer.close());
  const api = await startHttpApi({
    routes: [
      {
        routeKey: "GET /me",
        authorizationType: "JWT",
        invoke: async (e) => ({ ok: true, result: e.requestContext.authorizer?.jwt.claims, durationMs: 0 }),
      },
    ],
    authorizer: { issuer: LOCAL_ISSUER, audiences: [LOCAL_AUDIENCE], fetch: scriptIssuer.issuerFetch },
  });
  t.teardown(() => api.close());
  const me = await call(api.url, "/me", { headers: bearer(printed.stdout.trim()) });
  t.is(me.status, 200);
  t.like(me.json, { sub: "alice" });

  for (const args of [[], ["alice", "bob"], ["--expires-in", "0", "alice"], ["--nope", "alice"], ["has space"]]) {
    const refused = await run(args);
    t.is(refused.code, 2, args.join(" "));
    t.is(refused.stdout, "", args.join(" "));
    t.regex(refused.stderr, /usage: token <userId>/, args.join(" "));
  }
  t.like(await runTokenCommand(["carol", "--expires-in", "120"], { SLIPWAY_STATE_DIR: stateDir }, () => T0), {
    exitCode: 0,
  });
  const help = await run(["--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /usage: token <userId>[\s\S]*--expires-in <seconds>[\s\S]*JWKS/);
});

/** Writes `code` as a function folder's __index.js. */
function functionDir(name: string, code: string): string {
  const dir = join(root, "functions", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "__index.js"), code);
  return dir;
}

test("end to end with Lambda containers: the event reaches the handler, its answer the client, a timeout is 503", async (t) => {
  const fn = await startFunction({
    name: "me",
    codeDir: functionDir(
      "me",
      `exports.handler = async (event) => {
         if (event.pathParameters.id === "hang") await new Promise(() => setInterval(() => {}, 1000));
         return {
           statusCode: 200,
           headers: { "content-type": "application/json" },
           body: JSON.stringify({ sub: event.requestContext.authorizer.jwt.claims.sub, id: event.pathParameters.id, pid: process.pid }),
         };
       };`,
    ),
    environment: {},
    memorySizeMb: 128,
    timeoutSeconds: 1,
    onLog: () => undefined,
  });
  t.teardown(() => fn.stop());
  const api = await startHttpApi({
    routes: [{ routeKey: "GET /things/{id}", authorizationType: "JWT", invoke: (e) => fn.invoke(e) }],
    authorizer,
  });
  t.teardown(() => api.close());
  const token = await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "dana" });
  const ok = await call(api.url, "/things/t-1", { headers: bearer(token) });
  t.is(ok.status, 200);
  t.like(ok.json, { sub: "dana", id: "t-1" });
  const hung = await call(api.url, "/things/hang", { headers: bearer(token) });
  t.is(hung.status, 503);
  t.deepEqual(hung.json, { message: "Service Unavailable" });
  const after = await call(api.url, "/things/t-2", { headers: bearer(token) });
  t.is(after.status, 200);
  t.not(after.json.pid, ok.json.pid, "the timed-out container was replaced");
});

test("end to end with Slipway's own serialized handlers and DynamoDB Local: deploy, then read it back", async (t) => {
  const dynamo = await sharedDynamoDbLocal();
  t.teardown(() => dynamo.stop());
  const tables = await createTables(dynamo.endpoint);
  const runtimeModulesDir = lambdaRuntimeModules(projectRoot, join(root, "runtime"));
  const environment = {
    [ENV.deploymentsTable]: tables.deployments,
    [ENV.idempotencyTable]: tables.idempotency,
    [ENV.rateLimitsTable]: tables.rateLimits,
    [ENV.deploymentsPerUserPerMinute]: "10",
    [ENV.dynamodbEndpoint]: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const functions: LocalFunction[] = [];
  const deployed = async (name: string, factory: () => unknown) => {
    const serialized = await pulumi.runtime.serializeFunction(factory as () => () => unknown, {
      isFactoryFunction: true,
    });
    const fn = await startFunction({
      name,
      codeDir: functionDir(name, serialized.text),
      handler: `__index.${serialized.exportName}`,
      environment,
      memorySizeMb: 256,
      timeoutSeconds: 10,
      runtimeModulesDir,
      onLog: () => undefined,
    });
    functions.push(fn);
    return fn;
  };
  t.teardown(() => Promise.all(functions.map((fn) => fn.stop())).then(() => undefined));
  const [deploy, get] = await Promise.all([
    deployed("deploy", createDeployHandler),
    deployed("get", createGetDeploymentHandler),
  ]);
  const api = await startHttpApi({
    routes: [
      { routeKey: "POST /deployments", authorizationType: "JWT", invoke: (e) => deploy.invoke(e) },
      { routeKey: "GET /deployments/{id}", authorizationType: "JWT", invoke: (e) => get.invoke(e) },
    ],
    authorizer,
  });
  t.teardown(() => api.close());
  const alice = bearer(await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice" }));

  const created = await call(api.url, "/deployments", {
    method: "POST",
    headers: { ...alice, "content-type": "application/json", "idempotency-key": "k-1" },
    body: JSON.stringify({ repository: "acme/shop" }),
  });
  t.is(created.status, 202, created.text);
  t.like(created.json, { repository: "acme/shop", status: "PENDING" });
  t.is(created.headers.location, `/deployments/${created.json.id}`);

  // The handler's own 4xx passes through untouched (here: curl's default content type, which it refuses).
  const form = await call(api.url, "/deployments", {
    method: "POST",
    headers: { ...alice, "content-type": "application/x-www-form-urlencoded" },
    body: JSON.stringify({ repository: "acme/other" }),
  });
  t.is(form.status, 400, form.text);
  t.like(form.json, { error: { field: "content-type" } });

  const read = await call(api.url, created.headers.location!, { headers: alice });
  t.is(read.status, 200);
  t.is(read.json.id, created.json.id);
  const bob = bearer(await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "bob" }));
  t.is((await call(api.url, created.headers.location!, { headers: bob })).status, 404, "another user's deployment");
  t.is((await call(api.url, created.headers.location!)).status, 401);
});
