import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CedarEngine } from "../../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../../src/engine/cedar-runtime.js";
import type { CompiledBundle } from "../../../src/engine/compiled/compile-bundle.js";
import type { CompiledEvaluator } from "../../../src/engine/compiled/compiled-evaluator.js";
import { EvaluatorChoice, type EngineObserver, outcomeOf, sameOutcome } from "../../../src/engine/evaluator-choice.js";
import type { PolicySources } from "../../../src/engine/policy-sources.js";
import type { AuthzRequest } from "../../../src/model/authz-request.js";
import type { Evaluation } from "../../../src/model/decision.js";
import { fromCheckRequest } from "../../../src/server/authorization/check-mapping.js";
import { EXAMPLE_BUNDLE } from "../../helpers/bundles.js";
import { exampleRequest } from "../../helpers/example-requests.js";
import { rng } from "../../helpers/random.js";

const runtime = new CedarRuntime();
const read = (f: string) => readFileSync(join(EXAMPLE_BUNDLE, f), "utf8");
const exampleSources: PolicySources = {
  policyFiles: ["guardrails.cedar", "roles.cedar", "ownership.cedar"].map((path) => ({ path, text: read(path) })),
  schema: { path: "schema.cedarschema", text: read("schema.cedarschema"), format: "cedar" },
  entities: { path: "entities.json", text: read("entities.json") },
};
const bare = (type: string, id: string) => ({ uid: { type, id }, attrs: {}, parents: [], tags: {} });
const request = (context: AuthzRequest["context"] = {}): AuthzRequest => ({ principal: bare("User", "u"), action: { type: "Action", id: "a" }, resource: bare("Doc", "d"), context, entities: [] });

describe("engine.evaluator = compiled", () => {
  it("decides the example bundle with the compiled evaluator, as cedar-wasm does", () => {
    const policies = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, evaluator: "compiled", crossCheckRate: 0 }).compile(exampleSources);
    assert.equal(policies.evaluator, "compiled");
    const r = rng(16);
    let allows = 0;
    for (let i = 0; i < 300; i++) {
      const req = fromCheckRequest(exampleRequest(r));
      const compiled = outcomeOf(() => policies.evaluate(req));
      const wasm = outcomeOf(() => policies.evaluateWasm(req));
      assert.ok(sameOutcome(compiled, wasm), `${JSON.stringify(compiled)} vs ${JSON.stringify(wasm)}`);
      if ("evaluation" in compiled && compiled.evaluation.decision === "allow") allows++;
    }
    assert.ok(allows > 20, "the sample exercises allows");
  });

  it("stays on cedar-wasm when engine.evaluator is wasm", () => {
    const policies = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, evaluator: "wasm" }).compile(exampleSources);
    assert.equal(policies.evaluator, "wasm");
  });

  it("leaves a policy with an integer literal beyond 2^53 to cedar-wasm, reports it, and answers what Cedar answers", () => {
    const seen: { compiled: unknown[]; fallbacks: string[] } = { compiled: [], fallbacks: [] };
    const observer: EngineObserver = { compiled: (i) => seen.compiled.push(i), wasmFallback: (why) => seen.fallbacks.push(why) };
    const text = `@id("exact") permit(principal, action, resource is Doc) when { 9007199254740992 + 1 == 9007199254740993 };
@id("plain") permit(principal, action, resource is Other) when { 1 + 1 == 2 };`;
    const policies = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 64, evaluator: "compiled", crossCheckRate: 0, observer }).compile({ policyFiles: [{ path: "p.cedar", text }] });
    assert.deepEqual(seen.compiled, [{ evaluator: "compiled", fallbackPolicies: [{ id: "exact", reason: "integer literal 9007199254740992 is beyond what the JSON form carries exactly" }] }]);
    // Reaches "exact": decided by cedar-wasm, which computes the sum exactly.
    assert.deepEqual(policies.evaluate(request()).determiningPolicies, ["exact"]);
    assert.equal(seen.fallbacks.length, 1);
    // Does not reach it: compiled.
    const other = policies.evaluate({ ...request(), resource: bare("Other", "o") });
    assert.deepEqual(other.determiningPolicies, ["plain"]);
    assert.equal(seen.fallbacks.length, 1);
  });
});

describe("cross-check", () => {
  const truth: Evaluation = { decision: "deny", determiningPolicies: [], errors: [] };
  const lying = { evaluate: (): Evaluation => ({ decision: "allow", determiningPolicies: ["p"], errors: [] }), fallbacks: [] } as unknown as CompiledEvaluator;
  const bundle: CompiledBundle = { evaluator: lying };
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it("re-decides a sample with cedar-wasm after answering, reports a divergence and, if set, switches the bundle to cedar-wasm", async () => {
    const divergences: unknown[] = [];
    let wasmCalls = 0;
    const choice = new EvaluatorChoice(bundle, () => (wasmCalls++, truth), { evaluator: "compiled", crossCheckRate: 1, divergenceFallback: true, observer: { divergence: (d) => divergences.push(d) } });
    assert.equal(choice.evaluate(request()).decision, "allow", "the compiled answer is returned first");
    assert.equal(wasmCalls, 0, "cedar-wasm runs off the answering path");
    await tick();
    assert.equal(divergences.length, 1);
    assert.equal(choice.active, "wasm");
    assert.equal(choice.evaluate(request()).decision, "deny");
  });

  it("without divergenceFallback keeps answering with the compiled evaluator and counts each divergence", async () => {
    const divergences: unknown[] = [];
    const choice = new EvaluatorChoice(bundle, () => truth, { evaluator: "compiled", crossCheckRate: 1, observer: { divergence: (d) => divergences.push(d) } });
    choice.evaluate(request());
    choice.evaluate(request());
    await tick();
    assert.equal(divergences.length, 2);
    assert.equal(choice.active, "compiled");
  });

  it("compares refusals too: both refusing agree, one refusing diverges", () => {
    assert.ok(sameOutcome({ refused: "a" }, { refused: "b" }));
    assert.ok(!sameOutcome({ refused: "a" }, { evaluation: truth }));
    assert.ok(!sameOutcome({ evaluation: { ...truth, errors: [{ policyId: "x", message: "" }] } }, { evaluation: truth }));
  });
});
