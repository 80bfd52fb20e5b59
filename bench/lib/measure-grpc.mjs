// One measured row for a gRPC server already running: a saturating h2load run (-c/-m), a serial
// run (-c1 -m1) continuing the same request sequence, the server's memory, and a verification
// of a sample of the very frames sent (grpc-status and decision against cedar-wasm).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runH2load } from "./h2load-driver.mjs";
import { verifyWorkload, samplePositions } from "./grpc-verify.mjs";
import { memoryKb } from "./proc-tools.mjs";

// ctx: { opts, shim, tmp, log }. server: { url, pid }. Optional hooks: around(fn) wraps the
// saturating run (Verdict reads its counters there); decode(bytes, poolIndex) -> { decision,
// cache? }; expected(poolIndex) -> "allow" | "deny". `start` skips frames already sent.
export async function measureGrpc({ ctx, server, path, workload, decode, expected, around = (f) => f(), start = 0 }) {
  const { opts, shim, tmp } = ctx;
  const common = { url: server.url, path, workload, shim, tmp, core: opts.loadCore };
  let extra = {};
  ctx.log("  saturating run");
  const max = await around(async () => runH2load({ ...common, start, c: opts.conns, m: opts.streams, duration: opts.duration, warmup: opts.warmup }), (x) => (extra = x));
  ctx.log(`  serial run (saturating: ${Math.round(max.rps)} req/s)`);
  const serial = await runH2load({ ...common, start: start + max.served, c: 1, m: 1, duration: opts.serialDuration, warmup: 1 });
  let paced;
  if (opts.paced > 0 && max.rps > 0) {
    const rate = Math.max(1, Math.round(max.rps * opts.paced));
    ctx.log(`  paced run at ${rate} req/s (${Math.round(opts.paced * 100)}% of saturation)`);
    paced = await runPaced({ url: server.url, path, workload, start: start + max.served + serial.served, rate, seconds: opts.pacedDuration, core: opts.loadCore });
  }
  const mem = memoryKb(server.pid);
  ctx.log("  checking answers");
  const check = await verifyWorkload({ url: server.url, path, w: workload, positions: samplePositions(workload, { total: opts.verify }), decode, expected });
  const sent = start + max.served + serial.served;
  return {
    rps: max.rps, p50: max.p50, p90: max.p90, p99: max.p99,
    serialP50: serial.p50, serialRps: serial.rps,
    ...(paced ? { pacedRate: paced.rate, pacedP50: paced.p50, pacedP99: paced.p99 } : {}),
    rssKb: mem.rssKb, hwmKb: mem.hwmKb,
    check,
    notes: [
      ...(workload.kind !== "cycle" && sent > workload.positions.length ? [`frames wrapped (${sent} sent of ${workload.positions.length})`] : []),
      ...(max.partial + serial.partial ? [`${max.partial + serial.partial} split bodies`] : []),
      ...(max.failed + serial.failed ? [`${max.failed + serial.failed} h2load failures`] : []),
      ...(paced?.failed ? [`${paced.failed} failed calls in the paced run`] : []),
      ...(paced?.late ? [`paced run: ${paced.late} requests sent over 1 ms late (the generator was starved)`] : []),
    ],
    ...extra,
  };
}

const PACED = fileURLToPath(new URL("./paced-load.mjs", import.meta.url));

// The paced, open-loop run (paced-load.mjs) pinned to the load core -> its JSON report.
function runPaced({ url, path, workload, start, rate, seconds, core }) {
  return new Promise((resolve, reject) => {
    const args = ["-c", String(core), process.execPath, PACED, url, path, workload.bodiesPath, String(workload.frameLen), String(start), String(rate), String(seconds)];
    const p = spawn("taskset", args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        reject(new Error(`paced load exited ${code}: ${out}`));
      }
    });
  });
}
