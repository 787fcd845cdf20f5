import { createHash } from "node:crypto";
import zlib from "node:zlib";
import type { EmulatorRequest, EmulatorResponse } from "../http/emulatorServer";
import { decodeAwsChunked } from "./awsChunked";
import { AwsServiceError, escapeXml, newRequestId } from "./awsProtocol";

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Quoted MD5, as S3 sends it. */
  readonly etag: string;
  readonly lastModified: Date;
  /** `crc32` → base64 value, as the uploader sent (and S3 verified) them. */
  readonly checksums: Readonly<Record<string, string>>;
  /** Content-Encoding, Cache-Control… as given on upload. */
  readonly headers: Readonly<Record<string, string>>;
}

/** One S3 request, routed: its operation, what IAM would check, and the work. */
export interface S3Call {
  readonly operation: string;
  readonly action: string;
  readonly resource: string;
  run(): EmulatorResponse;
}

export interface S3Emulator {
  createBucket(name: string): void;
  getObject(bucket: string, key: string): StoredObject | undefined;
  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): void;
  listObjects(bucket: string): string[];
  route(request: EmulatorRequest): S3Call;
}

/** Response headers S3 echoes from the upload. */
const STORED_HEADERS = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
/** Query parameters that name S3 features the emulator does not have (multipart, ACLs, tagging…). */
const UNSUPPORTED_SUBRESOURCES = [
  "tagging",
  "uploads",
  "uploadId",
  "partNumber",
  "versioning",
  "versionId",
  "policy",
  "cors",
  "lifecycle",
  "website",
  "notification",
  "replication",
  "encryption",
  "retention",
  "legal-hold",
  "restore",
  "select",
  "attributes",
  "delete",
  "torrent",
  "logging",
  "accelerate",
  "analytics",
  "inventory",
  "metrics",
  "ownershipControls",
  "publicAccessBlock",
  "requestPayment",
  "intelligent-tiering",
  "object-lock",
];
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** How each checksum algorithm S3 accepts is computed, for the ones Node can compute. */
const CHECKSUMS: Readonly<Record<string, (body: Buffer) => string>> = {
  crc32: (body) => uint32Base64(zlib.crc32(body)),
  crc32c: (body) => uint32Base64(crc32c(body)),
  sha1: (body) => createHash("sha1").update(body).digest("base64"),
  sha256: (body) => createHash("sha256").update(body).digest("base64"),
};

