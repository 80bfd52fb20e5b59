import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import type { BundleSnapshot } from "../../src/bundle/bundle-snapshot.js";
import { ShadowBundle } from "../../src/bundle/shadow-bundle.js";
import type { DecisionEvent } from "../../src/decision/decision-observer.js";
import { DEFAULT_REQUEST_LIMITS } from "../../src/decision/request-limits.js";
import { UncachedEvaluator } from "../../src/decision/uncached-evaluator.js";
import type { Divergence } from "../../src/impact/divergence.js";
import { ShadowEvaluator, type ShadowSettings } from "../../src/impact/shadow-evaluator.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Evaluation } from "../../src/model/decision.js";
import type { Logger } from "../../src/observability/logger.js";

const entity = (type: string, id: string) => ({ uid: { type, id }, attrs: {}, parents: [], tags: {} });
const request = (user: string): AuthzRequest => ({ principal: entity("User", user), action: { type: "Action", id: "read" }, resource: entity("Doc", "d"), context: {}, entities: [] });
const event = (user: string, decision: "allow" | "deny"): DecisionEvent => ({
  api: "check",
  request: request(user),
  result: { decision, determiningPolicies: decision === "allow" ? ["p"] : [], errors: [], decisionId: `d-${user}`, bundleRevision: "active", cache: "miss", requestId: user },
  durationSeconds: 0,
  evaluationSeconds: undefined,
});
/** A snapshot whose engine is a function: the evaluator only needs `policies.evaluate`. */
const snapshot = (revision: string, evaluate: (r: AuthzRequest) => Evaluation) =>
  ({ revision, trustedEntityTypes: new Set<string>(), policies: { evaluate } }) as unknown as BundleSnapshot;
const denyAll = snapshot("shadow", () => ({ decision: "deny", determiningPolicies: [], errors: [] }));

function setup(settings: Partial<ShadowSettings> = {}, random?: () => number) {
  const counts = { evaluated: 0, dropped: 0, diverged: [] as Divergence[] };
  const logged: Record<string, unknown>[] = [];
  const shadow = new ShadowBundle();
  const log = { info: (line: Record<string, unknown>) => logged.push(line) } as unknown as Logger;
  const metrics = { shadowEvaluated: () => counts.evaluated++, shadowDropped: () => counts.dropped++, shadowDiverged: (k: Divergence) => counts.diverged.push(k) };
  const evaluator = new ShadowEvaluator(shadow, new UncachedEvaluator(DEFAULT_REQUEST_LIMITS, "refuse"), { sampleRate: 1, queueSize: 100, maxLogLinesPerSecond: 100, ...settings }, metrics, log, random);
  return { counts, logged, shadow, evaluator };
}
/** Lets the queue drain: evaluations run on timers, each wait here lets at least one run through. */
const settle = async () => {
  for (let i = 0; i < 50; i++) await sleep(2);
};

describe("ShadowEvaluator", () => {
  it("evaluates nothing while there is no shadow", async () => {
    const { counts, evaluator } = setup();
    evaluator.decided(event("a", "allow"));
    await settle();
    assert.equal(counts.evaluated, 0);
  });

  it("evaluates after the decision returns, counts and logs each divergence with both decisions", async () => {
    const { counts, logged, shadow, evaluator } = setup();
    shadow.set(denyAll, new Uint8Array(), "test");
    evaluator.decided(event("a", "allow"));
    evaluator.decided(event("b", "deny"));
    assert.equal(counts.evaluated, 0, "nothing is evaluated on the decision path");
    await settle();
    assert.equal(counts.evaluated, 2);
    assert.deepEqual(counts.diverged, ["allow_to_deny"]);
    assert.equal(logged.length, 1);
    assert.deepEqual(logged[0]!["active"], { revision: "active", decision: "allow", determining_policies: ["p"] });
    assert.deepEqual(logged[0]!["shadow"], { revision: "shadow", decision: "deny", determining_policies: [] });
    assert.equal(logged[0]!["decision_id"], "d-a");
    assert.equal(logged[0]!["principal"], 'User::"a"');
  });

  it("counts a shadow that cannot decide as an error divergence", async () => {
    const { counts, logged, shadow, evaluator } = setup();
    shadow.set(snapshot("s", () => { throw new Error("no such attribute"); }), new Uint8Array(), "test");
    evaluator.decided(event("a", "deny"));
    await settle();
    assert.deepEqual(counts.diverged, ["error"]);
    assert.deepEqual(logged[0]!["shadow"], { revision: "s", error: "no such attribute" });
  });

  it("drops (and counts) what a full queue cannot take, and samples the configured fraction", async () => {
    const { counts, shadow, evaluator } = setup({ queueSize: 2 });
    shadow.set(denyAll, new Uint8Array(), "test");
    for (let i = 0; i < 5; i++) evaluator.decided(event(`u${i}`, "deny"));
    await settle();
    assert.deepEqual([counts.evaluated, counts.dropped], [2, 3]);
    let draw = 0;
    const half = setup({ sampleRate: 0.5 }, () => [0.2, 0.8][draw++ % 2]!);
    half.shadow.set(denyAll, new Uint8Array(), "test");
    for (let i = 0; i < 10; i++) half.evaluator.decided(event(`u${i}`, "deny"));
    await settle();
    assert.equal(half.counts.evaluated, 5);
  });

  it("does not evaluate what was queued for a shadow that has ended", async () => {
    const { counts, shadow, evaluator } = setup();
    shadow.set(denyAll, new Uint8Array(), "test");
    evaluator.decided(event("a", "allow"));
    shadow.clear();
    await settle();
    assert.equal(counts.evaluated, 0);
  });

  it("logs at most maxLogLinesPerSecond divergences, counting all of them", async () => {
    const { counts, logged, shadow, evaluator } = setup({ maxLogLinesPerSecond: 1 });
    shadow.set(denyAll, new Uint8Array(), "test");
    for (let i = 0; i < 20; i++) evaluator.decided(event(`u${i}`, "allow"));
    await settle();
    assert.equal(counts.diverged.length, 20);
    assert.ok(logged.length >= 1 && logged.length <= 2, `${logged.length} lines (one per second, the run may straddle a second)`);
  });
});
