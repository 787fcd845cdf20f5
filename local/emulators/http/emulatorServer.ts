import http from "node:http";
import type { AddressInfo } from "node:net";
import { createFaultQueue, type Fault } from "./faults";
import { readBody } from "./readBody";

export type HeaderValue = string | number | readonly string[];

/** A request as the emulators see it: fully read, body included. */
export interface EmulatorRequest {
  readonly method: string;
  /** Absolute URL on the emulator (`http://127.0.0.1:<port>/…`). */
  readonly url: URL;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What a handler answers; the server writes it. */
export interface EmulatorResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, HeaderValue>>;
  readonly body?: string | Uint8Array;
  /** Send the body chunked, without content-length (as a server generating it on the fly does). */
  readonly chunked?: boolean;
}

/** One line of the request log. Header values are never recorded, so no credential can leak through it. */
export interface RequestRecord {
  readonly method: string;
  /** Pathname and query, with credential-bearing query parameters redacted. */
  readonly path: string;
  readonly operation?: string;
  /** Undefined when the request was never answered (a `hang` fault, or the client went away first). */
  readonly status?: number;
  /** Whether an injected fault answered or delayed it. */
  readonly faulted: boolean;
  /** When the answer was sent (ms since the epoch, the host's clock); undefined until then. */
  readonly answeredAt?: number;
  /** When it arrived, by the emulator's clock (ISO-8601). */
  readonly at: string;
}

export interface EmulatorServerOptions {
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number;
  readonly now: () => number;
  /** The emulator's name for a request (its route or operation), used by faults and the log. */
  readonly describe: (request: EmulatorRequest) => string | undefined;
  readonly handle: (request: EmulatorRequest, operation: string | undefined) => Promise<EmulatorResponse>;
  /** Query parameters whose values are credentials (presigned URLs, download tokens): redacted in the log. */
  readonly redactedQueryParameters?: readonly string[];
  /** Larger request bodies are refused with 413. Default 256 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Share the request log and the fault queue with another server: two origins of one emulator (GitHub's API and
   * codeload) then log in one order and take faults from one queue.
   */
  readonly shared?: SharedServerState;
}

/** A request log and fault queue two servers of one emulator share (see EmulatorServerOptions.shared). */
export interface SharedServerState {
  readonly faults: ReturnType<typeof createFaultQueue>;
  readonly log: { record: RequestRecord; mutable: { status?: number; faulted: boolean; answeredAt?: number } }[];
}

export function createSharedServerState(): SharedServerState {
  return { faults: createFaultQueue(), log: [] };
}

export interface EmulatorServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  inject(fault: Fault): void;
  requests(): RequestRecord[];
  /** Forgets pending faults and the request log. */
  reset(): void;
}

/**
 * The HTTP plumbing every emulator shares: listens on 127.0.0.1, reads each request, records it, applies injected
 * faults, then asks the emulator's handler. `close()` ends every connection, hung ones included, so a test never
 * waits on a request the emulator chose not to answer.
 */
