#!/usr/bin/env node
// In-process evaluation: the compiled evaluator against cedar-wasm (as Verdict calls it, sliced),
// on the small (16-policy) and large (2,001-policy) scenarios, same requests, same run.
//
//   npm run build && node bench/engine-compiled.mjs [--seconds 2] [--requests 2000]
//
// Reports per-call p50/p99 and calls/s, the ratio, and bundle activation time for each.
// Every request's answer is compared between the two first (it exits 1 on a disagreement).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { distinctRequests, loadCedarScenario, toCedar, toModel } from "./lib/scenario-requests.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({ options: { seconds: { type: "string", default: "2" }, requests: { type: "string", default: "2000" } } });
const SECONDS = Number(opt.seconds);
const { CedarEngine } = await import(join(root, "dist/src/engine/cedar-engine.js"));
const { CedarRuntime } = await import(join(root, "dist/src/engine/cedar-runtime.js"));
const { outcomeOf, sameOutcome } = await import(join(root, "dist/src/engine/evaluator-choice.js"));


/** Per-call timings for SECONDS (bounded); returns p50, p99 (µs) and calls/s. */
function measure(fn) {
  for (let i = 0; i < 200; i++) fn(i);
  const times = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let n = 0;
  let t = start;
  while (t < deadline && n < 2_000_000) {
    fn(n++);
    const now = process.hrtime.bigint();
    times.push(Number(now - t) / 1e3);
    t = now;
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], perSecond: n / (Number(t - start) / 1e9) };
}

const rows = [];
let disagreements = 0;
for (const scenario of ["small", "large"]) {
  const { policies, schema } = loadCedarScenario(scenario);
  const sources = { policyFiles: [{ path: "policies.cedar", text: policies }], schema: { path: "schema.cedarschema", text: schema, format: "cedar" } };
  const runtime = new CedarRuntime();
  const timed = (fn) => {
    const t = process.hrtime.bigint();
    const out = fn();
    return [out, Number(process.hrtime.bigint() - t) / 1e6];
  };
  const [wasm, wasmMs] = timed(() => new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64 }).compile(sources));
  const [compiled, compiledMs] = timed(() => new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, evaluator: "compiled", crossCheckRate: 0 }).compile(sources));
  if (compiled.evaluator !== "compiled") throw new Error(`${scenario}: the bundle stayed on cedar-wasm`);
  const reqs = [];
  for (const r of distinctRequests(scenario, 42)) {
    reqs.push(toModel(toCedar(r)));
    if (reqs.length >= Number(opt.requests)) break;
  }
  let refused = 0;
  for (const r of reqs) {
    const a = outcomeOf(() => compiled.evaluate(r));
    const b = outcomeOf(() => wasm.evaluateWasm(r));
    if ("refused" in b) refused++;
    if (!sameOutcome(a, b)) disagreements++;
  }
  const accepted = reqs.filter((r) => !("refused" in outcomeOf(() => wasm.evaluateWasm(r))));
  const w = measure((i) => wasm.evaluateWasm(accepted[i % accepted.length]));
  const c = measure((i) => compiled.evaluate(accepted[i % accepted.length]));
  rows.push({ scenario, w, c, wasmMs, compiledMs, n: reqs.length, refused });
}
console.log("| scenario | evaluator | p50 µs | p99 µs | calls/s | speed-up | activation ms |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.scenario} | cedar-wasm (sliced) | ${r.w.p50.toFixed(1)} | ${r.w.p99.toFixed(1)} | ${Math.round(r.w.perSecond)} | 1.00× | ${r.wasmMs.toFixed(0)} |`);
  console.log(`| ${r.scenario} | compiled | ${r.c.p50.toFixed(1)} | ${r.c.p99.toFixed(1)} | ${Math.round(r.c.perSecond)} | ${(r.c.perSecond / r.w.perSecond).toFixed(1)}× | ${r.compiledMs.toFixed(0)} |`);
}
console.log(`requests compared: ${rows.map((r) => `${r.scenario} ${r.n} (${r.refused} refused by the schema)`).join(", ")}; disagreements: ${disagreements}`);
process.exit(disagreements > 0 ? 1 : 0);
