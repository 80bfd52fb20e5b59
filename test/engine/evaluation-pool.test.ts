import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { BundleLoader } from "../../src/bundle/bundle-loader.js";
import type { BundleSnapshot } from "../../src/bundle/bundle-snapshot.js";
import { requestFromJson } from "../../src/model/request-json.js";
import { readBundleDirectory } from "../../src/bundle/sources/read-directory.js";
import { CedarEngine, DEFAULT_ENGINE_OPTIONS } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { EvaluationPool } from "../../src/engine/evaluation-pool.js";
import { VerdictError } from "../../src/errors.js";
import { CacheStatus, CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Value } from "../../src/model/entity.js";
import { TOKENS } from "../../src/tokens.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { rng } from "../helpers/random.js";
import { startVerdict } from "../helpers/start-verdict.js";

const examples = readdirSync(join(EXAMPLE_BUNDLE, "tests"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => requestFromJson((JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests", f), "utf8")) as { request: unknown }).request).request);

/** Variations of the example requests: other principals, actions, MFA, IP, and odd context keys. */
function variations(count: number): AuthzRequest[] {
  const r = rng(7);
  const str = (value: string): Value => ({ kind: "string", value });
  return Array.from({ length: count }, () => {
    const base = r.pick(examples);
    const context: Record<string, Value> = Object.create(null);
    Object.assign(context, base.context, { mfa: { kind: "bool", value: r.bool() } });
    if (r.next() < 0.3) context["sourceIp"] = { kind: "extension", fn: "ip", arg: r.pick(["10.1.2.3", "192.168.1.9", "203.0.113.7"]) };
    if (r.next() < 0.1) context["__proto__"] = str("x"); // not in the schema: refused alike everywhere
    return {
      ...base,
      principal: { ...base.principal, uid: { type: "App::User", id: r.pick(["alice", "bob", "carol", "dave", "erin"]) } },
      action: { type: "App::Action", id: r.pick(["view", "comment", "edit", "delete", "share"]) },
      context,
    };
  });
}

type Outcome = { decision: string; determiningPolicies: readonly string[]; errors: readonly unknown[] } | { refused: string; message: string };
const outcome = async (run: () => unknown): Promise<Outcome> => {
  try {
    const e = (await run()) as { decision: string; determiningPolicies: readonly string[]; errors: readonly unknown[] };
    return { decision: e.decision, determiningPolicies: e.determiningPolicies, errors: e.errors };
  } catch (err) {
    assert.ok(err instanceof VerdictError, `a VerdictError, not ${String(err)}`);
    return { refused: err.code, message: err.message };
  }
};

describe("evaluation pool", () => {
  let snapshot: BundleSnapshot;
  let pool: EvaluationPool;
  before(async () => {
    snapshot = await new BundleLoader(new CedarEngine(new CedarRuntime())).load(await readBundleDirectory(EXAMPLE_BUNDLE));
    pool = new EvaluationPool(2, DEFAULT_ENGINE_OPTIONS);
  });
  after(() => pool.close());

  it("decides, refuses and reports exactly as the main thread, once the workers have the bundle", async () => {
    assert.equal(pool.evaluate(snapshot.policies, examples[0]!), undefined, "before compiling, the caller evaluates in place");
    assert.equal(await pool.prepare(snapshot.policies), true);
    const requests = [...examples, ...variations(300)];
    let refused = 0;
    for (const req of requests) {
      const onWorker = await outcome(() => pool.evaluate(snapshot.policies, req) ?? assert.fail("the workers have the bundle"));
      const inPlace = await outcome(() => snapshot.policies.evaluate(req));
      assert.deepEqual(onWorker, inPlace);
      if ("refused" in inPlace) refused++;
    }
    assert.ok(refused > 0 && refused < requests.length / 2, `some requests are refused (${refused})`);
  });

  it("a worker that dies fails its calls, never allows, and is replaced", async () => {
    assert.equal(await pool.prepare(snapshot.policies), true);
    const inFlight = Array.from({ length: 20 }, () => outcome(() => pool.evaluate(snapshot.policies, examples[0]!)));
    const [victim] = pool.threads;
    await victim!.terminate();
    for (const o of await Promise.all(inFlight)) {
      assert.ok("refused" in o ? o.refused === "internal" : o.decision === "allow", "either answered before the stop or failed as internal");
    }
    assert.equal(pool.threads.length, 2);
    assert.ok(!pool.threads.includes(victim!), "replaced");
    assert.equal(await pool.prepare(snapshot.policies), true);
    const again = await outcome(() => pool.evaluate(snapshot.policies, examples[0]!) ?? assert.fail("ready again"));
    assert.deepEqual(again, await outcome(() => snapshot.policies.evaluate(examples[0]!)));
  });
});

describe("server with evaluation workers", () => {
  it("answers Check from the workers and caches their decisions", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE, { "engine.workers": 1 });
    try {
      const pool = v.container.resolve(TOKENS.EvaluationPool)!;
      assert.equal(await pool.prepare(v.container.resolve(TOKENS.ActiveBundle).snapshot!.policies), true);
      const json = JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests", "admin_can_delete_in_own_tenant.json"), "utf8")) as { request: JsonValue };
      const req = fromJson(CheckRequestSchema, json.request);
      const first = await v.client.call<CheckResponse>("check", req);
      const second = await v.client.call<CheckResponse>("check", req);
      assert.deepEqual([first.decision, first.determiningPolicies, first.cache], [Decision.ALLOW, ["admin-all"], CacheStatus.MISS]);
      assert.equal(second.cache, CacheStatus.HIT_LOCAL);
    } finally {
      await v.stop();
    }
  });
});
