#!/usr/bin/env node
// Verdict benchmark: the same requests against Verdict, the Cerbos PDP and the raw cedar-wasm
// floor, server pinned to one core and h2load to the other, loopback only, bounded in time.
//
//   node bench/run.mjs                                  # everything available, ~4-5 minutes
//   node bench/run.mjs --targets cerbos,cedar-floor --scenarios small
//   node bench/run.mjs --targets verdict --workloads miss,hit90 --verdict-dir /tmp/verdict-bench
//
// Prints a markdown table (see bench/README.md). Exits non-zero when a check found a wrong
// decision or a gRPC error.
import { parseArgs } from "node:util";
import { mkdirSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";


const { values: v } = parseArgs({
  options: {
    targets: { type: "string", default: "cerbos,cedar-floor,verdict" },
    scenarios: { type: "string", default: "small,large" },
    workloads: { type: "string", default: "miss,hit90,l2" },
    "verdict-dir": { type: "string", default: "/tmp/verdict-bench" },
    "verdict-env": { type: "string", multiple: true, default: [] },
    duration: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    "serial-duration": { type: "string", default: "3" },
    "floor-duration": { type: "string", default: "4" },
    conns: { type: "string", default: "4" },
    streams: { type: "string", default: "4" },
    requests: { type: "string", default: "60000" },
    verify: { type: "string", default: "300" },
    seed: { type: "string", default: "1" },
    "server-core": { type: "string", default: "0" },
    "load-core": { type: "string", default: "1" },
    "cerbos-flat": { type: "boolean", default: false },
    settle: { type: "string", default: "0" },
    paced: { type: "string", default: "0" },
    "paced-duration": { type: "string", default: "5" },
    "max-minutes": { type: "string", default: "9" },
    "work-dir": { type: "string", default: "/tmp/verdict-bench-run" },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (v.help) {
  console.log(`node bench/run.mjs [options]
  --targets LIST        cerbos,cedar-floor,verdict (default all; verdict is skipped when not built)
  --scenarios LIST      small,large
  --workloads LIST      Verdict workloads: miss,hit90,l2 (and fill100k: RSS with 100k cached decisions)
  --verdict-dir DIR     built Verdict checkout (default /tmp/verdict-bench)
  --verdict-env K=V     extra VERDICT_* setting for the Verdict server (repeatable)
  --duration S          saturating run per row (default 6) after --warmup S (default 2)
  --serial-duration S   serial (-c1 -m1) run per row (default 3)
  --conns N --streams N h2load -c / -m for the saturating run (default 4 / 4)
  --requests N          distinct frames per workload file (default 60000)
  --verify N            frames re-sent and checked per row (default 300)
  --cerbos-flat         also run Cerbos on the flat (unscoped) large policies
  --server-core LIST    CPUs for the server under test (default 0; "0,1" for the two-core rows)
  --load-core LIST      CPUs for h2load (default 1; "0,1" lets it share both with the server)
  --paced F             also an evenly paced run at F × the row's saturating req/s (e.g. 0.7),
                        reporting its p50/p99 (open loop: latency from each request's due time)
  --paced-duration S    length of the paced run (default 5)
  --settle S            seconds between Verdict's /readyz and its first load (default 0; give
                        evaluation workers, VERDICT_ENGINE_WORKERS, time to compile the bundle)
  --max-minutes M       stop starting new rows after M minutes (default 9)
  --out FILE            also write the table to FILE`);
  process.exit(0);
}

const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
const opts = {
  targets: list(v.targets), scenarios: list(v.scenarios), workloads: list(v.workloads),
  verdictDir: v["verdict-dir"],
  verdictEnv: Object.fromEntries(v["verdict-env"].map((kv) => kv.split(/=(.*)/s).slice(0, 2))),
  duration: Number(v.duration), warmup: Number(v.warmup), serialDuration: Number(v["serial-duration"]),
  floorDuration: Number(v["floor-duration"]), conns: Number(v.conns), streams: Number(v.streams),
  requests: Number(v.requests), verify: Number(v.verify), seed: Number(v.seed),
  // CPU lists as taskset takes them: "0", or "0,1" to let a process use both cores.
  serverCore: v["server-core"], loadCore: v["load-core"], cerbosFlat: v["cerbos-flat"], settle: Number(v.settle),
  paced: Number(v.paced), pacedDuration: Number(v["paced-duration"]),
};

// Benchmark-only dependencies live in bench/.tools (git-ignored), installed on first use.
const { ensureBenchTools, TOOLS_DIR } = await import("./lib/bench-tools.mjs");
ensureBenchTools();
const { ensureShim, assertH2load } = await import("./lib/h2load-driver.mjs");
const { renderTable } = await import("./lib/report-table.mjs");
assertH2load();

const started = Date.now();
const workDir = v["work-dir"];
const tmp = join(workDir, "tmp");
mkdirSync(tmp, { recursive: true });
const ctx = {
  opts, workDir, tmp,
  shim: ensureShim(TOOLS_DIR),
  log: (msg) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}`),
  outOfTime: () => Date.now() - started > Number(v["max-minutes"]) * 60000,
};

const TARGETS = {
  cerbos: async () => (await import("./targets/cerbos.mjs")).runCerbos,
  "cedar-floor": async () => (await import("./targets/cedar-floor.mjs")).runCedarFloor,
  verdict: async () => (await import("./targets/verdict.mjs")).runVerdict,
};

// Verdict runs only from a built checkout; say how to get one instead of failing the run.
if (opts.targets.includes("verdict") && !existsSync(join(opts.verdictDir, "dist/src/main.js"))) {
  ctx.log(`verdict: skipped, no build at ${opts.verdictDir} (git clone /work/main ${opts.verdictDir} && cd ${opts.verdictDir} && npm ci && npm run build)`);
  opts.targets = opts.targets.filter((t) => t !== "verdict");
}

const rows = [];
const failures = [];
for (const scenario of opts.scenarios) {
  // Cerbos first: it is the reference the other rows of the scenario are divided by.
  for (const name of ["cerbos", "cedar-floor", "verdict"].filter((t) => opts.targets.includes(t))) {
    if (!TARGETS[name]) continue;
    if (ctx.outOfTime()) { ctx.log(`${name} ${scenario}: skipped (time budget)`); continue; }
    try {
      rows.push(...(await (await TARGETS[name]())(ctx, scenario)));
    } catch (e) {
      failures.push(`${name} ${scenario}: ${e.message}`);
      ctx.log(`${name} ${scenario} FAILED: ${e.message}`);
    }
  }
}
for (const t of opts.targets) if (!TARGETS[t]) failures.push(`unknown target ${t}`);

const cpu = (() => { try { return execFileSync("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim(); } catch { return "?"; } })();
const settings = [
  `Verdict bench — ${new Date().toISOString()}, ${cpu}, Node ${process.version}`,
  `server on CPU ${opts.serverCore}, h2load on CPU ${opts.loadCore}; saturating run -c ${opts.conns} -m ${opts.streams}, ${opts.warmup}s warm-up + ${opts.duration}s; serial run -c 1 -m 1, ${opts.serialDuration}s; latencies from h2load's per-request log`,
].join("\n");
const table = renderTable(rows, settings);
console.log(table);
if (failures.length) console.log(`\nFailed:\n${failures.map((f) => `- ${f}`).join("\n")}`);
if (v.out) writeFileSync(v.out, `${table}\n`);
ctx.log(`done in ${((Date.now() - started) / 1000).toFixed(0)}s`);
const bad = rows.some((r) => r.check && (r.check.wrong || r.check.grpcErrors));
process.exit(bad || failures.length ? 1 : 0);
