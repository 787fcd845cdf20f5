import { randomBytes } from "node:crypto";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, crc32, gunzipSync, inflateSync } from "node:zlib";
import { createLogger, type Logger } from "../../../runtime/log";
import { callerOf } from "../../emulators/aws/awsProtocol";
import { readBody } from "../../emulators/http/readBody";
import { dynamodbAccess } from "./dynamodbAccess";
import type { Authorization } from "./principals";
import { createShardIteratorMemory } from "./shardIterators";

/** Decides one (caller, action, resource); `PrincipalRegistry.authorize` fits. */
export type ProxyAuthorize = (
  accessKeyId: string,
  action: string,
  resource: string,
) => Authorization | Promise<Authorization>;

export interface DynamoDbProxyOptions {
  /** DynamoDB Local's URL (`http://127.0.0.1:<port>`); it serves DynamoDB and DynamoDB Streams on one port. */
  readonly target: string;
  readonly authorize: ProxyAuthorize;
  /** A table name → its ARN as DynamoDB Local reports it (`dynamoDbLocalTableArn` does exactly that). */
  readonly resolveTableArn: (tableName: string) => string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number;
  /** Denials and proxy failures. Default: JSON lines on stderr. */
  readonly logger?: Logger;
  /** How many shard iterators to remember (see `createShardIteratorMemory`). Default 10 000. */
  readonly iteratorCapacity?: number;
  /** Request ids of the proxy's own answers. Default: 52 random upper-case characters, like DynamoDB's. */
  readonly newRequestId?: () => string;
  /** Told of every request once answered: its operation and when it came and went (the benchmark's critical path). */
  readonly onExchange?: (exchange: DynamoDbExchange) => void;
}

/** One request through the proxy, once answered. */
export interface DynamoDbExchange {
  readonly operation: string;
  /** The caller's access key id (which role asked); undefined for an unsigned request. */
  readonly accessKeyId?: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface DynamoDbProxy {
  /** The `endpoint` for DynamoDB and DynamoDB Streams clients. */
  readonly url: string;
  close(): Promise<void>;
}

/** A request body DynamoDB itself would refuse long before this (BatchWriteItem's limit is 16 MB). */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/** Headers about one connection, not the message: never forwarded either way (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
];

/** Decoders for a compressed answer, used only to read iterators out of it; the bytes are forwarded as they came. */
const DECODERS: Readonly<Record<string, (bytes: Buffer) => Buffer>> = {
  gzip: gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

const NO_QUERY = new URLSearchParams();

const REQUEST_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const dynamoDbRequestId = () =>
  Array.from(randomBytes(52), (byte) => REQUEST_ID_ALPHABET[byte % REQUEST_ID_ALPHABET.length]).join("");

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * DynamoDB's error as its JSON protocol writes it: HTTP 400, `__type` with the coral namespace. The SDK names the
 * error after what follows `#`, so callers see `AccessDeniedException` exactly as on AWS.
 */
const dynamoDbError = (type: string, fields: Record<string, string>, status = 400): Answer => ({
  status,
  body: JSON.stringify({ __type: `com.amazon.coral.service#${type}`, ...fields }),
});

/**
 * Starts an HTTP proxy in front of DynamoDB Local that enforces IAM: it reads the caller's access key id from the
 * SigV4 `Authorization` header (the signature is not verified), maps the request to the IAM actions and resources
 * it needs (`dynamodbAccess`), asks `authorize` about each, and either answers DynamoDB's AccessDeniedException or
 * forwards the request unchanged and streams the answer back byte for byte.
 *
 * The request body is read whole before anything is forwarded: the decision depends on it, and a request refused
 * half-way through forwarding would already have been acted on. Answers are read whole and then written back
 * unchanged: GetShardIterator and GetRecords answers must be, so the iterators they issue are known before the caller
 * can present them, and for the others (1 MB at most, DynamoDB's page size) one write costs less CPU than a stream
 * pipeline per request.
 */
export async function startDynamoDbProxy(options: DynamoDbProxyOptions): Promise<DynamoDbProxy> {
  const target = new URL(options.target);
  const logger = options.logger ?? createLogger((line) => process.stderr.write(line + "\n"));
  const newRequestId = options.newRequestId ?? dynamoDbRequestId;
  const iterators = createShardIteratorMemory(options.iteratorCapacity);
  const agent = new Agent({ keepAlive: true });

  const answer = (response: ServerResponse, { status, body }: Answer) => {
    const bytes = Buffer.from(body);
    response.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": bytes.length,
      "x-amzn-requestid": newRequestId(),
      "x-amz-crc32": crc32(bytes),
    });
    response.end(bytes);
  };

