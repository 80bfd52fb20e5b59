import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { guardHierarchy } from "../../src/decision/hierarchy-guard.js";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "../../src/decision/request-limits.js";
import { VerdictError } from "../../src/errors.js";
import { Authorization, type CheckResponse as EnvoyCheckResponse, CheckRequestSchema as EnvoyCheckRequestSchema } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService, BatchCheckRequestSchema, type BatchCheckResponse, type CheckRequest, CheckRequestSchema, type CheckResponse, Decision, EntitySchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import type { Entity } from "../../src/model/entity.js";
import { writeBundle } from "../helpers/bundles.js";
import { serveProcess } from "../helpers/serve-process.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const uid = (type: string, id: string) => ({ type, id });
const entity = (type: string, id: string, parents: { type: string; id: string }[] = []): Entity => ({ uid: uid(type, id), attrs: {}, parents, tags: {} });

/** principal → g(n-1) → … → g0: a chain n deep. */
function chain(n: number, prefix = "g"): Entity[] {
  const out = [entity("User", `${prefix}-u`, [uid("Group", `${prefix}${n - 1}`)])];
  for (let i = n - 1; i > 0; i--) out.push(entity("Group", `${prefix}${i}`, [uid("Group", `${prefix}${i - 1}`)]));
  return out;
}

/** 300 groups, each a child of every lower one: ~45k edges. */
function denseDag(n: number): Entity[] {
  const out: Entity[] = [];
  for (let i = 0; i < n; i++) out.push(entity("Group", `h${i}`, Array.from({ length: i }, (_, j) => uid("Group", `h${j}`))));
  return out;
}

/** `n` users with the same `k` parents. */
function flat(n: number, k: number): Entity[] {
  return Array.from({ length: n }, (_, i) => entity("User", `f${i}`, Array.from({ length: k }, (_, j) => uid("Group", `k${j}`))));
}

const limits = (over: Partial<RequestLimits> = {}): RequestLimits => ({ ...DEFAULT_REQUEST_LIMITS, ...over });
const refusedBy = (f: () => void, code: string, limit: RegExp) =>
  assert.throws(f, (err: unknown) => err instanceof VerdictError && err.code === code && limit.test(err.message));

/** Reference: depth and (entity, ancestor) pairs by plain search from every entity. */
function reference(entities: Entity[]): { edges: number; depth: number; pairs: number; cycle: boolean } {
  const key = (u: { type: string; id: string }) => `${u.type}/${u.id}`;
  const parents = new Map<string, string[]>();
  for (const e of entities) parents.set(key(e.uid), [...(parents.get(key(e.uid)) ?? []), ...e.parents.map(key)]);
  let pairs = 0;
  let cycle = false;
  for (const start of parents.keys()) {
    const seen = new Set<string>();
    const todo = [...(parents.get(start) ?? [])];
    while (todo.length > 0) {
      const x = todo.pop()!;
      if (x === start) cycle = true;
      if (seen.has(x)) continue;
      seen.add(x);
      todo.push(...(parents.get(x) ?? []));
    }
    pairs += seen.size;
  }
  const memo = new Map<string, number>();
  const depthOf = (x: string): number => {
    if (memo.has(x)) return memo.get(x)!;
    const d = Math.max(0, ...(parents.get(x) ?? []).map((p) => depthOf(p) + 1));
    memo.set(x, d);
    return d;
  };
  const depth = cycle ? 0 : Math.max(0, ...[...parents.keys()].map(depthOf));
  return { edges: entities.reduce((n, e) => n + e.parents.length, 0), depth, pairs, cycle };
}

describe("work bounds: the hierarchy guard", () => {
  it("refuses the published stalls, naming the limit each one is over", () => {
    refusedBy(() => guardHierarchy(chain(1000), limits()), "limit_exceeded", /limits\.maxHierarchyDepth/);
    refusedBy(() => guardHierarchy(denseDag(300), limits()), "limit_exceeded", /44850 parent edges .*limits\.maxParentEdges/);
    refusedBy(() => guardHierarchy(flat(1000, 40), limits()), "limit_exceeded", /40000 parent edges .*limits\.maxParentEdges/);
    // Within depth and edges, a wide fan-in on a chain still implies too many ancestor pairs.
    refusedBy(() => guardHierarchy([...chain(32), ...flat(600, 1).map((e) => ({ ...e, parents: [uid("Group", "g31")] }))], limits()), "limit_exceeded", /limits\.maxAncestorPairs/);
    refusedBy(() => guardHierarchy([entity("Group", "a", [uid("Group", "b")]), entity("Group", "b", [uid("Group", "a")])], limits()), "invalid_argument", /cycle/);
    guardHierarchy(chain(32), limits());
    refusedBy(() => guardHierarchy(chain(33), limits()), "limit_exceeded", /more than 32 levels/);
  });

  it("counts edges, depth and ancestor pairs exactly as a plain search does (property)", () => {
    const graph = fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.array(fc.integer({ min: 0, max: 19 }), { maxLength: 5 })), { maxLength: 20 }).map((rows) => rows.map(([i, ps]) => entity("G", `n${i}`, ps.map((p) => uid("G", `n${p}`)))));
    fc.assert(
      fc.property(graph, (entities) => {
        const ref = reference(entities);
        if (ref.cycle) {
          refusedBy(() => guardHierarchy(entities, limits()), "invalid_argument", /cycle/);
          return;
        }
        const exact = limits({ maxParentEdges: ref.edges, maxHierarchyDepth: Math.max(1, ref.depth), maxAncestorPairs: Math.max(1, ref.pairs) });
        guardHierarchy(entities, exact);
        if (ref.edges > 0) refusedBy(() => guardHierarchy(entities, { ...exact, maxParentEdges: ref.edges - 1 }), "limit_exceeded", /maxParentEdges/);
        if (ref.depth > 1) refusedBy(() => guardHierarchy(entities, { ...exact, maxHierarchyDepth: ref.depth - 1 }), "limit_exceeded", /maxHierarchyDepth/);
        if (ref.pairs > 1) refusedBy(() => guardHierarchy(entities, { ...exact, maxHierarchyDepth: 1000, maxAncestorPairs: ref.pairs - 1 }), "limit_exceeded", /maxAncestorPairs/);
      }),
      { numRuns: 500 },
    );
  });
});

