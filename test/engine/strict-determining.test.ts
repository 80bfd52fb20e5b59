import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Value } from "../../src/model/entity.js";

// When strict mode denies because a forbid errored, the determining policies are every forbid
// that denies the request: those whose condition held (Cedar's reasons) and those that
// errored, in bundle order; no permit. Plan lists the same forbids.

const runtime = new CedarRuntime();
const compile = (strict: boolean, text: string) => new CedarEngine(runtime, { strict, maxPolicyNesting: 64 }).compile({ policyFiles: [{ path: "p.cedar", text }] });
const bool = (value: boolean): Value => ({ kind: "bool", value });
const request = (context: Record<string, Value>): AuthzRequest => ({
  principal: { uid: { type: "User", id: "u" }, attrs: {}, parents: [], tags: {} },
  action: { type: "Action", id: "read" },
  resource: { uid: { type: "Doc", id: "d" }, attrs: {}, parents: [], tags: {} },
  context,
  entities: [],
});
// `errs` errors (no attribute `missing`), `held` holds when context.hold is true.
const POLICIES = [
  `@id("errs") forbid(principal, action, resource) when { context.missing };`,
  `@id("allow") permit(principal, action, resource);`,
  `@id("held") forbid(principal, action, resource) when { context.hold };`,
  `@id("other-errs") forbid(principal, action, resource) when { principal.level > 1 };`,
  `@id("permit-errs") permit(principal, action, resource) when { principal.level > 1 };`,
].join("\n");

describe("determining policies of a strict-mode deny", () => {
  it("a held forbid and erroring forbids: all of them, in bundle order", () => {
    const r = compile(true, POLICIES).evaluate(request({ hold: bool(true) }));
    assert.equal(r.decision, "deny");
    assert.deepEqual(r.determiningPolicies, ["errs", "held", "other-errs"]);
    assert.deepEqual(r.errors.map((e) => e.policyId), ["errs", "other-errs", "permit-errs"]);
  });
  it("a permit held and forbids errored: the erroring forbids alone (Cedar would allow)", () => {
    const r = compile(true, POLICIES).evaluate(request({ hold: bool(false) }));
    assert.equal(r.decision, "deny");
    assert.deepEqual(r.determiningPolicies, ["errs", "other-errs"]);
  });
  it("strict mode off: Cedar's own reasons", () => {
    assert.deepEqual(compile(false, POLICIES).evaluate(request({ hold: bool(true) })), {
      ...compile(false, POLICIES).evaluate(request({ hold: bool(true) })),
      decision: "deny",
      determiningPolicies: ["held"],
    });
    const allowed = compile(false, POLICIES).evaluate(request({ hold: bool(false) }));
    assert.equal(allowed.decision, "allow");
    assert.deepEqual(allowed.determiningPolicies, ["allow"]);
  });
  it("Plan lists the same forbids for an always-denied plan", () => {
    const { principal, action, context, entities } = request({ hold: bool(true) });
    const plan = compile(true, POLICIES).plan({ principal, action, context, entities, resourceType: "Doc" });
    assert.equal(plan.kind, "always_denied");
    assert.deepEqual(plan.forbidPolicies, ["errs", "held", "other-errs"]);
  });
});
