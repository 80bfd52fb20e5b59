// Load with h2load (Debian's nghttp2-client), pinned to the load core: pre-encoded gRPC frames,
// one distinct frame per request through the h2mix-preload shim, latencies from h2load's
// per-request log. h2load only sees HTTP status; grpc-status is checked by grpc-verify.mjs.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { percentiles } from "./stats.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SHIM_SRC = join(HERE, "h2mix-preload.c");

// Builds the shim once (gcc) into the tools dir; returns its path.
export function ensureShim(toolsDir) {
  const so = join(toolsDir, "h2mix-preload.so");
  if (!existsSync(so) || statSync(so).mtimeMs < statSync(SHIM_SRC).mtimeMs) {
    execFileSync("gcc", ["-O2", "-shared", "-fPIC", "-o", so, SHIM_SRC, "-ldl"], { stdio: "inherit" });
  }
  return so;
}

// Fails early with the install hint when h2load is missing.
export function assertH2load() {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("h2load not found: apt-get update && apt-get install -y nghttp2-client");
  }
}

// Runs one h2load load. opts: { url, path, workload, start, c, m, n | duration, warmup,
// core, shim, tmp, timeoutS }. Returns { rps, count, succeeded, failed, statuses (HTTP status -> n; -1 = stream not
// finished), p50, p90, p99 (µs, HTTP 200 only), served, partial (shim counters) }.
export async function runH2load(opts) {
  const { url, path, workload: w, c = 8, m = 8, core = 1, shim, tmp, start = 0 } = opts;
  const log = join(tmp, `h2load-${process.pid}-${Date.now()}.log`);
  const report = `${log}.mix`;
  const args = [
    "-c", String(c), "-m", String(m), "-t", "1",
    "-d", w.dataPath,
    "-H", "content-type: application/grpc", "-H", "te: trailers",
    "--log-file", log,
  ];
  if (opts.duration) args.push("-D", String(opts.duration), ...(opts.warmup ? ["--warm-up-time", String(opts.warmup)] : []));
  else args.push("-n", String(opts.n));
  args.push(`${url}${path}`);
  const env = { ...process.env, LD_PRELOAD: shim, H2MIX_DATA: w.dataPath, H2MIX_BODIES: w.bodiesPath, H2MIX_START: String(start), H2MIX_REPORT: report };
  const timeoutS = opts.timeoutS ?? (opts.duration ? opts.duration + (opts.warmup ?? 0) + 20 : 120);
  const out = await new Promise((resolve, reject) => {
    const p = spawn("taskset", ["-c", String(core), "h2load", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutS * 1000);
    p.on("error", reject);
    p.on("close", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve(text) : reject(new Error(`h2load exited ${code}:\n${text}`));
    });
  });
  const num = (re) => Number(out.match(re)?.[1] ?? NaN);
  const lat = [];
  const statuses = {};
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (!line) continue;
    const [, status, us] = line.split("\t");
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === "200") lat.push(Number(us));
  }
  const [served, partial] = existsSync(report) ? readFileSync(report, "utf8").trim().split(" ").map(Number) : [NaN, NaN];
  rmSync(log, { force: true });
  rmSync(report, { force: true });
  return {
    rps: num(/finished in [\d.]+\w+, ([\d.]+) req\/s/),
    count: num(/requests: (\d+) total/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/) + num(/(\d+) errored/) + num(/(\d+) timeout/),
    statuses,
    ...percentiles(lat),
    served, partial,
    raw: out,
  };
}