const toWire = (es: Entity[]) => es.map((e) => create(EntitySchema, { uid: e.uid, parents: [...e.parents] }));

describe("work bounds at the front doors", () => {
  let v: RunningVerdict;
  let bundle: ReturnType<typeof writeBundle>;
  before(async () => {
    bundle = writeBundle({ "manifest.json": '{"name":"bounds"}', "p.cedar": '@id("in-g0") permit(principal in Group::"g0", action, resource);' });
    v = await startVerdict(bundle.dir, { "limits.maxBatchEntities": 200_000 });
  });
  after(async () => {
    await v.stop();
    bundle.cleanup();
  });
  const request = (entities: Entity[], principal = entities[0]!): CheckRequest =>
    create(CheckRequestSchema, {
      principal: { uid: principal.uid, parents: [...principal.parents] },
      action: uid("Action", "read"),
      resource: { uid: uid("Doc", "d") },
      entities: toWire(entities.slice(1)),
    });
  const batch = (checks: CheckRequest[]) => create(BatchCheckRequestSchema, { checks });
  const exhausted = async (p: Promise<unknown>, limit: RegExp) =>
    assert.rejects(p, (err: grpc.ServiceError) => {
      assert.equal(err.code, 8, `RESOURCE_EXHAUSTED, got ${err.code}: ${err.details}`);
      assert.match(err.details, limit);
      return true;
    });

  it("Check refuses a 1,000-group chain and a dense DAG with RESOURCE_EXHAUSTED; a chain within the limit is decided", async () => {
    await exhausted(v.client.call<CheckResponse>("check", request(chain(1000))), /limits\.maxHierarchyDepth/);
    await exhausted(v.client.call<CheckResponse>("check", request([entity("User", "u", [uid("Group", "h299")]), ...denseDag(300)])), /limits\.maxParentEdges/);
    assert.equal((await v.client.call<CheckResponse>("check", request(chain(30)))).decision, Decision.ALLOW);
  });

  it("BatchCheck refuses each over-limit item alone, and a batch over the entity budget whole", async () => {
    const checks = [request(flat(1000, 40)), request(chain(1000)), request(chain(10))];
    const res = await v.client.call<BatchCheckResponse>("batchCheck", batch(checks));
    const kinds = res.results.map((r) => (r.result.case === "error" ? `${r.result.value.code}:${/limits\.\w+/.exec(r.result.value.message)?.[0]}` : Decision[r.result.value!.decision]));
    assert.deepEqual(kinds, ["8:limits.maxParentEdges", "8:limits.maxHierarchyDepth", "ALLOW"]);
    const small = await startVerdict(bundle.dir, {});
    try {
      await exhausted(small.client.call<BatchCheckResponse>("batchCheck", batch(Array.from({ length: 6 }, () => request(flat(1000, 1))))), /5994 entities .*limits\.maxBatchEntities/);
    } finally {
      await small.stop();
    }
  });

  it("a Check sent while a long BatchCheck runs is answered before the batch ends", async () => {
    // A server process of its own: in this process the test's own timers would wait for the batch too.
    const server = await serveProcess(["--policies", bundle.dir], { VERDICT_LIMITS_MAX_BATCH_ENTITIES: "200000" });
    const client = createServiceClient(AuthorizationService, server.grpc);
    try {
      // Distinct items (a different principal each), so none is answered from the cache; each
      // near the ancestor-pair limit (a 31-group chain with 120 users under it).
      const leaves = flat(120, 1).map((e) => ({ ...e, parents: [uid("Group", "g30")] }));
      const heavy = Array.from({ length: 100 }, (_, i) => request([entity("User", `p${i}`, [uid("Group", "g30")]), ...chain(31).slice(1), ...leaves]));
      const order: string[] = [];
      const running = client.call<BatchCheckResponse>("batchCheck", batch(heavy)).then(() => order.push("batch"));
      await new Promise((r) => setTimeout(r, 300));
      const check = client.call<CheckResponse>("check", request(chain(3))).then(() => order.push("check"));
      await Promise.all([running, check]);
      assert.deepEqual(order, ["check", "batch"]);
    } finally {
      client.close();
      await server.stop();
    }
  });

  it("Envoy: a path over limits.maxPathLength is denied 414 before routing", async () => {
    const client = createServiceClient(Authorization, v.grpcAddr);
    try {
      const ask = (path: string) =>
        client.call<EnvoyCheckResponse>("check", create(EnvoyCheckRequestSchema, { attributes: { request: { http: { method: "GET", path, host: "api", headers: {} } } } }));
      const long = await ask(`/${"a".repeat(3 * 1024 * 1024)}`);
      assert.equal(long.httpResponse.case === "deniedResponse" ? long.httpResponse.value.status?.code : 200, 414);
      assert.match(long.httpResponse.case === "deniedResponse" ? long.httpResponse.value.body : "", /limits\.maxPathLength/);
      const short = await ask("/docs");
      assert.notEqual(short.httpResponse.case === "deniedResponse" ? short.httpResponse.value.status?.code : 200, 414);
    } finally {
      client.close();
    }
  });
});
