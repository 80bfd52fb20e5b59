import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { DecisionEvent } from "../../src/decision/decision-observer.js";
import { AnomalyDetector, type AnomalySettings } from "../../src/observability/anomaly/anomaly-detector.js";
import type { Anomaly, AnomalyKind } from "../../src/observability/anomaly/anomaly-report.js";
import { HyperLogLog } from "../../src/observability/anomaly/hyper-log-log.js";

const WINDOW = 60_000;
const SETTINGS: AnomalySettings = { enabled: true, windowMs: WINDOW, enumerationThreshold: 50, burstFactor: 5, burstMinDenies: 20, warmupMs: 0, maxTracked: 1000, maxSeen: 10_000, queueSize: 100_000 };

/** A detector on a fake clock, and what it raised. */
function detector(settings: Partial<AnomalySettings> = {}) {
  let now = 1_700_000_000_000 - (1_700_000_000_000 % WINDOW);
  const raised: Anomaly[] = [];
  const counted: string[] = [];
  const metrics = { anomaly: (k: AnomalyKind) => counted.push(k), deprecatedRoute: (r: string) => counted.push(`deprecated ${r}`), anomalySkipped: () => counted.push("skipped") };
  const d = new AnomalyDetector({ ...SETTINGS, ...settings }, metrics, () => [], (a) => raised.push(a), () => now);
  let n = 0;
  const decide = (principal: string, resource: string, decision: "allow" | "deny", origin?: DecisionEvent["origin"], action = "read") =>
    d.decided({
      api: "envoy",
      request: { principal: { uid: { type: "User", id: principal }, attrs: {}, parents: [], tags: {} }, action: { type: "Action", id: action }, resource: { uid: { type: "Doc", id: resource }, attrs: {}, parents: [], tags: {} }, context: {}, entities: [] },
      result: { decision, determiningPolicies: [], errors: [], decisionId: `d${n++}`, bundleRevision: "r1", cache: "miss", requestId: "" },
      durationSeconds: 0.0001,
      evaluationSeconds: undefined,
      origin,
    });
  return {
    d,
    raised,
    counted,
    decide,
    advance: (ms: number) => {
      d.drain();
      now += ms;
    },
    of: (kind: AnomalyKind) => (d.drain(), raised.filter((a) => a.kind === kind)),
  };
}