  const fail = (response: ServerResponse, error: unknown) => {
    logger.error("dynamodb proxy failed", { error: error instanceof Error ? error.message : String(error) });
    if (response.headersSent) response.destroy();
    else answer(response, dynamoDbError("InternalFailure", { message: "The local DynamoDB proxy failed" }, 500));
  };

  const learnIterators = (bytes: Buffer, encoding: string | undefined, streamArn: string) => {
    try {
      const decode = encoding ? DECODERS[encoding] : undefined;
      const parsed: unknown = JSON.parse((decode ? decode(bytes) : bytes).toString("utf8"));
      for (const key of ["ShardIterator", "NextShardIterator"]) {
        const iterator = (parsed as Record<string, unknown>)[key];
        if (typeof iterator === "string" && iterator) iterators.remember(iterator, streamArn);
      }
    } catch (error) {
      logger.warn("could not read shard iterators from an answer", { streamArn, error: String(error) });
    }
  };

  const forward = (request: IncomingMessage, response: ServerResponse, body: Buffer, iteratorStream?: string) => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...withoutHopByHop(request.headers), "content-length": body.length },
        agent,
      },
      (reply) => {
        const status = reply.statusCode ?? 502;
        const chunks: Buffer[] = [];
        reply.on("data", (chunk: Buffer) => chunks.push(chunk));
        reply.on("error", (error) => fail(response, error));
        reply.on("end", () => {
          const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          if (iteratorStream && status === 200) {
            learnIterators(bytes, reply.headers["content-encoding"], iteratorStream);
          }
          response.writeHead(status, reply.statusMessage, rawWithoutHopByHop(reply.rawHeaders));
          response.end(bytes);
        });
      },
    );
    upstream.on("error", (error) => fail(response, error));
    // The caller went away before its answer was complete: stop waiting on DynamoDB Local for it.
    response.on("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? "/";
    // Presigned requests carry the credential in the query; SDK calls in the Authorization header.
    const caller = callerOf(
      request.headers,
      url.includes("?") ? new URL(url, "http://127.0.0.1").searchParams : NO_QUERY,
    );
    if (options.onExchange) {
      const startedAt = Date.now();
      const operation =
        String(request.headers["x-amz-target"] ?? "")
          .split(".")
          .pop() ?? "";
      const accessKeyId = caller?.accessKeyId;
      response.once("finish", () =>
        options.onExchange!({ operation, ...(accessKeyId ? { accessKeyId } : {}), startedAt, endedAt: Date.now() }),
      );
    }
    const body = await readBody(request, MAX_REQUEST_BYTES);
    if (!body) {
      answer(response, dynamoDbError("RequestEntityTooLarge", { message: "Request body too large" }, 413));
      return;
    }
    const targetHeader = request.headers["x-amz-target"];
    const access = dynamodbAccess(typeof targetHeader === "string" ? targetHeader : undefined, parseJson(body), {
      resolveTableArn: options.resolveTableArn,
      streamOfIterator: (iterator) => iterators.streamOf(iterator),
    });
    // No X-Amz-Target is no DynamoDB operation (a health probe): DynamoDB Local answers it with an error itself.
    if (access) {
      if (!caller) {
        // DynamoDB's own wording, lower-case `message` included.
        answer(
          response,
          dynamoDbError("MissingAuthenticationTokenException", { message: "Request is missing Authentication Token" }),
        );
        return;
      }
      for (const check of access.checks) {
        const decision = await options.authorize(caller.accessKeyId, check.action, check.resource);
        if (!decision.allowed) {
          logger.warn("access denied", {
            accessKeyId: caller.accessKeyId,
            operation: access.operation,
            action: check.action,
            resource: check.resource,
            note: access.note,
          });
          answer(response, dynamoDbError("AccessDeniedException", { Message: decision.message }));
          return;
        }
      }
    }
    forward(request, response, body, access?.iteratorStream);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => fail(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (ours and the callers') would otherwise hold `close` open for seconds.
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.includes(name)) kept[name] = value;
  }
  return kept;
}

/** The answer's headers as DynamoDB Local wrote them (names' case and order kept), minus the hop-by-hop ones. */
function rawWithoutHopByHop(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    if (!HOP_BY_HOP.includes(raw[index]!.toLowerCase())) kept.push(raw[index]!, raw[index + 1]!);
  }
  return kept;
}
