// A TCP proxy for fault tests: forwards 127.0.0.1:<port> to a target, optionally delaying every
// chunk (each direction keeps its order) and going down (refusing and cutting connections) on
// demand. Loopback only.
import { createServer, connect } from "node:net";

export async function startTcpProxy(targetPort, port = 0) {
  let delay = () => 0;
  const sockets = new Set();
  let server;
  const pipe = (from, to) => {
    let ready = 0; // when the last chunk in this direction is delivered
    from.on("data", (chunk) => {
      const at = Math.max(performance.now() + delay(), ready);
      ready = at;
      setTimeout(() => to.destroyed || to.write(chunk), at - performance.now());
    });
    from.on("close", () => setTimeout(() => to.destroy(), Math.max(0, ready - performance.now())));
    from.on("error", () => to.destroy());
  };
  const listen = (p) => new Promise((resolve, reject) => {
    server = createServer((client) => {
      const upstream = connect(targetPort, "127.0.0.1");
      for (const s of [client, upstream]) { sockets.add(s); s.on("close", () => sockets.delete(s)); s.on("error", () => {}); }
      pipe(client, upstream);
      pipe(upstream, client);
    });
    server.once("error", reject);
    server.listen(p, "127.0.0.1", () => resolve(server.address().port));
  });
  const actualPort = await listen(port);
  let down = false;
  return {
    port: actualPort,
    /** Delay (ms) added to every chunk, from a function called per chunk. */
    setDelay(fn) { delay = fn; },
    /** Down: stop listening and cut every connection. Up: listen again on the same port. */
    async setDown(d) {
      if (d === down) return;
      down = d;
      if (d) {
        const closed = new Promise((r) => server.close(() => r()));
        for (const s of sockets) s.destroy();
        await closed;
      } else {
        for (let i = 0; ; i++) {
          try { await listen(actualPort); break; } catch (err) { if (i > 50) throw err; await new Promise((r) => setTimeout(r, 20)); }
        }
      }
    },
    async close() {
      const closed = down ? Promise.resolve() : new Promise((r) => server.close(() => r()));
      down = true;
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