export async function startEmulatorServer(options: EmulatorServerOptions): Promise<EmulatorServer> {
  const { faults, log } = options.shared ?? createSharedServerState();
  const timers = new Set<NodeJS.Timeout>();
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024 * 1024;
  const redacted = new Set((options.redactedQueryParameters ?? []).map((name) => name.toLowerCase()));
  let origin = "http://127.0.0.1";

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = http.createServer((incoming, outgoing) => {
    void serve(incoming, outgoing).catch((error: unknown) => {
      if (!outgoing.headersSent && !outgoing.destroyed) {
        write(outgoing, { status: 500, body: JSON.stringify({ message: `Emulator error: ${describe(error)}` }) });
      } else {
        outgoing.destroy();
      }
    });
  });

  async function serve(incoming: http.IncomingMessage, outgoing: http.ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? "/", origin);
    const body = await readBody(incoming, maxBodyBytes);
    const request: EmulatorRequest = {
      method: (incoming.method ?? "GET").toUpperCase(),
      url,
      headers: incoming.headers,
      body: body ?? Buffer.alloc(0),
    };
    const operation = options.describe(request);
    const state: { status?: number; faulted: boolean; answeredAt?: number } = { faulted: false };
    outgoing.once("finish", () => (state.answeredAt = Date.now()));
    const entry = {
      mutable: state,
      record: {
        method: request.method,
        path: redactQuery(url, redacted),
        ...(operation === undefined ? {} : { operation }),
        faulted: false,
        at: new Date(options.now()).toISOString(),
      },
    };
    log.push(entry);
    const send = (response: EmulatorResponse) => {
      state.status = response.status;
      write(outgoing, withDate(response, options.now()));
    };
    if (body === undefined) return send({ status: 413, body: JSON.stringify({ message: "Request body too large" }) });

    const fault = faults.take({ method: request.method, path: url.pathname + url.search, operation });
    if (fault) state.faulted = true;
    if (fault?.hang) return; // never answered; close() ends the connection
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.holdUntil) await fault.holdUntil.catch(() => undefined);
    if (outgoing.destroyed) return;
    if (fault?.status !== undefined) return send(faultResponse(fault));
    const response = await options.handle(request, operation);
    if (fault?.dropResponse) {
      outgoing.destroy();
      return;
    }
    const answer = fault?.headers ? { ...response, headers: { ...response.headers, ...fault.headers } } : response;
    if (fault?.cutBody) {
      state.status = answer.status;
      return writeCut(outgoing, withDate(answer, options.now()), fault.cutBody);
    }
    send(answer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    port,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    inject: (fault) => faults.inject(fault),
    requests: () =>
      log.map(({ record, mutable }) => {
        const { answeredAt, ...rest } = mutable;
        return { ...record, ...rest, ...(answeredAt !== undefined ? { answeredAt } : {}) };
      }),
    reset() {
      faults.clear();
      log.length = 0;
    },
  };
}

function faultResponse(fault: Fault): EmulatorResponse {
  const body = fault.body;
  if (body === undefined) return { status: fault.status ?? 500, headers: { ...fault.headers } };
  if (typeof body === "string") return { status: fault.status ?? 500, headers: { ...fault.headers }, body };
  return {
    status: fault.status ?? 500,
    headers: { "content-type": "application/json; charset=utf-8", ...fault.headers },
    body: JSON.stringify(body),
  };
}

function withDate(response: EmulatorResponse, now: number): EmulatorResponse {
  // The emulator's clock, not the host's: clients such as @octokit/auth-app correct their own clock from `date`.
  const headers = response.headers ?? {};
  if (Object.keys(headers).some((name) => name.toLowerCase() === "date")) return response;
  return { ...response, headers: { ...headers, date: new Date(now).toUTCString() } };
}

function write(outgoing: http.ServerResponse, response: EmulatorResponse): void {
  if (outgoing.destroyed) return;
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body);
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    outgoing.setHeader(name, typeof value === "number" ? String(value) : (value as string | string[]));
  }
  if (response.chunked) {
    outgoing.removeHeader("content-length");
    outgoing.writeHead(response.status);
    for (let at = 0; at < body.length; at += CHUNK_BYTES) outgoing.write(body.subarray(at, at + CHUNK_BYTES));
    outgoing.end();
    return;
  }
  if (!outgoing.hasHeader("content-length")) outgoing.setHeader("content-length", body.length);
  outgoing.writeHead(response.status);
  outgoing.end(body);
}

const CHUNK_BYTES = 64 * 1024;

/** An answer whose body breaks off (see Fault.cutBody). */
function writeCut(outgoing: http.ServerResponse, response: EmulatorResponse, cut: NonNullable<Fault["cutBody"]>): void {
  if (outgoing.destroyed) return;
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body);
  const kept = body.subarray(0, Math.min(cut.afterBytes, body.length));
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    outgoing.setHeader(name, typeof value === "number" ? String(value) : (value as string | string[]));
  }
  outgoing.removeHeader("content-length");
  if (cut.announce === "full") outgoing.setHeader("content-length", body.length);
  if (cut.announce === "cut") outgoing.setHeader("content-length", kept.length);
  outgoing.writeHead(response.status);
  if (cut.announce === "cut") {
    outgoing.end(kept);
    return;
  }
  // Flush what is kept, then drop the connection without finishing the body.
  outgoing.write(kept, () => setImmediate(() => outgoing.destroy()));
}

function redactQuery(url: URL, redacted: ReadonlySet<string>): string {
  if (!url.search) return url.pathname;
  const query = new URLSearchParams(url.search);
  for (const name of [...query.keys()]) if (redacted.has(name.toLowerCase())) query.set(name, "REDACTED");
  return `${url.pathname}?${query.toString()}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