describe("anomaly detectors", () => {
  it("an enumeration run (one principal denied on many distinct resources) is flagged within the window, once", () => {
    const t = detector();
    for (let i = 0; i < 80; i++) t.decide("mallory", `doc-${i}`, "deny");
    const found = t.of("enumeration");
    assert.equal(found.length, 1);
    assert.equal(found[0]!.subject, 'User::"mallory"');
    assert.ok(found[0]!.value >= 50 && found[0]!.value <= 80, `estimate ${found[0]!.value}`);
    const at = Number(found[0]!.decisionId.slice(1));
    assert.ok(at >= 49 && at < 60, `raised by the decision that crossed the threshold, within the sketch's error (d${at})`);
  });

  it("normal traffic of the same volume is not flagged: many principals, or one denied again and again on a few resources", () => {
    const t = detector();
    for (let i = 0; i < 80; i++) t.decide(`user-${i % 20}`, `doc-${i % 7}`, i % 4 === 0 ? "deny" : "allow");
    for (let i = 0; i < 80; i++) t.decide("busy", `doc-${i % 5}`, "deny");
    assert.deepEqual(t.of("enumeration"), []);
    // The same attacker spread over windows slower than the threshold is not an enumeration in any window.
    const slow = detector();
    for (let w = 0; w < 4; w++) {
      for (let i = 0; i < 40; i++) slow.decide("patient", `doc-${w * 40 + i}`, "deny");
      slow.advance(WINDOW);
    }
    assert.deepEqual(slow.of("enumeration"), []);
  });

  it("a deny burst against the principal's own baseline is flagged; its steady rate is not", () => {
    const t = detector({ enumerationThreshold: 1_000_000 });
    for (let w = 0; w < 6; w++) {
      for (let i = 0; i < 3; i++) t.decide("alice", "doc", "deny");
      for (let i = 0; i < 30; i++) t.decide("steady", "doc", "deny");
      t.advance(WINDOW);
    }
    // Only steady's first window (no baseline yet) may count as a burst.
    assert.deepEqual(t.of("deny_burst_principal").map((a) => a.subject), ['User::"steady"']);
    for (let i = 0; i < 40; i++) t.decide("alice", "doc", "deny");
    for (let i = 0; i < 30; i++) t.decide("steady", "doc", "deny");
    const bursts = t.of("deny_burst_principal");
    assert.deepEqual(bursts.map((a) => a.subject), ['User::"steady"', 'User::"alice"']);
    assert.ok(bursts[1]!.baseline > 0 && bursts[1]!.baseline < 5, `baseline ${bursts[1]!.baseline}`);
  });

  it("deny bursts per gateway source", () => {
    const t = detector({ enumerationThreshold: 1_000_000 });
    for (let i = 0; i < 25; i++) t.decide(`u${i}`, "doc", "deny", { route: "GET /v1/docs/{id}", deprecated: false, source: "10.9.9.9" });
    assert.deepEqual(t.of("deny_burst_source").map((a) => a.subject), ["10.9.9.9"]);
  });

  it("first-seen principals, routes and actions are reported after the warm-up only, once each", () => {
    const t = detector({ warmupMs: WINDOW });
    const route = { route: "GET /v1/docs/{id}", deprecated: false, source: "10.0.0.1" };
    t.decide("alice", "doc", "allow", route);
    t.advance(WINDOW);
    t.decide("alice", "doc", "allow", route);
    t.decide("bob", "doc", "allow", route);
    t.decide("bob", "doc", "allow", { ...route, route: "POST /v1/docs" }, "write");
    t.decide("bob", "doc", "allow", { ...route, route: "POST /v1/docs" }, "write");
    t.d.drain();
    assert.deepEqual(
      t.raised.map((a) => [a.kind, a.subject]),
      [
        ["new_principal", 'User::"bob"'],
        ["new_action", 'Action::"write"'],
        ["new_route", "POST /v1/docs"],
      ],
    );
    assert.equal(t.d.report().warmedUp, true);
  });

  it("calls to deprecated routes are counted each, signalled once per window", () => {
    const t = detector();
    const legacy = { route: "GET /v1/legacy/{id}", deprecated: true, source: "10.0.0.1" };
    for (let i = 0; i < 5; i++) t.decide("alice", "doc", "allow", legacy);
    t.advance(WINDOW);
    t.decide("alice", "doc", "allow", legacy);
    assert.equal(t.of("deprecated_route").length, 2);
    assert.deepEqual(t.d.report().deprecatedRoutes, [{ route: "GET /v1/legacy/{id}", count: 6 }]);
    assert.equal(t.counted.filter((c) => c === "deprecated GET /v1/legacy/{id}").length, 6);
  });

  it("a full queue skips decisions and counts them, never blocks", () => {
    const t = detector({ queueSize: 10 });
    for (let i = 0; i < 25; i++) t.decide("alice", "doc", "allow");
    assert.equal(t.counted.filter((c) => c === "skipped").length, 15);
    assert.equal(t.d.report().skipped, 15);
  });

  it("HyperLogLog: near-exact for small counts, within 20% for large ones", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.string(), (n, salt) => {
        const h = new HyperLogLog();
        for (let i = 0; i < n; i++) h.add(`${salt}/${i}`);
        for (let i = 0; i < n; i += 3) h.add(`${salt}/${i}`); // repeats change nothing
        const estimate = h.count();
        // 256 registers: a standard error of ~6.5%; 26% is four of them (a fixed seed keeps the run repeatable).
        const tolerance = n <= 100 ? Math.max(3, n * 0.1) : n * 0.26;
        return Math.abs(estimate - n) <= tolerance;
      }),
      { numRuns: 200, seed: 20261205 },
    );
  });
});
