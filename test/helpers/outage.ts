import net from "node:net";

/**
 * A TCP gate in front of a local server (DynamoDB Local, say) that a test can take down and bring back on the same
 * port: while down, nothing listens (connections are refused, as with a killed process) and open connections are
 * cut (requests in flight fail with ECONNRESET). What an outage looks like to a client.
 */
export interface OutageGate {
  /** `http://127.0.0.1:<port>`: use it as the client's endpoint. */
  readonly url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Down for `ms`, then up again (resolves when it is back). */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOutageGate(target: string): Promise<OutageGate> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(targetPort), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let isUp = true;
  const down = async () => {
    if (!isUp) return;
    isUp = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  const up = async () => {
    if (isUp) return;
    await listen(port);
    isUp = true;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    down,
    up,
    async outage(ms) {
      await down();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await up();
    },
    close: down,
  };
}
