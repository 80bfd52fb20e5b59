// Target "cedar-floor": raw in-process cedar-wasm statefulIsAuthorized on the same Cedar calls,
// with the schema validating each request as Verdict's engine does; run in a child process
// pinned to the server core so it gets the same CPU as the servers.
import { spawn } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const FLOOR = join(dirname(fileURLToPath(import.meta.url)), "..", "lib", "cedar-floor.mjs");

// One row for a scenario: decisions/s and per-call latency, no network.
export async function runCedarFloor(ctx, scenario) {
  const { opts } = ctx;
  ctx.log(`cedar-floor ${scenario}`);
  const args = ["-c", String(opts.serverCore), process.execPath, FLOOR, scenario, String(opts.floorDuration), "1", String(opts.seed)];
  const out = await new Promise((resolve, reject) => {
    const p = spawn("taskset", args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "", err = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), (opts.floorDuration + 60) * 1000);
    p.on("close", (code) => { clearTimeout(t); code === 0 ? resolve(text) : reject(new Error(`cedar-floor exited ${code}: ${err}`)); });
  });
  const r = JSON.parse(out.trim().split("\n").pop());
  return [{ target: "cedar-wasm floor", scenario, workload: "in process", rps: r.rps, p50: r.p50, p90: r.p90, p99: r.p99, serialP50: r.p50, rssKb: r.rssKb, hwmKb: null, cache: "none", notes: [] }];
}
