#!/usr/bin/env node
// Differential random testing: the compiled evaluator against cedar-wasm, N random cases.
// node bench/drt.mjs --seed 42 --cases 1000000 [--schema only|none|both] [--strict]
import fc from "fast-check";
import { parseArgs } from "node:util";
import { caseArb, exprCaseArb, DRT_SCHEMA, emptyStats, runCase } from "../dist/test/helpers/cedar-drt.js";

const { values } = parseArgs({ options: { seed: { type: "string", default: "1" }, cases: { type: "string", default: "10000" }, schema: { type: "string", default: "both" }, strict: { type: "boolean", default: false } } });
const seed = Number(values.seed);
const total = Number(values.cases);
const stats = emptyStats();
const started = Date.now();
const batch = 1000;
for (let done = 0; done < total; done += batch) {
  const n = Math.min(batch, total - done);
  // Alternate whole random bundles with bundles of random expressions.
  const cases = fc.sample((done / batch) % 2 === 0 ? caseArb : exprCaseArb, { seed: seed + done, numRuns: n });
  cases.forEach((c, i) => {
    const withSchema = values.schema === "only" || (values.schema === "both" && (done + i) % 2 === 1);
    runCase(c, withSchema ? DRT_SCHEMA : undefined, values.strict, stats);
  });
  if (stats.mismatches.length > 0) break;
  if ((done / batch) % 10 === 0) process.stderr.write(`${done + n} cases, ${stats.compared} requests compared, ${Math.round((Date.now() - started) / 1000)} s\n`);
}
const { mismatches, ...counts } = stats;
console.log(JSON.stringify({ seed, ...counts, mismatches: mismatches.length, seconds: (Date.now() - started) / 1000 }));
for (const m of mismatches.slice(0, 3)) console.log(JSON.stringify(m, null, 1));
process.exit(mismatches.length > 0 ? 1 : 0);
