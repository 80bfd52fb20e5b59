import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { guardRequest } from "../../src/decision/request-guard.js";
import { DEFAULT_REQUEST_LIMITS } from "../../src/decision/request-limits.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";

// Front doors that carry JSON (AuthZEN, bundle tests) can express what protobuf cannot.
const base: AuthzRequest = {
  principal: { uid: { type: "User", id: "u" }, attrs: {}, parents: [], tags: {} },
  action: { type: "Action", id: "a" },
  resource: { uid: { type: "Doc", id: "d" }, attrs: {}, parents: [], tags: {} },
  context: {},
  entities: [],
};

describe("request guard (every front door)", () => {
  it("C-06 an unpaired surrogate is refused", () => {
    assert.throws(() => guardRequest({ ...base, context: { s: { kind: "string", value: "\ud800x" } } }, DEFAULT_REQUEST_LIMITS), /unpaired UTF-16 surrogate/);
  });
  it("C-11 non-integer and unsafe longs are refused", () => {
    for (const value of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => guardRequest({ ...base, context: { n: { kind: "long", value } } }, DEFAULT_REQUEST_LIMITS), /context\.n: long .* outside/);
    }
  });
  it("C-02 depth exactly at the limit passes, one more is refused", () => {
    const nest = (n: number) => {
      let v: import("../../src/model/entity.js").Value = { kind: "bool", value: true };
      for (let i = 1; i < n; i++) v = { kind: "set", values: [v] };
      return v;
    };
    guardRequest({ ...base, context: { x: nest(32) } }, DEFAULT_REQUEST_LIMITS);
    assert.throws(() => guardRequest({ ...base, context: { x: nest(33) } }, DEFAULT_REQUEST_LIMITS), /nested deeper than the limit of 32/);
  });
});
