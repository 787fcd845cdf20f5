import type { IncomingMessage } from "node:http";

/**
 * A request's whole body, or undefined once it passes `limit` bytes: the rest is read and dropped, not buffered, so
 * the client can still take its 413. Rejects if the caller goes away before the body is whole. Events rather than
 * `for await`: an async iterator per request was a visible share of the IAM proxy's CPU.
 */
export function readBody(incoming: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    incoming.once("end", () =>
      resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
    );
    incoming.once("error", reject);
    // After "end" this settles nothing; before it, the connection closed half-way through the body.
    incoming.once("close", () => reject(new Error("the caller closed the connection before its request was whole")));
  });
}
