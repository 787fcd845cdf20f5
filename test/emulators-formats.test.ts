import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import fc from "fast-check";
import { parse, validate } from "graphql";
import { decodeAwsChunked } from "../local/emulators/aws/awsChunked";
import { githubGraphqlSchema } from "../local/emulators/github/githubGraphqlSchema";
import { normaliseFiles, snapshotArchive, snapshotOf } from "../local/emulators/github/gitSnapshot";
import { blobsQuery } from "../runtime/github/repositoryClient";
import { readZip } from "./helpers/zipEntries";
import { temporaryFolder } from "./helpers/emulators";

const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);

test("the zipball keeps every file's bytes and mode, and the commit SHA as comment", (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.uint8Array({ maxLength: 300 }), fc.boolean()),
        {
          selector: ([parts]) => parts.join("/"),
          maxLength: 12,
        },
      ),
      (files) => {
        // A path cannot be both a file and a folder's prefix.
        const paths = files.map(([parts]) => parts.join("/"));
        fc.pre(paths.every((one) => !paths.some((other) => other.startsWith(`${one}/`))));
        fc.pre(files.length > 0);
        const snapshot = snapshotOf(
          normaliseFiles(
            Object.fromEntries(files.map(([parts, content, executable]) => [parts.join("/"), { content, executable }])),
          ),
          { message: "m", date: new Date(Date.UTC(2024, 0, 1)) },
        );
        const { entries, comment } = readZip(snapshotArchive(snapshot, "o-r-0123456/"));
        t.is(comment, snapshot.commit.sha);
        const read = new Map(entries.map((entry) => [entry.path, entry]));
        t.is(read.get("o-r-0123456/")?.mode, 0o40755);
        for (const [parts, content, executable] of files) {
          const entry = read.get(`o-r-0123456/${parts.join("/")}`);
          t.deepEqual([...(entry?.content ?? [])], [...content]);
          t.is(entry?.mode, executable ? 0o100755 : 0o100644);
        }
      },
    ),
    { numRuns: 40 },
  );
});

test("unzip accepts the zipball and restores its modes (when unzip is installed)", (t) => {
  const folder = temporaryFolder(t);
  const file = path.join(folder, "a.zip");
  const snapshot = snapshotOf(
    normaliseFiles({
      "compressible.txt": "x".repeat(5000),
      "bin/start": { content: "#!/bin/sh\n", executable: true },
      empty: "",
    }),
    { message: "m", date: new Date(Date.UTC(2024, 0, 1)) },
  );
  writeFileSync(file, snapshotArchive(snapshot, "p/"));
  try {
    execFileSync("unzip", ["-tq", file]);
    t.regex(execFileSync("unzip", ["-l", file], { encoding: "utf8" }), /5000\s+\S+\s+\S+\s+p\/compressible\.txt/);
    execFileSync("unzip", ["-q", file, "-d", path.join(folder, "out")]);
    t.is(statSync(path.join(folder, "out", "p", "bin", "start")).mode & 0o777, 0o755);
    t.is(statSync(path.join(folder, "out", "p", "empty")).mode & 0o777, 0o644);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    t.log("unzip is not installed");
    t.pass();
  }
});

test("decodeAwsChunked reads signed chunks and trailers, and refuses short bodies", (t) => {
  const signed = Buffer.from(
    "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=0\r\n" +
      "x-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:zzz\r\n\r\n",
  );
  const decoded = decodeAwsChunked(signed);
  t.is(decoded.body.toString(), "hello world");
  t.deepEqual(decoded.trailers, { "x-amz-checksum-crc32": "DUoRhQ==", "x-amz-trailer-signature": "zzz" });
  t.throws(() => decodeAwsChunked(Buffer.from("10\r\nshort\r\n")), { message: /shorter/ });
  t.throws(() => decodeAwsChunked(Buffer.from("zz\r\n")), { message: /invalid chunk size/ });
});

test("every file-read query the runtime sends is valid on the emulator's GitHub schema", (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.array(segment, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 120 }),
      (files) => {
        const { query } = blobsQuery(
          "acme",
          "web",
          "0".repeat(40),
          files.map((parts) => parts.join("/")),
        );
        t.deepEqual(validate(githubGraphqlSchema, parse(query)).map(String), []);
      },
    ),
    { numRuns: 50 },
  );
});
