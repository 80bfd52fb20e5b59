import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import type { CompiledPolicies } from "../../src/engine/compiled-policies.js";
import { VerdictError } from "../../src/errors.js";
import type { Entity, Value } from "../../src/model/entity.js";
import type { PlanRequest } from "../../src/model/plan-request.js";
import type { Plan, ResourceFilter } from "../../src/model/resource-filter.js";

const runtime = new CedarRuntime();
const SCHEMA = `
entity Team;
entity User in [Team] = { level: Long, team: Team, dept: String };
entity Folder in [Folder];
entity Doc in [Folder] = {
  owner: User, size: Long, name: String, tags: Set<String>, editors: Set<User>,
  meta: { level: Long, note?: String }, archived?: Bool, ip: ipaddr, when: datetime, info: { a: Long },
};
action view appliesTo { principal: User, resource: Doc, context: { n: Long } };
action group;
`;
/** `schema` null: a bundle without one. */
function compile(policies: string, schema: string | null, strict: boolean): CompiledPolicies {
  return new CedarEngine(runtime, { strict, maxPolicyNesting: 64 }).compile({
    policyFiles: [{ path: "p.cedar", text: policies }],
    ...(schema === null ? {} : { schema: { path: "schema.cedarschema", text: schema, format: "cedar" as const } }),
  });
}
const alice: Entity = {
  uid: { type: "User", id: "alice" },
  attrs: { level: { kind: "long", value: 3 }, team: { kind: "entity", uid: { type: "Team", id: "red" } }, dept: { kind: "string", value: "eng" } },
  parents: [{ type: "Team", id: "red" }],
  tags: {},
};
const request = (over: Partial<PlanRequest> = {}): PlanRequest => ({
  principal: alice,
  action: { type: "Action", id: "view" },
  resourceType: "Doc",
  context: { n: { kind: "long", value: 1 } },
  entities: [],
  ...over,
});
const plan = (policies: string, over: Partial<PlanRequest> = {}, schema: string | null = SCHEMA, strict = true): Plan => compile(policies, schema, strict).plan(request(over));
const filterOf = (p: Plan): ResourceFilter => {
  assert.equal(p.kind, "conditional", JSON.stringify(p));
  return (p as Plan & { kind: "conditional" }).filter;
};
const attr = (...path: string[]) => ({ kind: "attribute" as const, path });
const val = (value: Value) => ({ kind: "value" as const, value });
const str = (value: string) => val({ kind: "string", value });
const long = (value: number) => val({ kind: "long", value });
const entity = (type: string, id: string) => val({ kind: "entity", uid: { type, id } });
const refusal = (fn: () => unknown, code: string, pattern: RegExp): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof VerdictError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
};

