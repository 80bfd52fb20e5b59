import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { caseArb, type DrtStats, DRT_SCHEMA, emptyStats, exprCaseArb, runCase, schemaCaseArb } from "../../helpers/cedar-drt.js";

// Differential random testing: the compiled evaluator must answer exactly what cedar-wasm answers
// (decision, determining policies, erroring policies, refusals) on random bundles and requests.
// `bench/drt.mjs --seed S --cases N` runs the same generators at scale.

const SEED = Number(process.env["DRT_SEED"] ?? Date.now() % 1_000_000);

function run(arb: fc.Arbitrary<Parameters<typeof runCase>[0]>, schema: string | undefined, strict: boolean, numRuns: number, seed: number): DrtStats {
  const stats = emptyStats();
  for (const c of fc.sample(arb, { seed, numRuns })) runCase(c, schema, strict, stats);
  const first = stats.mismatches[0];
  assert.equal(stats.mismatches.length, 0, `seed ${seed}: ${stats.mismatches.length} disagreements; first: ${JSON.stringify(first)}`);
  return stats;
}

describe(`compiled evaluator vs cedar-wasm (DRT, seed ${SEED})`, () => {
  it("agrees on random bundles without a schema", () => {
    const s = run(caseArb, undefined, false, 400, SEED);
    assert.ok(s.compared > 500, `too few requests compared: ${JSON.stringify(s)}`);
  });

  it("agrees on random expressions (true, false or error per policy)", () => {
    const s = run(exprCaseArb, undefined, false, 300, SEED + 1);
    assert.ok(s.errors > 50 && s.compared > 300, `generator too narrow: ${JSON.stringify(s)}`);
  });

  it("agrees on random bundles with a schema (type-directed parsing, refusals)", () => {
    const s = run(schemaCaseArb, DRT_SCHEMA, false, 400, SEED + 2);
    assert.ok(s.refusals > 20 && s.compared - s.refusals > 50, `generator too narrow: ${JSON.stringify(s)}`);
  });

  it("agrees in strict mode (an erroring forbid denies)", () => {
    run(exprCaseArb, undefined, true, 150, SEED + 3);
    run(schemaCaseArb, DRT_SCHEMA, true, 150, SEED + 4);
  });
});
