import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import fc from "fast-check";
import { decodeAwsChunked } from "../local/emulators/aws/awsChunked";
import { parseGraphQL, type FieldNode } from "../local/emulators/github/graphqlDocument";
import { normaliseFiles, snapshotArchive, snapshotOf } from "../local/emulators/github/gitSnapshot";
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

test("the GraphQL parser reads aliases, variables and fragments however the query is spaced", (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(" ", "\n", "\t", ",", "  ", "\r\n"), { minLength: 12, maxLength: 12 }),
      fc.integer({ min: 1, max: 5 }),
      (spaces, count) => {
        const s = (i: number) => spaces[i % spaces.length]!;
        const declarations = Array.from({ length: count }, (_, i) => `$e${i}${s(i)}:${s(i + 1)}String!`).join(s(3));
        const fields = Array.from(
          { length: count },
          (_, i) =>
            `f${i}${s(i)}:${s(i + 2)}object(${s(i)}expression:${s(i + 1)}$e${i})${s(4)}{${s(5)}...${s(6)}on${s(7)}Blob${s(8)}{text${s(9)}isBinary}}`,
        ).join(s(10));
        const query = `query${s(0)}(${declarations})${s(1)}{repository(owner:${s(2)}"a",name:"b"){${fields}}}`;
        const document = parseGraphQL(query);
        const operation = document.operations[0]!;
        t.deepEqual(
          operation.variables.map((variable) => `${variable.name}:${variable.type}`),
          Array.from({ length: count }, (_, i) => `e${i}:String!`),
        );
        const repository = operation.selections[0] as FieldNode;
        t.deepEqual(
          repository.selections?.map((field) => (field as FieldNode).alias),
          Array.from({ length: count }, (_, i) => `f${i}`),
        );
      },
    ),
    { numRuns: 50 },
  );
  t.throws(() => parseGraphQL("query { a(b: ) }"), { message: /Parse error/ });
  t.throws(() => parseGraphQL('{ a(b: "unterminated) }'), { message: /unterminated string/ });
});
