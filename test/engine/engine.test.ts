import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { maxNestingDepth } from "../../src/engine/nesting-scan.js";
import { CompileError, type PolicySources } from "../../src/engine/policy-sources.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Value } from "../../src/model/entity.js";

const engine = (strict = true) => new CedarEngine(new CedarRuntime(), { strict, maxPolicyNesting: 64 });
const sources = (text: string, schema?: string): PolicySources => ({
  policyFiles: [{ path: "p.cedar", text }],
  ...(schema ? { schema: { path: "schema.cedarschema", text: schema, format: "cedar" as const } } : {}),
});
const request = (context: Record<string, Value> = {}, action = "pay"): AuthzRequest => ({
  principal: { uid: { type: "User", id: "u" }, attrs: {}, parents: [], tags: {} },
  action: { type: "Action", id: action },
  resource: { uid: { type: "Account", id: "a" }, attrs: {}, parents: [], tags: {} },
  context,
  entities: [],
});
const compileError = (fn: () => unknown): CompileError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CompileError, String(err));
    return err;
  }
  assert.fail("expected a CompileError");
};

describe("strict mode: a forbid that errors denies", () => {
  const schema = `entity User; entity Account; action pay appliesTo { principal: User, resource: Account, context: { amount: Long } };`;
  const text = `@id("allow-pay") permit(principal, action, resource);
@id("limit") forbid(principal, action, resource) when { context.amount * 10000 > 100000000 };`;
  const overflow = { amount: { kind: "long", value: Number.MAX_SAFE_INTEGER } } as const;

  it("an overflowing forbid under a schema-valid request denies, listing the error", () => {
    const result = engine(true).compile(sources(text, schema)).evaluate(request(overflow));
    assert.equal(result.decision, "deny");
    assert.deepEqual(result.determiningPolicies, ["limit"]);
    assert.equal(result.errors[0]?.policyId, "limit");
    assert.match(result.errors[0]!.message, /overflow/);
  });
  it("with strict mode off, Cedar's skip semantics allow (documented trade-off)", () => {
    const result = engine(false).compile(sources(text, schema)).evaluate(request(overflow));
    assert.equal(result.decision, "allow");
    assert.equal(result.errors.length, 1);
  });
  it("a wrong-typed guard attribute without a schema denies in strict mode", () => {
    const noSchema = `@id("ok") permit(principal, action, resource);\n@id("blocked") forbid(principal, action, resource) when { context.blocked };`;
    const result = engine(true).compile(sources(noSchema)).evaluate(request({ blocked: { kind: "string", value: "true" } }));
    assert.equal(result.decision, "deny");
    assert.deepEqual(result.determiningPolicies, ["blocked"]);
  });
  it("an erroring permit is only skipped", () => {
    const t = `@id("p") permit(principal, action, resource) when { context.x > 1 };`;
    const result = engine(true).compile(sources(t)).evaluate(request({ x: { kind: "string", value: "s" } }));
    assert.equal(result.decision, "deny");
    assert.deepEqual(result.determiningPolicies, []);
    assert.equal(result.errors[0]?.policyId, "p");
  });
});

describe("poison policies cannot take the engine down", () => {
  it("measures bracket nesting outside strings and comments", () => {
    assert.equal(maxNestingDepth(`permit(principal, action, resource) when { ((1)) == 1 };`), 3);
    assert.equal(maxNestingDepth(`// ((((((\npermit(principal, action, resource) when { "((((((" == "" };`), 1);
  });
  it("140 nested parentheses are refused before Cedar sees them, and decisions go on", () => {
    const e = engine();
    const good = e.compile(sources(`@id("p") permit(principal, action, resource);`));
    const d = 140;
    const err = compileError(() => e.compile(sources(`permit(principal, action, resource) when { ${"(".repeat(d)}true${")".repeat(d)} };`)));
    assert.match(err.message, /p\.cedar: brackets nest 141 deep; the limit is 64/);
    assert.equal(good.evaluate(request()).decision, "allow");
  });
  it("after a wasm trap the runtime is recycled and compiled policies re-preparse", () => {
    const runtime = new CedarRuntime();
    const e = new CedarEngine(runtime, { strict: true, maxPolicyNesting: 1000 });
    const good = e.compile(sources(`@id("p") permit(principal, action, resource);`));
    const d = 400;
    compileError(() => e.compile(sources(`permit(principal, action, resource) when { ${"(".repeat(d)}true${")".repeat(d)} };`)));
    assert.equal(runtime.generation, 1, "the trapped instance was replaced");
    assert.equal(good.evaluate(request()).decision, "allow");
  });
});

