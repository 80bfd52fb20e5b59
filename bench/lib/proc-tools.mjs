// Small process helpers for the servers under test: free loopback ports, readiness polling,
// memory (RSS) readings, and stopping exactly the process that was started.
import { createServer } from "node:net";
import { readFileSync } from "node:fs";

// A free TCP port on 127.0.0.1 (bound and released; a tiny race is acceptable here).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Polls an HTTP URL until it answers 200, or throws after `timeoutMs` / if `child` exits.
export async function waitHttp200(url, { timeoutMs = 30000, child } = {}) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child && child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before ${url} answered`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

// { rssKb, hwmKb } of a pid from /proc (current and peak resident memory).
export function memoryKb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k) => Number(s.match(new RegExp(`${k}:\\s+(\\d+) kB`))?.[1] ?? NaN);
    return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return { rssKb: NaN, hwmKb: NaN };
  }
}

// Stops one child we started: SIGTERM, then SIGKILL after `graceMs`.
export async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await done;
  clearTimeout(t);
}

// Keeps the last `max` characters a child wrote, for error messages.
export function tailOutput(child, max = 4000) {
  let buf = "";
  const add = (d) => { buf = (buf + d).slice(-max); };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return () => buf;
}
