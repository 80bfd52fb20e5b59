import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { guardRequest } from "../../src/decision/request-guard.js";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "../../src/decision/request-limits.js";
import { BatchCheckRequestSchema, type CheckRequest, CheckRequestSchema, EntitySchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { fromCheckRequest } from "../../src/server/authorization/check-mapping.js";
import { batchTooLargeEncoded, checkTooLarge } from "../../src/server/authorization/entity-count-scan.js";
import { exampleRequest } from "../helpers/example-requests.js";
import { rng } from "../helpers/random.js";
import { another, encoding } from "../helpers/wire-mutants.js";

/** A request with `n` extra entities of `k` parents each (and some on the principal). */
function withEntities(seed: number, n: number, k: number): CheckRequest {
  const r = rng(seed);
  const req = exampleRequest(r);
  for (let i = 0; i < n; i++) {
    req.entities.push(create(EntitySchema, { uid: { type: "App::Group", id: `g${i}` }, parents: Array.from({ length: k }, (_, j) => ({ type: "App::Group", id: `p${j}` })) }));
  }
  for (let j = r.int(4); j > 0; j--) req.principal!.parents.push({ $typeName: "verdict.v1.EntityUid", type: "App::Role", id: `r${j}` });
  return req;
}

/** The full path up to the engine: decode, map, guard. Undefined when it accepts. */
function slowPath(bytes: Uint8Array, limits: RequestLimits): string | undefined {
  try {
    guardRequest(fromCheckRequest(fromBinary(CheckRequestSchema, bytes)), limits);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("entity count scan (before decoding)", () => {
  it("refuses only what the full path refuses, and on plain encodings exactly what it refuses for those limits (property)", () => {
    let refusals = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 8 }), fc.integer(), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 120 }), (seed, n, k, s2, maxEntities, maxParentEdges) => {
        const limits = { ...DEFAULT_REQUEST_LIMITS, maxEntities, maxParentEdges, maxHierarchyDepth: 1000, maxAncestorPairs: 1_000_000 };
        const req = withEntities(seed, n, k);
        const plain = toBinary(CheckRequestSchema, req);
        const forms = [{ bytes: plain, how: ["plain"] }, encoding(req, s2), another(req, plain, s2)];
        for (const f of forms) {
          const scan = checkTooLarge(f.bytes, limits);
          const slow = slowPath(f.bytes, limits);
          if (scan !== undefined) {
            refusals++;
            assert.notEqual(slow, undefined, `${f.how.join("+")}: the scan refused (${scan.message}) what the full path accepts`);
          }
        }
        // A plain encoding over an entity or parent-edge limit is refused by the scan too.
        const slow = slowPath(plain, limits);
        if (slow !== undefined && /limits\.maxParentEdges|entities is over the limit/.test(slow)) assert.notEqual(checkTooLarge(plain, limits), undefined, slow);
      }),
      { numRuns: 1500, includeErrorInReport: true },
    );
    assert.ok(refusals > 200, `the scan refused ${refusals} times`);
  });

  it("refuses the published stalls before decoding, naming the limit", () => {
    const flat = exampleRequest(rng(1));
    for (let i = 0; i < 1000; i++) flat.entities.push(create(EntitySchema, { uid: { type: "App::User", id: `f${i}` }, parents: Array.from({ length: 40 }, (_, j) => ({ type: "App::Role", id: `k${j}` })) }));
    assert.match(checkTooLarge(toBinary(CheckRequestSchema, flat), DEFAULT_REQUEST_LIMITS)?.message ?? "", /40\d{3} parent edges .*limits\.maxParentEdges/);
    const batch = create(BatchCheckRequestSchema, { checks: Array.from({ length: 6 }, () => withEntities(2, 1000, 0)) });
    assert.match(batchTooLargeEncoded(toBinary(BatchCheckRequestSchema, batch), DEFAULT_REQUEST_LIMITS)?.message ?? "", /6000 entities .*limits\.maxBatchEntities/);
    assert.equal(checkTooLarge(toBinary(CheckRequestSchema, withEntities(3, 10, 2)), DEFAULT_REQUEST_LIMITS), undefined);
  });
});