describe("bundle diagnostics name file, line and policy", () => {
  it("a syntax error", () => {
    const err = compileError(() => engine().compile(sources(`@id("a") permit(principal, action, resource);\n\npermit(principal, action resource);`)));
    assert.equal(err.diagnostics[0]?.file, "p.cedar");
    assert.equal(err.diagnostics[0]?.line, 3);
  });
  it("a policy that does not validate against the schema", () => {
    const schema = `entity User = { level: Long }; entity Account; action pay appliesTo { principal: User, resource: Account };`;
    const err = compileError(() => engine().compile(sources(`@id("a") permit(principal, action, resource);\n@id("b") permit(principal, action, resource) when { principal.lvl > 1 };`, schema)));
    assert.equal(err.diagnostics.length, 1);
    assert.equal(err.diagnostics[0]?.policyId, "b");
    assert.equal(err.diagnostics[0]?.line, 2);
    assert.match(err.diagnostics[0]!.message, /lvl/);
  });
  it("duplicate ids and templates", () => {
    const err = compileError(() =>
      engine().compile(sources(`@id("a") permit(principal, action, resource);\n@id("a") forbid(principal, action, resource);\npermit(principal in ?principal, action, resource);`)),
    );
    assert.ok(err.diagnostics.some((d) => /duplicate policy id "a"/.test(d.message) && d.line === 2));
    assert.ok(err.diagnostics.some((d) => /templates/.test(d.message) && d.line === 3));
  });
  it("static entities that are not an array, repeat a uid, break the schema or form a cycle (B-11)", () => {
    const schema = `entity Group in [Group]; entity User in [Group]; entity Account; action pay appliesTo { principal: User, resource: Account };`;
    const withEntities = (text: string) => ({ ...sources(`@id("a") permit(principal, action, resource);`, schema), entities: { path: "entities.json", text } });
    const g = (id: string, parents: string[] = []) => ({ uid: { type: "Group", id }, attrs: {}, parents: parents.map((p) => ({ type: "Group", id: p })) });
    const cases: [string, RegExp][] = [
      [`{"uid": 1}`, /JSON array/],
      [JSON.stringify([g("a"), g("a")]), /defined twice/],
      [JSON.stringify([{ uid: { type: "Martian", id: "m" }, attrs: {}, parents: [] }]), /Martian/],
      [JSON.stringify([g("a", ["b"]), g("b", ["a"])]), /cycle|hierarchy/i],
    ];
    for (const [text, message] of cases) {
      const err = compileError(() => engine().compile(withEntities(text)));
      assert.equal(err.diagnostics[0]?.file, "entities.json", text);
      assert.match(err.diagnostics.map((d) => d.message).join("\n"), message, text);
    }
  });
  it("policies without @id are named path:index", () => {
    const compiled = engine().compile(sources(`permit(principal, action, resource);\nforbid(principal, action, resource) when { false };`));
    assert.deepEqual(compiled.policies.map((p) => p.id), ["p.cedar:0", "p.cedar:1"]);
  });
  it("an empty action type means the schema namespace's Action", () => {
    const schema = `namespace Bank { entity User; entity Account; action pay appliesTo { principal: User, resource: Account }; }`;
    const compiled = engine().compile(sources(`@id("p") permit(principal, action == Bank::Action::"pay", resource);`, schema));
    const r = request({}, "pay");
    const result = compiled.evaluate({ ...r, action: { type: "", id: "pay" }, principal: { ...r.principal, uid: { type: "Bank::User", id: "u" } }, resource: { ...r.resource, uid: { type: "Bank::Account", id: "a" } } });
    assert.equal(result.decision, "allow");
  });
});
