import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import fc from "fast-check";
import { decodeAwsChunked } from "../local/emulators/aws/awsChunked";
import { parseGraphQL, type FieldNode } from "../local/emulators/github/graphqlDocument";
import { createZip, readZip } from "../local/emulators/zip";
import { temporaryFolder } from "./helpers/emulators";

const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);

test("createZip and readZip round-trip any set of files, folders and modes", (t) => {
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
        const entries = files.map(([parts, content, executable]) => ({
          path: `root/${parts.join("/")}`,
          content,
          mode: executable ? 0o100755 : 0o100644,
        }));
        const { entries: read, comment } = readZip(createZip([{ path: "root/" }, ...entries], "c0ffee"));
        t.is(comment, "c0ffee");
        t.deepEqual(
          read.map((entry) => [entry.path, [...entry.content], entry.mode]),
          [["root/", [], 0o40755], ...entries.map((entry) => [entry.path, [...entry.content], entry.mode])],
        );
      },
    ),
    { numRuns: 60 },
  );
});

test("unzip accepts what createZip writes (when unzip is installed)", (t) => {
  const file = path.join(temporaryFolder(t), "a.zip");
  writeFileSync(
    file,
    createZip([
      { path: "p/" },
      { path: "p/compressible.txt", content: Buffer.from("x".repeat(5000)) },
      { path: "p/tiny", content: Buffer.from("y") },
      { path: "p/empty", content: Buffer.alloc(0) },
    ]),
  );
  try {
    execFileSync("unzip", ["-tq", file]);
    t.regex(execFileSync("unzip", ["-l", file], { encoding: "utf8" }), /5000\s+\S+\s+\S+\s+p\/compressible\.txt/);
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
