import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { type CheckRequest, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { admin, exampleFiles, failedPrecondition, TOKEN, withoutPolicy, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { oracle } from "../helpers/cedar-oracle.js";
import { exampleBundleForOracle, exampleRequest } from "../helpers/example-requests.js";
import { metricSum } from "../helpers/metrics.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const REMOVED = "editor-documents";
const N = 400;

describe("shadow evaluation", () => {
  let v: RunningVerdict;
  let a: ReturnType<typeof admin>;
  const requests: CheckRequest[] = [];
  const baseline: CheckResponse[] = [];
  let expectedAllowToDeny = 0;
  let activeRevision = "";
  const scrape = async () => (await fetch(`${v.httpUrl}/metrics`)).text();
  /** Polls until `count` shadow evaluations (and drops) have happened since `from`; no timing is asserted. */
  const evaluationsReach = async (from: number, count: number) => {
    const until = Date.now() + 30_000;
    for (;;) {
      const m = await scrape();
      const done = metricSum(m, "verdict_shadow_evaluations_total") + metricSum(m, "verdict_shadow_dropped_total") - from;
      if (done >= count) return m;
      if (Date.now() > until) assert.fail(`only ${done} of ${count} shadow evaluations happened`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** Sends every request with 8 calls in flight; answers in request order. */
  const checkAll = async () => {
    const out: CheckResponse[] = new Array(requests.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const i = next++;
          out[i] = await v.client.call<CheckResponse>("check", requests[i]!);
        }
      }),
    );
    return out;
  };

  before(async () => {
    v = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN, "shadow.sampleRate": 1 });
    a = admin(v);
    activeRevision = (await a.active()).bundle!.revision;
    const r = rng(4242);
    for (let i = 0; i < N; i++) requests.push(exampleRequest(r, `s${i}`));
    baseline.push(...(await checkAll()));
    const { policies, entities, schema } = exampleBundleForOracle();
    const { [REMOVED]: _, ...without } = policies;
    for (const req of requests) {
      const now = oracle(req, policies, entities, schema);
      const then = oracle(req, without, entities, schema);
      assert.ok("decision" in now && "decision" in then);
      if (now.decision === "allow" && then.decision === "deny") expectedAllowToDeny++;
    }
    assert.ok(expectedAllowToDeny >= 5, `the requests exercise the permit (${expectedAllowToDeny})`);
  });
  after(async () => {
    a.close();
    await v.stop();
  });

  it("under load a shadow changes no answer; divergences are counted exactly, and the decision cache is not touched", async () => {
    const pushed = await a.shadow(withoutPolicy("r-shadow", REMOVED));
    assert.equal(pushed.activated, false);
    assert.equal(pushed.bundle!.shadow, true);
    assert.equal(pushed.bundle!.revision, "r-shadow");
    const m0 = await scrape();
    const evaluated0 = metricSum(m0, "verdict_shadow_evaluations_total") + metricSum(m0, "verdict_shadow_dropped_total");
    const lookups0 = metricSum(m0, "verdict_cache_requests_total");
    const answers = await checkAll();
    for (let i = 0; i < N; i++) {
      const [got, want] = [answers[i]!, baseline[i]!];
      assert.deepEqual([got.decision, got.determiningPolicies, got.bundleRevision], [want.decision, want.determiningPolicies, activeRevision], `request ${i}`);
    }
    const m1 = await evaluationsReach(evaluated0, N);
    assert.equal(metricSum(m1, "verdict_shadow_dropped_total"), 0);
    assert.equal(metricSum(m1, "verdict_shadow_divergences_total", { kind: "allow_to_deny" }), expectedAllowToDeny);
    assert.equal(metricSum(m1, "verdict_shadow_divergences_total", { kind: "deny_to_allow" }), 0);
    assert.equal(metricSum(m1, "verdict_shadow_divergences_total", { kind: "error" }), 0);
    assert.equal(metricSum(m1, "verdict_cache_requests_total") - lookups0, N, "one cache lookup per Check, none for the shadow");
    assert.equal(metricSum(m1, "verdict_shadow_bundle_info", { revision: "r-shadow" }), 1);
  });

  it("GetActiveBundle and ListBundles show the shadow beside the active bundle", async () => {
    const got = await a.active();
    assert.equal(got.bundle!.revision, activeRevision);
    assert.equal(got.shadow!.revision, "r-shadow");
    assert.equal(got.shadow!.shadow, true);
    assert.equal(got.shadow!.active, false);
    assert.match(got.shadow!.shadowBy, /^admin:/);
    const list = (await a.list()).bundles;
    assert.deepEqual(list.map((b) => [b.revision, b.shadow, b.active]), [["r-shadow", true, false], [activeRevision, false, true]]);
  });

  it("refuses a shadow identical to the active bundle, and shadow with dry_run; the shadow stays", async () => {
    await assert.rejects(a.shadow(exampleFiles()), failedPrecondition(/is the active bundle; a shadow must differ from it/));
    await assert.rejects(a.pushWith(withRevision("r-both"), { shadow: true, dryRun: true }), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /dry_run and shadow/.test(err.details));
    assert.equal((await a.active()).shadow!.revision, "r-shadow");
  });

  it("ActivateBundle with the shadow's revision promotes it and ends the shadow", async () => {
    await a.activate("r-shadow");
    const got = await a.active();
    assert.equal(got.bundle!.revision, "r-shadow");
    assert.equal(got.shadow, undefined);
    const flipped = requests.findIndex((_, i) => baseline[i]!.decision === Decision.ALLOW && baseline[i]!.determiningPolicies.join() === REMOVED);
    assert.ok(flipped >= 0);
    const now = await v.client.call<CheckResponse>("check", requests[flipped]!);
    assert.deepEqual([now.decision, now.bundleRevision], [Decision.DENY, "r-shadow"], "the promoted bundle decides");
    assert.equal(metricSum(await scrape(), "verdict_shadow_bundle_info"), 0);
  });

  it("an ordinary push ends the shadow, and shadow evaluation stops", async () => {
    await a.shadow(withRevision("r-shadow-2"));
    assert.equal((await a.active()).shadow!.revision, "r-shadow-2");
    const pushed = await a.push(withRevision("r-next"));
    assert.equal(pushed.activated, true);
    assert.equal((await a.active()).shadow, undefined);
    assert.ok(!(await a.list()).bundles.some((b) => b.shadow));
    const m0 = await scrape();
    for (let i = 0; i < 20; i++) await v.client.call<CheckResponse>("check", requests[i]!);
    await new Promise((r) => setImmediate(r));
    const m1 = await scrape();
    assert.equal(metricSum(m1, "verdict_shadow_evaluations_total"), metricSum(m0, "verdict_shadow_evaluations_total"));
  });
});
