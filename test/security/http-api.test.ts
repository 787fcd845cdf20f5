import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import {
  // KEEP_ALIVE_TIMEOUT_MS,
  startHttpApi,
  type AccessLogEntry,
  type HttpApiRoute,
  type StartHttpApiOptions,
} from "../../local/platform/httpApi/startHttpApi";
import {
  LOCAL_AUDIENCE,
  LOCAL_ISSUER,
  loadOrCreateIssuerKey,
  mintToken,
  startLocalIssuer,
  type IssuerKey,
  type LocalIssuer,
} from "../../local/platform/localIssuer";

/*
 * Issue 8, findings 1 and 9: the local HTTP API never dies of a request, never copies request input into a response
 * header, and keeps idle connections open longer than clients do. A real server on 127.0.0.1, raw requests.
 */

const root = mkdtempSync(join(tmpdir(), "slipway-security-http-"));
// The local issuer serves its discovery document and JWKS; the authorizer finds the key there.
let issuer: IssuerKey;
let localIssuer: LocalIssuer;
test.before(async () => {
  issuer = await loadOrCreateIssuerKey(join(root, "state"));
  localIssuer = await startLocalIssuer({ key: issuer });
});
test.after.always(async () => {
  await localIssuer?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly json: unknown;
}

/** One request on a fresh connection; fails (rather than hangs) if the server never answers. */
function call(url: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  return new Promise((done, fail) => {
    const request = http.request(`${url}${path}`, { method, headers, agent: false, timeout: 60_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        done({ status: response.statusCode ?? 0, headers: response.headers, rawHeaders: response.rawHeaders, json });
      });
    });
    request.on("timeout", () => request.destroy(new Error("the API did not answer")));
    request.on("error", fail);
    request.end();
  });
}

async function startApi(
  t: { teardown(fn: () => Promise<void>): void },
  routes: HttpApiRoute[],
  options: Partial<StartHttpApiOptions> = {},
) {
  const log: AccessLogEntry[] = [];
  const api = await startHttpApi({
    routes,
    authorizer: { issuer: LOCAL_ISSUER, audiences: [LOCAL_AUDIENCE], fetch: localIssuer.issuerFetch },
    logger: (entry) => log.push(entry),
    ...options,
  });
  t.teardown(() => api.close());
  return { url: api.url, log };
}

const meRoute: HttpApiRoute = {
  routeKey: "GET /me",
  authorizationType: "JWT",
  invoke: async (event) => ({
    ok: true,
    result: { sub: event.requestContext.authorizer?.jwt.claims.sub },
    durationMs: 1,
  }),
};

/** A token whose header is `header`, any payload, a junk signature: the authorizer refuses it. */
function forgedToken(header: string): string {
  return `${Buffer.from(header).toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.c2ln`;
}

test("finding 1: a token whose alg holds a character above Latin-1 or CR/LF is a 401, and the API keeps serving", async (t) => {
  const api = await startApi(t, [meRoute]);
  const hostile = [
    '{"alg":"RS256💥"}',
    '{"alg":"RS256\\r\\nx-injected: yes"}',
    '{"alg":"\\u0000"}',
    '{"alg":"none\\nSet-Cookie: a=b"}',
    `{"alg":"${"A".repeat(5000)}"}`,
  ];
  for (const header of hostile) {
    const reply = await call(api.url, "/me", { authorization: `Bearer ${forgedToken(header)}` });
    t.is(reply.status, 401, header);
    t.deepEqual(reply.json, { message: "Unauthorized" }, header);
    const challenge = String(reply.headers["www-authenticate"]);
    t.regex(challenge, /^Bearer scope="" error="invalid_token" error_description="[\x20-\x7e]+"$/, header);
    t.false(challenge.includes("RS256💥") || challenge.includes("x-injected") || challenge.includes("Set-Cookie"));
    t.is(reply.headers["x-injected"], undefined);
    t.is(reply.headers["set-cookie"], undefined);
  }
  const token = await mintToken({ privateKeyPem: issuer.privateKeyPem, sub: "alice" });
  const after = await call(api.url, "/me", { authorization: `Bearer ${token}` });
  t.is(after.status, 200, "the API still answers after the hostile requests");
  t.deepEqual(after.json, { sub: "alice" });
  t.true(api.log.filter((entry) => entry.status === 401).length >= hostile.length, "each refusal is logged");
});

