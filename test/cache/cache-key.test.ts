import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
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
