import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DecisionEvent } from "../../src/decision/decision-observer.js";
import { compareBundles, type BundleSide } from "../../src/impact/compare-bundles.js";
import type { ReplayItem } from "../../src/impact/impact-report.js";
import { parseReplayLines } from "../../src/impact/replay-lines.js";
import { RequestSample } from "../../src/impact/request-sample.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Evaluation } from "../../src/model/decision.js";

const entity = (type: string, id: string) => ({ uid: { type, id }, attrs: {}, parents: [], tags: {} });
const request = (user: string, action: string): AuthzRequest => ({ principal: entity("User", user), action: { type: "Action", id: action }, resource: entity("Doc", "d"), context: {}, entities: [] });
const item = (user: string, action: string): ReplayItem => ({ request: request(user, action), requestId: `${user}-${action}` });
const allow = (...policies: string[]): Evaluation => ({ decision: "allow", determiningPolicies: policies, errors: [] });
const deny = (...policies: string[]): Evaluation => ({ decision: "deny", determiningPolicies: policies, errors: [] });
/** A side that decides by a table of principal → evaluation; any engine could stand behind it. */
const side = (revision: string, decide: (r: AuthzRequest) => Evaluation): BundleSide => ({ revision, evaluate: decide });

describe("compareBundles", () => {
  it("counts flips both ways, groups them by action and by the policies of either decision, and counts errors apart", async () => {
    const active = side("r1", (r) => (r.principal.uid.id.startsWith("a") ? allow("p-a") : r.principal.uid.id === "x" ? deny("f-x") : deny()));
    const candidate = side("r2", (r) => {
      if (r.principal.uid.id === "bad") throw new Error("schema says no");
      if (r.principal.uid.id === "a2") return deny("f-new");
      if (r.principal.uid.id === "x") return allow("p-x");
      return r.principal.uid.id.startsWith("a") ? allow("p-a") : deny();
    });
    const items = [item("a1", "read"), item("a2", "read"), item("a2", "edit"), item("x", "edit"), item("b", "read"), item("bad", "read")];
    const r = await compareBundles(items, active, candidate, 1);
    assert.deepEqual(
      { requests: r.requests, unchanged: r.unchanged, flipped: r.flipped, allowToDeny: r.allowToDeny, denyToAllow: r.denyToAllow, errors: r.errors },
      { requests: 6, unchanged: 2, flipped: 3, allowToDeny: 2, denyToAllow: 1, errors: 1 },
    );
    assert.deepEqual(r.byAction.map((g) => [g.key, g.allowToDeny, g.denyToAllow, g.examples.length]), [['Action::"edit"', 1, 1, 1], ['Action::"read"', 1, 0, 1]]);
    assert.deepEqual(r.byPolicy.map((g) => [g.key, g.allowToDeny, g.denyToAllow]), [["f-new", 2, 0], ["p-a", 2, 0], ["f-x", 0, 1], ["p-x", 0, 1]]);
    assert.equal(r.byAction[0]!.examples[0]!.requestId, "a2-edit", "examples keep replay order");
    assert.deepEqual(r.errorExamples.map((e) => [e.requestId, "error" in e.candidate ? e.candidate.error : ""]), [["bad-read", "schema says no"]]);
    assert.equal(r.activeRevision, "r1");
    assert.equal(r.candidateRevision, "r2");
  });

  it("a request that cannot be read is an error, not a decision", async () => {
    const unreadable: ReplayItem = {
      get request(): AuthzRequest {
        throw new Error("malformed bytes");
      },
      requestId: "u",
    };
    const same = side("r", () => allow("p"));
    const r = await compareBundles([unreadable, item("a", "read")], same, same);
    assert.equal(r.errors, 1);
    assert.equal(r.unchanged, 1);
    assert.match(JSON.stringify(r.errorExamples[0]!.active), /malformed bytes/);
  });
});

describe("RequestSample", () => {
  const event = (i: number, reads?: { n: number }): DecisionEvent => ({
    api: "check",
    get request() {
      if (reads) reads.n++;
      return request(`u${i}`, "read");
    },
    result: { ...allow(), decisionId: `d${i}`, bundleRevision: "r", cache: "hit_local", requestId: `q${i}` },
    durationSeconds: 0,
    evaluationSeconds: undefined,
  });

  it("keeps the most recent requests, oldest first, without reading them when recording", () => {
    const sample = new RequestSample({ sampleSize: 3, sampleRate: 1 });
    const reads = { n: 0 };
    for (let i = 0; i < 5; i++) sample.decided(event(i, reads));
    assert.equal(reads.n, 0, "recording never decodes a request");
    const items = sample.items();
    assert.deepEqual(items.map((x) => [x.requestId, x.decisionId]), [["q2", "d2"], ["q3", "d3"], ["q4", "d4"]]);
    assert.equal(items[0]!.request.principal.uid.id, "u2");
    assert.equal(sample.size, 3);
  });

  it("records the configured fraction of decisions", () => {
    let draw = 0;
    const draws = [0.1, 0.9, 0.2, 0.7];
    const sample = new RequestSample({ sampleSize: 10, sampleRate: 0.5 }, () => draws[draw++ % draws.length]!);
    for (let i = 0; i < 4; i++) sample.decided(event(i));
    assert.deepEqual(sample.items().map((x) => x.requestId), ["q0", "q2"]);
  });
});

describe("parseReplayLines", () => {
  const req = { principal: { uid: { type: "User", id: "a" } }, action: { type: "Action", id: "read" }, resource: { uid: { type: "Doc", id: "d" } }, requestId: "r-1" };

  it("reads decision log lines (with request), policy-test objects and bare requests", () => {
    const text = [JSON.stringify({ decision_id: "d-1", request: req }), "", JSON.stringify({ request: req, expect: { decision: "allow" } }), JSON.stringify(req)].join("\n");
    const items = parseReplayLines(text, "f.jsonl");
    assert.deepEqual(items.map((i) => [i.requestId, i.decisionId]), [["r-1", "d-1"], ["r-1", undefined], ["r-1", undefined]]);
    assert.equal(items[0]!.request.principal.uid.id, "a");
  });

  it("refuses a bad line, naming the file and line", () => {
    assert.throws(() => parseReplayLines(`${JSON.stringify(req)}\n{not json`, "f.jsonl"), /f\.jsonl:2: not JSON/);
    assert.throws(() => parseReplayLines(`[1]`, "f.jsonl"), /f\.jsonl:1: must be a JSON object/);
    assert.throws(() => parseReplayLines(JSON.stringify({ decision_id: "d" }), "f.jsonl"), /f\.jsonl:1: a decision log line without "request"/);
    assert.throws(() => parseReplayLines(JSON.stringify({ ...req, principal: { uid: { type: "User" } } }), "f.jsonl"), /f\.jsonl:1: request\.principal\.uid\.id: must be a string/);
  });
});