describe("plan: residuals become resource filters", () => {
  it("a permit that holds for every resource is ALWAYS_ALLOWED; no permit is ALWAYS_DENIED", () => {
    assert.deepEqual(plan(`@id("all") permit(principal, action, resource);`), { kind: "always_allowed", permitPolicies: ["all"], forbidPolicies: [] });
    assert.deepEqual(plan(`@id("other") permit(principal == User::"bob", action, resource);`), { kind: "always_denied", permitPolicies: [], forbidPolicies: [] });
  });
  it("an attribute comparison with the principal's value substituted", () => {
    const p = plan(`@id("own") permit(principal, action, resource) when { resource.owner == principal && resource.size < principal.level };`);
    assert.deepEqual(filterOf(p), {
      op: "and",
      args: [
        { op: "==", left: attr("owner"), right: entity("User", "alice") },
        { op: "<", left: attr("size"), right: long(3) },
      ],
    });
    assert.deepEqual(p.permitPolicies, ["own"]);
  });
  it("a literal on the left is flipped so the attribute reads first", () => {
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { 10 < resource.size };`)), { op: ">", left: attr("size"), right: long(10) });
  });
  it("resource ancestry keeps Cedar's `in`: equality where the types allow it, plus descent", () => {
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource in Folder::"f");`)), { op: "in", left: { kind: "resource" }, ancestor: { type: "Folder", id: "f" } });
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { resource in Doc::"d" };`)), {
      op: "or",
      args: [
        { op: "==", left: { kind: "resource" }, right: entity("Doc", "d") },
        { op: "in", left: { kind: "resource" }, ancestor: { type: "Doc", id: "d" } },
      ],
    });
  });
  it("`resource is T` folds on the planned type", () => {
    assert.equal(plan(`permit(principal, action, resource is Folder);`).kind, "always_denied");
    assert.equal(plan(`permit(principal, action, resource is Doc);`).kind, "always_allowed");
  });
  it("the principal in a set attribute becomes containment of the principal or one of its ancestors", () => {
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { principal in resource.editors };`)), {
      op: "or",
      args: [
        { op: "contains", set: attr("editors"), element: entity("User", "alice") },
        { op: "contains", set: attr("editors"), element: entity("Team", "red") },
      ],
    });
  });
  it("an attribute compared with an entity of another declared type is false, not a filter", () => {
    assert.equal(plan(`permit(principal, action, resource) when { resource.owner == principal.team };`).kind, "always_denied");
  });
  it("has on a required attribute is true; on an optional one it is a has test", () => {
    assert.equal(plan(`permit(principal, action, resource) when { resource has size };`).kind, "always_allowed");
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { resource has meta.note && resource.meta.note like "a*b\\*" };`)), {
      op: "and",
      args: [
        { op: "has", path: ["meta", "note"] },
        { op: "like", left: attr("meta", "note"), pattern: [{ literal: "a" }, { wildcard: true }, { literal: "b*" }] },
      ],
    });
  });
  it("containsAny and a literal set containing the attribute expand to or", () => {
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { resource.tags.containsAny(["x", "y"]) };`)), {
      op: "or",
      args: [
        { op: "contains", set: attr("tags"), element: str("x") },
        { op: "contains", set: attr("tags"), element: str("y") },
      ],
    });
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { ["a", "b"].contains(resource.name) };`)), {
      op: "or",
      args: [
        { op: "==", left: attr("name"), right: str("a") },
        { op: "==", left: attr("name"), right: str("b") },
      ],
    });
  });
  it("a forbid subtracts: permitted and not forbidden", () => {
    const p = plan(`@id("p") permit(principal, action, resource);\n@id("f") forbid(principal, action, resource) when { resource.tags.contains("secret") };`);
    assert.deepEqual(filterOf(p), { op: "not", arg: { op: "contains", set: attr("tags"), element: str("secret") } });
    assert.deepEqual([p.permitPolicies, p.forbidPolicies], [["p"], ["f"]]);
  });
  it("strict mode: a forbid that errors for every resource denies them all; with strict off it is skipped", () => {
    const text = `@id("p") permit(principal, action, resource);\n@id("f") forbid(principal, action, resource) when { context.n * 9223372036854775807 > 1 };`;
    const over = { context: { n: { kind: "long", value: 2 } } as Record<string, Value> };
    assert.deepEqual(plan(text, over), { kind: "always_denied", permitPolicies: [], forbidPolicies: ["f"] });
    assert.equal(plan(text, over, SCHEMA, false).kind, "always_allowed");
  });
  it("strict mode: a forbid that errors only for some resources denies exactly those", () => {
    // For size >= 10 the overflow (2 * 2^62) is reached (error: denied); below, the forbid is false.
    const text = `@id("p") permit(principal, action, resource);\n@id("f") forbid(principal, action, resource) when { resource.size >= 10 && context.n * 4611686018427387904 > 1 };`;
    const p = plan(text, { context: { n: { kind: "long", value: 2 } } });
    assert.deepEqual(filterOf(p), { op: "<", left: attr("size"), right: long(10) });
  });
  it("if-then-else splits into both branches", () => {
    const f = filterOf(plan(`permit(principal, action, resource) when { if resource has meta.note then resource.meta.note != "x" else resource.size < 5 };`));
    assert.deepEqual(f, {
      op: "or",
      args: [
        { op: "and", args: [{ op: "has", path: ["meta", "note"] }, { op: "not", arg: { op: "==", left: attr("meta", "note"), right: str("x") } }] },
        { op: "and", args: [{ op: "not", arg: { op: "has", path: ["meta", "note"] } }, { op: "<", left: attr("size"), right: long(5) }] },
      ],
    });
  });
});

describe("plan: what a filter cannot express is refused, naming it", () => {
  const cases: [string, string, RegExp][] = [
    ["extension function on an attribute", `permit(principal, action, resource) when { resource.ip.isInRange(ip("10.0.0.0/8")) };`, /isInRange\(\)/],
    ["arithmetic", `permit(principal, action, resource) when { resource.size + 1 > 3 };`, /arithmetic \(\+\)/],
    ["an attribute of a referenced entity (a join)", `permit(principal, action, resource) when { resource.owner.dept == "eng" };`, /resource\.owner\.dept .*join/],
    ["a record compared whole", `permit(principal, action, resource) when { resource.info == {a: 1} };`, /resource\.info == … \(a record compared whole\)/],
    ["a datetime comparison", `permit(principal, action, resource) when { resource.when < datetime("2024-01-01") };`, /resource\.when compared with < \(declared as datetime\)/],
    ["isEmpty", `permit(principal, action, resource) when { resource.tags.isEmpty() };`, /isEmpty\(\)/],
  ];
  for (const [name, text, pattern] of cases) {
    it(name, () => refusal(() => plan(text), "failed_precondition", pattern));
  }
  it("without a schema, type-sensitive tests on attributes are refused; equality is planned", () => {
    refusal(() => plan(`permit(principal, action, resource) when { resource.size < 3 };`, {}, null), "failed_precondition", /resource\.size compared with < \(its type is not declared by a schema\)/);
    assert.deepEqual(filterOf(plan(`permit(principal, action, resource) when { resource.name == "x" };`, {}, null)), { op: "==", left: attr("name"), right: str("x") });
  });
});

describe("plan: bad requests are refused like Check's", () => {
  const p = `permit(principal, action, resource);`;
  it("an unknown resource type, an unknown action, or one that does not apply", () => {
    refusal(() => plan(p, { resourceType: "Nope" }), "invalid_argument", /resource_type: "Nope" is not an entity type/);
    refusal(() => plan(p, { action: { type: "Action", id: "nope" } }), "invalid_argument", /action: Action::"nope" is not an action/);
    refusal(() => plan(p, { action: { type: "Action", id: "group" } }), "invalid_argument", /does not apply to Doc \(it applies to no resource type\)/);
  });
  it("a principal or context that does not conform to the schema", () => {
    refusal(() => plan(p, { context: { n: { kind: "string", value: "x" } } }), "invalid_argument", /context/);
    refusal(() => plan(p, { principal: { ...alice, attrs: {} } }), "invalid_argument", /alice/);
  });
});
