/**
 * Decodes the `aws-chunked` content encoding the AWS SDKs use for streamed uploads with trailing checksums:
 * `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0\r\n<trailer>:<value>\r\n…\r\n`.
 */
export function decodeAwsChunked(encoded: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const chunks: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  for (;;) {
    const lineEnd = encoded.indexOf("\r\n", at);
    if (lineEnd < 0) throw new Error("aws-chunked body ends inside a chunk header");
    const size = parseInt(encoded.subarray(at, lineEnd).toString("latin1").split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error("aws-chunked body has an invalid chunk size");
    at = lineEnd + 2;
    if (size === 0) break;
    if (at + size > encoded.length) throw new Error("aws-chunked body is shorter than its chunk sizes say");
    chunks.push(encoded.subarray(at, at + size));
    at += size + 2; // the chunk's trailing CRLF
  }
  // Trailer lines until an empty line (or the end, which some writers omit).
  while (at < encoded.length) {
    const lineEnd = encoded.indexOf("\r\n", at);
    const line = encoded.subarray(at, lineEnd < 0 ? encoded.length : lineEnd).toString("latin1");
    at = lineEnd < 0 ? encoded.length : lineEnd + 2;
    if (!line) break;
    const colon = line.indexOf(":");
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(chunks), trailers };
}
