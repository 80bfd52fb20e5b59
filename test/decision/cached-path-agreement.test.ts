import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { clone, create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { type CheckRequest, CheckRequestSchema, type CheckResponse, Decision, type Entity, EntitySchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { exampleRequest } from "../helpers/example-requests.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const s = (value: string) => ({ kind: { case: "string" as const, value } });
const b = (value: boolean) => ({ kind: { case: "bool" as const, value } });
const e = (type: string, id: string) => ({ kind: { case: "entity" as const, value: { type, id } } });

/** A schema-valid user entity with data, as a request may carry it in `entities`. */
const user = (id: string, suspended = false, parents: string[] = []): Entity =>
  create(EntitySchema, {
    uid: { type: "App::User", id },
    attrs: { tenant: e("App::Tenant", "acme"), department: s("eng"), suspended: b(suspended) },
    parents: parents.map((p) => ({ type: "App::Role", id: p })),
  });

async function outcome(v: RunningVerdict, req: CheckRequest): Promise<string> {
  try {
    const res = await v.client.call<CheckResponse>("check", req);
    return Decision[res.decision];
  } catch {
    return "refused";
  }
}

/** Hostile shapes of a request's entity list: duplicates, the principal again, bare mentions, repeated parents. */
function hostile(req: CheckRequest, seed: number): CheckRequest {
  const r = rng(seed);
  const out = clone(CheckRequestSchema, req);
  const pool = [user("bob"), user("carol", true), user("bob", false, ["admin"]), create(EntitySchema, { uid: { type: "App::User", id: "bob" } }), out.principal!, out.resource!];
  for (let n = r.int(4); n > 0; n--) {
    const pick = r.pick(pool);
    out.entities.push(pick);
    if (r.bool()) out.entities.push(pick); // the same entity twice
  }
  if (r.bool() && out.principal!.parents.length > 0) out.principal!.parents.push(out.principal!.parents[0]!);
  return out;
}

/** Forms of one request that the cache key may or may not tell apart. */
function variants(req: CheckRequest, seed: number): CheckRequest[] {
  const r = rng(seed);
  const once = clone(CheckRequestSchema, req);
  const seen = new Set<string>();
  once.entities = once.entities.filter((x) => {
    const k = JSON.stringify([x.uid?.type, x.uid?.id, Object.keys(x.attrs).length, x.parents.length]);
    return seen.has(k) ? false : (seen.add(k), true);
  });
  const shuffled = clone(CheckRequestSchema, req);
  shuffled.entities.sort(() => r.next() - 0.5);
  const doubled = clone(CheckRequestSchema, req);
  doubled.entities = [...doubled.entities, ...doubled.entities];
  return [once, req, shuffled, doubled].sort(() => r.next() - 0.5);
}

describe("the cached path answers what the uncached path answers", () => {
  let cached: RunningVerdict;
  let uncached: RunningVerdict;
  before(async () => {
    cached = await startVerdict(EXAMPLE_BUNDLE);
    uncached = await startVerdict(EXAMPLE_BUNDLE, { "cache.enabled": false });
  });
  after(async () => {
    await cached.stop();
    await uncached.stop();
  });

  it("entities [X, X] are refused even after [X] was decided (regression)", async () => {
    const base = exampleRequest(rng(3));
    const one = clone(CheckRequestSchema, base);
    one.entities = [user("bob")];
    const two = clone(CheckRequestSchema, base);
    two.entities = [user("bob"), user("bob")];
    assert.notEqual(await outcome(cached, one), "refused");
    assert.equal(await outcome(uncached, two), "refused");
    assert.equal(await outcome(cached, two), "refused");
  });

  it("for random requests with duplicated and hostile entity lists, in any order of arrival (property)", async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.integer(), fc.integer(), async (reqSeed, hostileSeed, orderSeed) => {
        const req = hostile(exampleRequest(rng(reqSeed)), hostileSeed);
        const forms = variants(req, orderSeed);
        const got: string[] = [];
        for (const f of forms) got.push(await outcome(cached, f));
        for (const f of forms) got.push(await outcome(cached, f)); // now from the cache where it can be
        for (let i = 0; i < forms.length; i++) {
          const want = await outcome(uncached, forms[i]!);
          seen[want] = (seen[want] ?? 0) + 1;
          assert.equal(got[i], want, `form ${i}: first answer`);
          assert.equal(got[i + forms.length], want, `form ${i}: repeated answer`);
        }
      }),
      { numRuns: 120, includeErrorInReport: true },
    );
    assert.ok((seen["refused"] ?? 0) > 20 && (seen["ALLOW"] ?? 0) > 5 && (seen["DENY"] ?? 0) > 5, JSON.stringify(seen));
  });
});
