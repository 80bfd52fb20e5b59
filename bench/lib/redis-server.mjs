// A throwaway redis-server on 127.0.0.1 for Verdict's shared-cache (L2) runs: no persistence,
// pinned to the load core (it stands for a Redis on another host, so it must not take the
// server core).
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { freePort, stopChild, tailOutput } from "./proc-tools.mjs";

// Answers true once the server replies +PONG.
function ping(port) {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
    s.on("error", () => resolve(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
  });
}

// Starts redis-server; returns { url, pid, stop() }.
export async function startRedis({ core = 1 } = {}) {
  const port = await freePort();
  const child = spawn("taskset", ["-c", String(core), "redis-server", "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--protected-mode", "yes"], { stdio: ["ignore", "pipe", "pipe"] });
  const output = tailOutput(child);
  child.on("error", () => {});
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}/0`, pid: child.pid, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error(`redis-server did not start (apt-get install -y redis-server)\n${output()}`);
}
