import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NO_CACHE_METRICS } from "../../src/cache/cache-metrics.js";
import type { SharedCache, SharedLookup } from "../../src/cache/shared-cache.js";
import { TieredDecisionCache } from "../../src/cache/tiered-decision-cache.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Evaluation } from "../../src/model/decision.js";

const req: AuthzRequest = {
  principal: { uid: { type: "User", id: "alice" }, attrs: {}, parents: [], tags: {} },
  action: { type: "Action", id: "read" },
  resource: { uid: { type: "Doc", id: "d" }, attrs: {}, parents: [], tags: {} },
  context: {},
  entities: [],
};
const deny: Evaluation = { decision: "deny", determiningPolicies: ["p1"], errors: [] };
const settings = { maxEntries: 100, ttlMs: 60_000, namespace: "ns", variant: "strict" };

/** A shared tier whose lookups resolve when the test says so, recording writes. */
function fakeShared(answer: SharedLookup = "miss") {
  const writes: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const shared = {
    get: async () => {
      await gate;
      return answer;
    },
    set: (key: string) => void writes.push(key),
  } as unknown as SharedCache;
  return { shared, writes, release: () => release() };
}

describe("tiered decision cache", () => {
  it("evaluates identical concurrent misses once", async () => {
    const { shared, writes, release } = fakeShared();
    const cache = new TieredDecisionCache(settings, shared, NO_CACHE_METRICS);
    let evaluations = 0;
    const evaluate = () => (evaluations++, deny);
    const answers = Array.from({ length: 10 }, () => cache.resolve("r1@d", req, evaluate));
    release();
    const resolved = await Promise.all(answers);
    assert.equal(evaluations, 1);
    assert.ok(resolved.every((r) => r.evaluation.decision === "deny" && r.cache === "miss"));
    assert.equal((await cache.resolve("r1@d", req, evaluate)).cache, "hit_local");
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1, "written to the shared tier once, after answering");
  });

  it("never caches a refusal: the next identical request is evaluated again", async () => {
    const cache = new TieredDecisionCache(settings, undefined, NO_CACHE_METRICS);
    assert.throws(() =>
      cache.resolve("r1@d", req, () => {
        throw new Error("refused");
      }),
    );
    assert.deepEqual(await cache.resolve("r1@d", req, () => deny), { evaluation: deny, cache: "miss" });
  });

  it("a failed shared lookup falls back to the engine and still writes the decision", async () => {
    const { shared, writes, release } = fakeShared("error");
    release();
    const cache = new TieredDecisionCache(settings, shared, NO_CACHE_METRICS);
    assert.equal((await cache.resolve("r1@d", req, () => deny)).cache, "miss");
    await new Promise((r) => setImmediate(r));
    assert.equal(writes.length, 1);
  });

  it("answers a verified shared hit as hit_shared and keeps it locally", async () => {
    const { shared, release } = fakeShared({ hit: deny });
    release();
    const cache = new TieredDecisionCache(settings, shared, NO_CACHE_METRICS);
    const never = () => assert.fail("a hit must not evaluate");
    assert.equal((await cache.resolve("r1@d", req, never)).cache, "hit_shared");
    assert.equal((await cache.resolve("r1@d", req, never)).cache, "hit_local");
  });

  it("keeps scopes apart: another bundle scope is a miss", async () => {
    const cache = new TieredDecisionCache(settings, undefined, NO_CACHE_METRICS);
    await cache.resolve("r1@d", req, () => deny);
    assert.equal((await cache.resolve("r2@e", req, () => deny)).cache, "miss");
  });
});
