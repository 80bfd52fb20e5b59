#!/usr/bin/env node
// Engine micro-benchmark: per-call cost of CompiledPolicies.evaluate on the small (16-policy)
// and large (2,001-policy multi-tenant) scenarios, whole set vs sliced, next to the raw
// in-process cedar-wasm floor (statefulIsAuthorized with the whole set preparsed, same calls).
//
//   npm run build && node bench/engine-slicing.mjs            (about 30 s, bounded < 1 min)
//
// Options: --seconds N (time per measurement, default 2), --requests N (distinct requests per
// scenario, default 2000). Scenarios come from BENCH_SCENARIOS_DIR (default
// /work/shared/bench/scenarios). In process, one thread; run it on a quiet machine.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { distinctRequests, loadCedarScenario, toCedar, toModel } from "./lib/scenario-requests.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({ options: { seconds: { type: "string", default: "2" }, requests: { type: "string", default: "2000" } } });
const SECONDS = Number(opt.seconds);
const { CedarEngine } = await import(join(root, "dist/src/engine/cedar-engine.js"));
const { CedarRuntime } = await import(join(root, "dist/src/engine/cedar-runtime.js"));
const require = createRequire(join(root, "package.json"));
// A separate cedar-wasm instance for the floor, so neither side's preparsed state helps the other.
const cedar = require("@cedar-policy/cedar-wasm/nodejs");

/** Runs `fn(i)` for up to SECONDS (at least `min` calls, at most `max`); returns µs per call. */
function measure(fn, { min = 20, max = Infinity } = {}) {
  for (let i = 0; i < Math.min(50, max); i++) fn(i);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let n = 0;
  while (n < max && (n < min || process.hrtime.bigint() < deadline)) fn(n++);
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

const rows = [];
const row = (scenario, target, us, note = "") => {
  rows.push({ scenario, target, us, note });
  console.error(`${scenario.padEnd(6)} ${target.padEnd(34)} ${us.toFixed(1).padStart(9)} µs  ${note}`);
};

for (const scenario of ["small", "large"]) {
  const { policies, schema } = loadCedarScenario(scenario);
  const setId = `floor-${scenario}`;
  cedar.preparsePolicySet(setId, { staticPolicies: policies });
  cedar.preparseSchema(setId, schema);
  const raw = (call) => cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: setId, preparsedSchemaName: setId, validateRequest: true });
  // Keep the requests the schema accepts: the benchmark measures decisions, not refusals.
  const calls = [];
  for (const r of distinctRequests(scenario, 42)) {
    const call = toCedar(r);
    if (raw(call).type === "success") calls.push(call);
    if (calls.length >= Number(opt.requests)) break;
  }
  const reqs = calls.map(toModel);
  const sources = { policyFiles: [{ path: "policies.cedar", text: policies }], schema: { path: "schema.cedarschema", text: schema, format: "cedar" } };
  const runtime = new CedarRuntime();
  const whole = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, slicing: false }).compile(sources);
  const sliced = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64 }).compile(sources);
  const slicedExact = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, sliceByPrincipalAncestry: true }).compile(sources);
  // Warm every slice, and spot-check that slicing changes no decision (test/engine proves it).
  for (let i = 0; i < reqs.length; i++) {
    const b = sliced.evaluate(reqs[i]), c = slicedExact.evaluate(reqs[i]);
    const a = i < 50 ? whole.evaluate(reqs[i]) : b;
    if (a.decision !== b.decision || a.decision !== c.decision) throw new Error(`${scenario}: sliced and whole disagree on request ${i}`);
  }
  const cap = scenario === "large" ? { max: 400 } : {};
  const floor = measure((i) => raw(calls[i % calls.length]), cap);
  row(scenario, "raw cedar-wasm, whole set", floor, `${policies.match(/^\s*(permit|forbid)/gm).length} policies`);
  row(scenario, "evaluate, whole set", measure((i) => whole.evaluate(reqs[i % reqs.length]), cap));
  // The slices of every request are preparsed above, so these are warm-cache figures.
  row(scenario, "evaluate, sliced (resource, action)", measure((i) => sliced.evaluate(reqs[i % reqs.length])), `${sliced.sliceCount} slices for ${reqs.length} requests`);
  row(scenario, "evaluate, sliced (+ principal ancestry)", measure((i) => slicedExact.evaluate(reqs[i % reqs.length])), `${slicedExact.sliceCount} slices`);
  // Cold: a fresh bundle, so each new slice pays its preparse.
  const cold = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64 }).compile(sources);
  row(scenario, "evaluate, sliced, cold slice cache", measure((i) => cold.evaluate(reqs[i % reqs.length]), { min: reqs.length, max: reqs.length }), "first pass over the requests");
}

console.log("| scenario | target | µs/call | calls/s | vs raw whole-set floor | note |");
console.log("| --- | --- | ---: | ---: | ---: | --- |");
for (const r of rows) {
  const floor = rows.find((x) => x.scenario === r.scenario && x.target === "raw cedar-wasm, whole set").us;
  console.log(`| ${r.scenario} | ${r.target} | ${r.us.toFixed(1)} | ${Math.round(1e6 / r.us)} | ${(floor / r.us).toFixed(2)}× | ${r.note} |`);
}
