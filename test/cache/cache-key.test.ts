import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { cacheKey, canonicalRequest } from "../../src/cache/cache-key.js";
import { CheckRequestSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Entity, Value } from "../../src/model/entity.js";
import { fromCheckRequest } from "../../src/server/authorization/check-mapping.js";

const ent = (type: string, id: string, attrs: Record<string, Value> = {}, parents: { type: string; id: string }[] = []): Entity => ({ uid: { type, id }, attrs, parents, tags: {} });
const req = (over: Partial<AuthzRequest> = {}): AuthzRequest => ({
  principal: ent("User", "alice", { a: { kind: "long", value: 1 }, b: { kind: "string", value: "x" } }),
  action: { type: "Action", id: "read" },
  resource: ent("Doc", "d"),
  context: {},
  entities: [],
  ...over,
});
const key = (r: AuthzRequest, scope = "r1@abc") => cacheKey("ns", scope, r);

describe("cache key", () => {
  it("ignores map order, set order and duplicates, and entity order", () => {
    const a = req({ context: { x: { kind: "set", values: [{ kind: "long", value: 2 }, { kind: "long", value: 1 }] } }, entities: [ent("G", "1"), ent("G", "2")] });
    const b = req({
      principal: ent("User", "alice", { b: { kind: "string", value: "x" }, a: { kind: "long", value: 1 } }),
      context: { x: { kind: "set", values: [{ kind: "long", value: 1 }, { kind: "long", value: 2 }, { kind: "long", value: 1 }] } },
      entities: [ent("G", "2"), ent("G", "1")],
    });
    assert.equal(key(a), key(b));
  });

  it("separates requests whose ids would collide if concatenated", () => {
    const a = req({ principal: ent("User", "a:b"), resource: ent("Doc", "c") });
    const b = req({ principal: ent("User", "a"), resource: ent("Doc", "b:c") });
    assert.notEqual(key(a), key(b));
    assert.notEqual(key(req({ principal: ent("A::B", "c") })), key(req({ principal: ent("A", "B::c") })));
  });

  it("separates values Cedar tells apart, and merges those it does not", () => {
    const ctx = (v: Value) => key(req({ context: { v } }));
    assert.notEqual(ctx({ kind: "string", value: "1" }), ctx({ kind: "long", value: 1 }));
    assert.notEqual(ctx({ kind: "string", value: "é" }), ctx({ kind: "string", value: "e\u0301" }), "NFC and NFD differ");
    assert.notEqual(ctx({ kind: "entity", uid: { type: "T", id: "x" } }), ctx({ kind: "record", fields: { type: { kind: "string", value: "T" }, id: { kind: "string", value: "x" } } }));
    assert.equal(ctx({ kind: "long", value: -0 }), ctx({ kind: "long", value: 0 }));
  });

  it("covers every part of the request and the bundle scope", () => {
    const base = key(req());
    assert.notEqual(key(req({ action: { type: "Action", id: "write" } })), base);
    assert.notEqual(key(req({ resource: ent("Doc", "d", {}, [{ type: "Folder", id: "f" }]) })), base);
    assert.notEqual(key(req({ entities: [ent("G", "1")] })), base);
    assert.notEqual(key(req(), "r2@abc"), base);
    assert.notEqual(cacheKey("ns", "r1@abc", req(), "strict"), cacheKey("ns", "r1@abc", req(), "cedar"), "evaluation settings");
    assert.match(base, /^verdict:v1:ns:r1@abc:[0-9a-f]{64}$/);
  });

  it("does not include the caller's request_id", () => {
    const wire = (requestId: string) =>
      fromCheckRequest(create(CheckRequestSchema, { principal: { uid: { type: "U", id: "u" } }, action: { id: "a" }, resource: { uid: { type: "R", id: "r" } }, requestId }));
    assert.equal(canonicalRequest(wire("one")), canonicalRequest(wire("two")));
  });
});

describe("cache key properties", () => {
  const str = fc.string({ unit: "grapheme-composite", maxLength: 8 });
  const scalar: fc.Arbitrary<Value> = fc.oneof(
    fc.boolean().map((value): Value => ({ kind: "bool", value })),
    fc.integer().map((value): Value => ({ kind: "long", value })),
    str.map((value): Value => ({ kind: "string", value })),
  );
  const attrs = fc.dictionary(str, scalar, { maxKeys: 5 });
  const reversed = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).reverse());

  it("equal requests in any field, entity or set order have one key", () => {
    fc.assert(
      fc.property(attrs, attrs, fc.array(scalar, { maxLength: 5 }), fc.uniqueArray(str, { maxLength: 4 }), (a, c, set, ids) => {
        const one = req({ principal: ent("U", "p", a), context: { ...c, s: { kind: "set", values: set } }, entities: ids.map((id) => ent("G", id)) });
        const two = req({ principal: ent("U", "p", reversed(a)), context: { s: { kind: "set", values: [...set].reverse() }, ...reversed(c) }, entities: ids.map((id) => ent("G", id)).reverse() });
        assert.equal(key(one), key(two));
      }),
    );
  });

  it("distinct principals, actions or context strings never share a key", () => {
    fc.assert(
      fc.property(str, str, str, str, (a, b, c, d) => {
        fc.pre(a !== c || b !== d);
        assert.notEqual(key(req({ principal: ent(a, b) })), key(req({ principal: ent(c, d) })));
        assert.notEqual(key(req({ action: { type: a, id: b } })), key(req({ action: { type: c, id: d } })));
        assert.notEqual(key(req({ context: { [a]: { kind: "string", value: b } } })), key(req({ context: { [c]: { kind: "string", value: d } } })));
      }),
    );
  });
});