test("no error anywhere in a request kills the API: each becomes a JSON 5xx and an access-log line", async (t) => {
  const api = await startApi(
    t,
    [
      {
        routeKey: "GET /throws",
        invoke: () => {
          throw new Error("integration exploded synchronously");
        },
      },
      { routeKey: "GET /rejects", invoke: () => Promise.reject(new Error("integration rejected")) },
      {
        routeKey: "GET /bad-header",
        invoke: async () => ({
          ok: true,
          result: { statusCode: 200, headers: { "x-echo": "line\r\nbreak" }, body: "{}" },
          durationMs: 1,
        }),
      },
    ],
    {
      // A CORS configuration whose origin pattern a hostile Origin might satisfy.
      cors: { allowOrigins: ["https://*.example.com"], allowHeaders: ["*"], allowMethods: ["GET"] },
    },
  );
  for (const path of ["/throws", "/rejects", "/bad-header"]) {
    const reply = await call(api.url, path, { origin: "https://app.example.com" });
    t.is(reply.status, 500, path);
    t.deepEqual(reply.json, { message: "Internal Server Error" }, path);
    t.truthy(reply.headers["apigw-requestid"], path);
  }
  t.deepEqual(
    api.log.map((entry) => [entry.status, Boolean(entry.integrationError)]),
    [
      [500, true],
      [500, true],
      [500, true],
    ],
  );
  // A preflight asking for headers the wildcard echoes: Node's parser already refused anything unwritable.
  const preflight = await call(
    api.url,
    "/throws",
    {
      origin: "https://app.example.com",
      "access-control-request-method": "GET",
      "access-control-request-headers": "x-a, x-b",
    },
    "OPTIONS",
  );
  t.is(preflight.status, 204);
  t.is(preflight.headers["access-control-allow-headers"], "x-a, x-b");
});

test("a logger that throws does not take the API down", async (t) => {
  const api = await startHttpApi({
    routes: [{ routeKey: "GET /x", invoke: async () => ({ ok: true, result: { fine: true }, durationMs: 1 }) }],
    logger: () => {
      throw new Error("the log is full");
    },
  });
  t.teardown(() => api.close());
  t.deepEqual((await call(api.url, "/x")).json, { fine: true });
  t.deepEqual((await call(api.url, "/x")).json, { fine: true });
});

/** Sends raw HTTP/1.1 requests on one socket; resolves each response's head and whether the socket is still open. */
function rawConnection(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  let buffer = "";
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on("close", () => {
    closed = true;
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on("error", () => undefined);
  return {
    get closed() {
      return closed;
    },
    /** Resolves with the response head, or undefined if the server closed the connection first. */
    async request(path: string): Promise<string | undefined> {
      buffer = "";
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end >= 0) {
          const head = buffer.slice(0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buffer.length >= end + 4 + length) return head;
        }
        if (closed) return undefined;
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
    /** Resolves true if the server closes the connection within `ms`, false if it is still open then. */
    closesWithin(ms: number): Promise<boolean> {
      if (closed) return Promise.resolve(true);
      return new Promise((done) => {
        const timer = setTimeout(() => done(closed), ms);
        socket.once("close", () => {
          clearTimeout(timer);
          done(true);
        });
      });
    },
    end: () => socket.destroy(),
  };
}

test("finding 9: idle kept-alive connections outlive the clients' own idle timeouts", async (t) => {
  const api = await startHttpApi({
    routes: [{ routeKey: "GET /x", invoke: async () => ({ ok: true, result: { ok: 1 }, durationMs: 1 }) }],
  });
  t.teardown(() => api.close());
  // t.true(KEEP_ALIVE_TIMEOUT_MS > 300_000, "longer than Chrome's and OkHttp's 300 s");
  const connection = rawConnection(api.port);
  t.teardown(() => connection.end());
  const first = await connection.request("/x");
  t.regex(first ?? "", /^HTTP\/1\.1 200/);
  t.regex(first ?? "", /keep-alive: timeout=310/i, "the server tells clients how long it keeps the connection");
  // Node's default closed an idle connection after 5 s, while undici reuses one for up to 4 s and other clients far
  // longer: a request sent at that moment met a closing socket (UND_ERR_SOCKET). Idle for 6 s, the connection stays.
  t.false(await connection.closesWithin(6_000), "the server did not close the idle connection");
  const second = await connection.request("/x");
  t.regex(second ?? "closed", /^HTTP\/1\.1 200/, "the same connection serves the next request");
});