/** S3's object API over path-style URLs (`/<bucket>/<key>`), for buckets made with `createBucket` or CreateBucket. */
export function createS3(settings: { now: () => number; region?: string; accountId?: string }): S3Emulator {
  const buckets = new Map<string, Map<string, StoredObject>>();

  const store = (
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string | undefined,
    extra: Partial<StoredObject> = {},
  ) => {
    const objects = buckets.get(bucket);
    if (!objects)
      throw new AwsServiceError("NoSuchBucket", "The specified bucket does not exist", 404, { BucketName: bucket });
    const object: StoredObject = {
      body,
      contentType: contentType ?? "binary/octet-stream",
      metadata: extra.metadata ?? {},
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      lastModified: new Date(Math.floor(settings.now() / 1000) * 1000),
      checksums: extra.checksums ?? {},
      headers: extra.headers ?? {},
    };
    objects.set(key, object);
    return object;
  };
  const bucketOf = (name: string) => {
    const objects = buckets.get(name);
    if (!objects)
      throw new AwsServiceError("NoSuchBucket", "The specified bucket does not exist", 404, { BucketName: name });
    return objects;
  };
  const objectOf = (bucket: string, key: string) => {
    const object = bucketOf(bucket).get(key);
    if (!object) throw new AwsServiceError("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
    return object;
  };
  const xml = (status: number, body: string, headers: Record<string, string> = {}): EmulatorResponse => ({
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": newRequestId(), ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  });
  const empty = (status: number, headers: Record<string, string> = {}): EmulatorResponse => ({
    status,
    headers: { "x-amz-request-id": newRequestId(), ...headers },
  });

  const objectHeaders = (object: StoredObject): Record<string, string> => ({
    "content-type": object.contentType,
    etag: object.etag,
    "last-modified": object.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    "x-amz-server-side-encryption": "AES256",
    ...object.headers,
    ...Object.fromEntries(Object.entries(object.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value])),
  });

  const putObject = (request: EmulatorRequest, bucket: string, key: string): EmulatorResponse => {
    bucketOf(bucket);
    const encoding = String(request.headers["content-encoding"] ?? "");
    const streaming =
      /aws-chunked/i.test(encoding) || String(request.headers["x-amz-content-sha256"] ?? "").startsWith("STREAMING-");
    let body = request.body;
    let trailers: Record<string, string> = {};
    if (streaming) {
      try {
        ({ body, trailers } = decodeAwsChunked(request.body));
      } catch (error) {
        throw new AwsServiceError("IncompleteBody", (error as Error).message);
      }
      const declared = request.headers["x-amz-decoded-content-length"];
      if (declared !== undefined && Number(declared) !== body.length) {
        throw new AwsServiceError(
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
      }
    }
    const md5 = request.headers["content-md5"];
    if (typeof md5 === "string" && md5 !== createHash("md5").update(body).digest("base64")) {
      throw new AwsServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
    const checksums: Record<string, string> = {};
    const given = { ...headerMap(request), ...trailers };
    for (const [name, value] of Object.entries(given)) {
      const algorithm = /^x-amz-checksum-([a-z0-9]+)$/.exec(name)?.[1];
      if (!algorithm || algorithm === "type" || algorithm === "mode" || algorithm === "algorithm") continue;
      const compute = CHECKSUMS[algorithm];
      if (compute && compute(body) !== value) {
        throw new AwsServiceError(
          "BadDigest",
          `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
      checksums[algorithm] = value;
    }
    const storedHeaders: Record<string, string> = {};
    for (const name of STORED_HEADERS) {
      const value = request.headers[name];
      if (typeof value !== "string") continue;
      const cleaned =
        name === "content-encoding"
          ? value
              .split(",")
              .map((part) => part.trim())
              .filter((part) => part && part !== "aws-chunked")
              .join(", ")
          : value;
      if (cleaned) storedHeaders[name] = cleaned;
    }
    const metadata = Object.fromEntries(
      Object.entries(headerMap(request))
        .filter(([name]) => name.startsWith("x-amz-meta-"))
        .map(([name, value]) => [name.slice("x-amz-meta-".length), value]),
    );
    const contentType =
      typeof request.headers["content-type"] === "string" ? request.headers["content-type"] : undefined;
    const object = store(bucket, key, body, contentType, { metadata, checksums, headers: storedHeaders });
    return empty(200, {
      etag: object.etag,
      "x-amz-server-side-encryption": "AES256",
      ...Object.fromEntries(
        Object.entries(checksums).map(([algorithm, value]) => [`x-amz-checksum-${algorithm}`, value]),
      ),
    });
  };

  const getObject = (request: EmulatorRequest, bucket: string, key: string, head: boolean): EmulatorResponse => {
    const object = objectOf(bucket, key);
    const headers = objectHeaders(object);
    const range =
      typeof request.headers.range === "string" ? parseRange(request.headers.range, object.body.length) : undefined;
    if (range === null) {
      throw new AwsServiceError("InvalidRange", "The requested range is not satisfiable", 416, {
        RangeRequested: String(request.headers.range),
        ActualObjectSize: String(object.body.length),
      });
    }
    if (range) {
      const part = object.body.subarray(range.start, range.end + 1);
      return {
        status: 206,
        headers: {
          "x-amz-request-id": newRequestId(),
          ...headers,
          "content-range": `bytes ${range.start}-${range.end}/${object.body.length}`,
          "content-length": String(part.length),
        },
        ...(head ? {} : { body: part }),
      };
    }
    if (String(request.headers["x-amz-checksum-mode"] ?? "").toUpperCase() === "ENABLED") {
      const [algorithm, value] = Object.entries(object.checksums).find(([name]) => CHECKSUMS[name]) ?? [
        "crc32",
        CHECKSUMS.crc32!(object.body),
      ];
      headers[`x-amz-checksum-${algorithm}`] = value;
      headers["x-amz-checksum-type"] = "FULL_OBJECT";
    }
    return {
      status: 200,
      headers: { "x-amz-request-id": newRequestId(), ...headers, "content-length": String(object.body.length) },
      ...(head ? {} : { body: object.body }),
    };
  };

  const listObjectsV2 = (request: EmulatorRequest, bucket: string): EmulatorResponse => {
    const objects = bucketOf(bucket);
    const query = request.url.searchParams;
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const maxKeys = Math.min(Number(query.get("max-keys") ?? 1000) || 1000, 1000);
    const after = query.get("continuation-token")
      ? Buffer.from(query.get("continuation-token")!, "base64").toString("utf8")
      : (query.get("start-after") ?? "");
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const contents: string[] = [];
    const prefixes = new Set<string>();
    let last = "";
    let truncated = false;
    for (const key of keys) {
      if (contents.length + prefixes.size >= maxKeys) {
        truncated = true;
        break;
      }
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        if (!prefixes.has(common)) prefixes.add(common);
      } else {
        const object = objects.get(key)!;
        contents.push(
          `<Contents><Key>${escapeXml(key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified>` +
            `<ETag>${escapeXml(object.etag)}</ETag><Size>${object.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        );
      }
      last = key;
    }
    return xml(
      200,
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name>` +
        `<Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
        (delimiter ? `<Delimiter>${escapeXml(delimiter)}</Delimiter>` : "") +
        `<IsTruncated>${truncated}</IsTruncated>${contents.join("")}` +
        [...prefixes]
          .map((common) => `<CommonPrefixes><Prefix>${escapeXml(common)}</Prefix></CommonPrefixes>`)
          .join("") +
        (truncated ? `<NextContinuationToken>${Buffer.from(last).toString("base64")}</NextContinuationToken>` : "") +
        `</ListBucketResult>`,
    );
  };

  // The bucket checks CodeBuild makes with a project's service role before it downloads an S3 source: the owner's
  // ACL (buckets with BucketOwnerEnforced ownership have only the owner's FULL_CONTROL grant) and the region.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
  const ownerId = createHash("sha256")
    .update(settings.accountId ?? "000000000000")
    .digest("hex");
  const getBucketAcl = (bucket: string, bucketArn: string): S3Call => ({
    operation: "s3:GetBucketAcl",
    action: "s3:GetBucketAcl",
    resource: bucketArn,
    run: () => {
      bucketOf(bucket);
      const owner = `<ID>${ownerId}</ID>`;
      return xml(
        200,
        `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner>${owner}</Owner><AccessControlList>` +
          `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${owner}` +
          `</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`,
      );
    },
  });
  const getBucketLocation = (bucket: string, bucketArn: string): S3Call => ({
    operation: "s3:GetBucketLocation",
    action: "s3:GetBucketLocation",
    resource: bucketArn,
    run: () => {
      bucketOf(bucket);
      // us-east-1 answers an empty constraint.
      const region = settings.region ?? "us-east-1";
      const constraint = region === "us-east-1" ? "" : escapeXml(region);
      return xml(
        200,
        `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${constraint}</LocationConstraint>`,
      );
    },
  });

  const notImplemented = (operation: string, resource: string): S3Call => ({
    operation,
    action: "s3:*",
    resource,
    run: () => {
      throw new AwsServiceError(
        "NotImplemented",
        "A header or query you provided implies functionality that is not implemented.",
        501,
      );
    },
  });

  return {
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Map());
    },
    getObject: (bucket, key) => buckets.get(bucket)?.get(key),
    putObject: (bucket, key, body, contentType) => void store(bucket, key, Buffer.from(body), contentType),
    listObjects: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    route(request) {
      const [, rawBucket = "", ...rest] = request.url.pathname.split("/");
      const bucket = safeDecode(rawBucket);
      const key = safeDecode(rest.join("/"));
      const bucketArn = `arn:aws:s3:::${bucket}`;
      const objectArn = `arn:aws:s3:::${bucket}/${key}`;
      const query = request.url.searchParams;
      const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
      const method = request.method;
      if (!bucket) {
        return method === "GET"
          ? {
              operation: "s3:ListBuckets",
              action: "s3:ListAllMyBuckets",
              resource: "*",
              run: () =>
                xml(
                  200,
                  `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets>${[...buckets.keys()].map((name) => `<Bucket><Name>${escapeXml(name)}</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket>`).join("")}</Buckets></ListAllMyBucketsResult>`,
                ),
            }
          : notImplemented(`s3:${method}`, "*");
      }
      if (!key && method === "GET" && (query.has("acl") || query.has("location"))) {
        return query.has("acl") ? getBucketAcl(bucket, bucketArn) : getBucketLocation(bucket, bucketArn);
      }
      if (query.has("acl") || query.has("location")) {
        return notImplemented(`s3:${method} ?${query.has("acl") ? "acl" : "location"}`, key ? objectArn : bucketArn);
      }
      if (unsupported) return notImplemented(`s3:${method} ?${unsupported}`, key ? objectArn : bucketArn);
      if (!key) {
        switch (method) {
          case "PUT":
            return {
              operation: "s3:CreateBucket",
              action: "s3:CreateBucket",
              resource: bucketArn,
              run: () => {
                if (!BUCKET_NAME.test(bucket))
                  throw new AwsServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, {
                    BucketName: bucket,
                  });
                if (buckets.has(bucket))
                  throw new AwsServiceError(
                    "BucketAlreadyOwnedByYou",
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    409,
                    { BucketName: bucket },
                  );
                buckets.set(bucket, new Map());
                return empty(200, { location: `/${bucket}` });
              },
            };
          case "HEAD":
            return {
              operation: "s3:HeadBucket",
              action: "s3:ListBucket",
              resource: bucketArn,
              run: () => (bucketOf(bucket), empty(200)),
            };
          case "GET":
            return query.get("list-type") === "2"
              ? {
                  operation: "s3:ListObjectsV2",
                  action: "s3:ListBucket",
                  resource: bucketArn,
                  run: () => listObjectsV2(request, bucket),
                }
              : notImplemented("s3:ListObjects", bucketArn);
          case "DELETE":
            return {
              operation: "s3:DeleteBucket",
              action: "s3:DeleteBucket",
              resource: bucketArn,
              run: () => {
                if (bucketOf(bucket).size > 0)
                  throw new AwsServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty", 409, {
                    BucketName: bucket,
                  });
                buckets.delete(bucket);
                return empty(204);
              },
            };
          default:
            return notImplemented(`s3:${method}`, bucketArn);
        }
      }
      switch (method) {
        case "PUT":
          return request.headers["x-amz-copy-source"]
            ? notImplemented("s3:CopyObject", objectArn)
            : {
                operation: "s3:PutObject",
                action: "s3:PutObject",
                resource: objectArn,
                run: () => putObject(request, bucket, key),
              };
        case "GET":
          return {
            operation: "s3:GetObject",
            action: "s3:GetObject",
            resource: objectArn,
            run: () => getObject(request, bucket, key, false),
          };
        case "HEAD":
          // IAM has no HeadObject action: HEAD needs s3:GetObject.
          return {
            operation: "s3:HeadObject",
            action: "s3:GetObject",
            resource: objectArn,
            run: () => getObject(request, bucket, key, true),
          };
        case "DELETE":
          return {
            operation: "s3:DeleteObject",
            action: "s3:DeleteObject",
            resource: objectArn,
            run: () => {
              bucketOf(bucket).delete(key); // S3 answers 204 whether or not the key existed
              return empty(204);
            },
          };
        default:
          return notImplemented(`s3:${method}`, objectArn);
      }
    },
  };
}

function headerMap(request: EmulatorRequest): Record<string, string> {
  return Object.fromEntries(
    Object.entries(request.headers)
      .filter((entry): entry is [string, string] => typeof entry[1] === "string")
      .map(([name, value]) => [name.toLowerCase(), value]),
  );
}

/** `bytes=0-9`, `bytes=10-`, `bytes=-5` → inclusive byte positions; null when unsatisfiable; undefined when ignored. */
function parseRange(header: string, size: number): { start: number; end: number } | null | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return undefined; // several ranges or nonsense: S3 sends the whole object
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || end < start) return null;
  return { start, end };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function uint32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString("base64");
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), which S3 accepts as a checksum and Node's zlib does not compute. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
