import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";

/** What the receiver does with its n-th request (0-based). */
export type Behaviour = "ok" | "5xx" | "reject" | { slowMs: number } | "reset";

/** A decision-log receiver on a free loopback port that misbehaves on demand. */
export interface LogReceiver {
  readonly url: string;
  /** Lines of every batch it answered 2xx to, or took in full before a slow answer. */
  readonly batches: Record<string, unknown>[][];
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startLogReceiver(behave: (n: number) => Behaviour): Promise<LogReceiver> {
  const batches: Record<string, unknown>[][] = [];
  const requests: IncomingMessage[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = requests.length;
    requests.push(req);
    const b = behave(n);
    if (b === "reset") {
      // Take the start of the batch, then drop the connection mid-request.
      req.once("data", () => req.socket.destroy());
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (b === "5xx") return void res.writeHead(503).end("unavailable");
      if (b === "reject") return void res.writeHead(400).end("bad batch");
      batches.push(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString("utf8")) as Record<string, unknown>[]);
      if (typeof b === "object") setTimeout(() => res.writeHead(200).end(), b.slowMs).unref();
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/logs`,
    batches,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
