import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import type { CompiledPolicies } from "../../src/engine/compiled-policies.js";
import type { Entity, EntityUid, Value } from "../../src/model/entity.js";
import type { PlanRequest } from "../../src/model/plan-request.js";
import type { Plan } from "../../src/model/resource-filter.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { matchesFilter } from "../helpers/filter-eval.js";
import { compileFiles, FILES_ENTITIES, fileArbitrary, filesRequestArbitrary } from "./files-scenario.js";

/**
 * The acceptance property of resource query planning: for a principal, action and context, and
 * any resource of the type, Check allows the resource exactly when the plan does (always, never,
 * or when the resource matches the filter). Resources are random; the filter is evaluated in
 * memory by an evaluator written apart from the engine, over the resource and its ancestors.
 */

const S = (value: string): Value => ({ kind: "string", value });
const B = (value: boolean): Value => ({ kind: "bool", value });
const E = (type: string, id: string): Value => ({ kind: "entity", uid: { type, id } });
const SET = (values: Value[]): Value => ({ kind: "set", values });
const entity = (type: string, id: string, attrs: Record<string, Value> = {}, parents: EntityUid[] = []): Entity => ({ uid: { type, id }, attrs, parents, tags: {} });

/** One planning question, with the resources to hold it against and the entities Check needs besides the resource. */
interface Case {
  readonly request: PlanRequest;
  readonly resources: readonly Entity[];
  /** Entities a Check request carries (besides principal and resource), also walked for ancestry. */
  readonly entities: readonly Entity[];
}

interface Tally {
  cases: number;
  kinds: Record<Plan["kind"], number>;
  allowed: number;
}

/** Holds plan against Check for every resource of a case; counts what it saw. */
function holds(policies: CompiledPolicies, c: Case, tally: Tally): void {
  const plan = policies.plan(c.request);
  tally.kinds[plan.kind]++;
  for (const resource of c.resources) {
    const entities = c.entities.filter((e) => e.uid.id !== c.request.principal.uid.id || e.uid.type !== c.request.principal.uid.type);
    const check = policies.evaluate({ principal: c.request.principal, action: c.request.action, resource, context: c.request.context, entities });
    const graph = new Map<string, readonly EntityUid[]>();
    for (const e of [resource, c.request.principal, ...entities]) graph.set(`${e.uid.type}/${e.uid.id}`, e.parents);
    const descends = (uid: EntityUid, ancestor: EntityUid): boolean => {
      const seen = new Set<string>();
      const stack = [...(graph.get(`${uid.type}/${uid.id}`) ?? [])];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const key = `${p.type}/${p.id}`;
        if (p.type === ancestor.type && p.id === ancestor.id) return true;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push(...(graph.get(key) ?? []));
        }
      }
      return false;
    };
    const planned = plan.kind === "conditional" ? matchesFilter(plan.filter, resource, descends) : plan.kind === "always_allowed";
    tally.cases++;
    if (check.decision === "allow") tally.allowed++;
    assert.equal(planned, check.decision === "allow", `plan ${JSON.stringify(plan)}\nresource ${JSON.stringify(resource)}\nCheck ${JSON.stringify(check)}`);
  }
}

const runtime = new CedarRuntime();
const tally = (): Tally => ({ cases: 0, kinds: { always_allowed: 0, always_denied: 0, conditional: 0 }, allowed: 0 });

describe("plan ⇔ Check over the example bundle (policies/)", () => {
  const text = (name: string) => readFileSync(join(EXAMPLE_BUNDLE, name), "utf8");
  const policies = new CedarEngine(runtime).compile({
    policyFiles: readdirSync(EXAMPLE_BUNDLE)
      .filter((f) => f.endsWith(".cedar"))
      .map((f) => ({ path: f, text: text(f) })),
    schema: { path: "schema.cedarschema", text: text("schema.cedarschema"), format: "cedar" },
    entities: { path: "entities.json", text: text("entities.json") },
  });
  const users = ["alice", "bob", "carol"];
  const tenants = ["acme", "globex"];
  const departments = ["eng", "sales", "ops"];
  const projects = [
    entity("App::Project", "apollo", { tenant: E("App::Tenant", "acme"), owner: E("App::User", "alice"), members: SET([E("App::User", "bob")]) }, [{ type: "App::Tenant", id: "acme" }]),
    entity("App::Project", "zeus", { tenant: E("App::Tenant", "globex"), owner: E("App::User", "carol"), members: SET([]) }, [{ type: "App::Tenant", id: "globex" }]),
  ];
  const principal = fc
    .record({
      id: fc.constantFrom(...users),
      tenant: fc.constantFrom(...tenants),
      department: fc.constantFrom(...departments),
      suspended: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      roles: fc.subarray(["admin", "editor", "viewer"]),
    })
    .map((p) => entity("App::User", p.id, { tenant: E("App::Tenant", p.tenant), department: S(p.department), suspended: B(p.suspended) }, p.roles.map((id) => ({ type: "App::Role", id }))));
  const document = fc
    .record({
      id: fc.constantFrom("d1", "d2", "d3"),
      tenant: fc.constantFrom(...tenants),
      owner: fc.constantFrom(...users),
      department: fc.constantFrom(...departments),
      classification: fc.constantFrom("public", "internal", "confidential", "draft"),
      project: fc.subarray(["apollo", "zeus"], { maxLength: 1 }),
    })
    .map((d) =>
      entity(
        "App::Document",
        d.id,
        { tenant: E("App::Tenant", d.tenant), owner: E("App::User", d.owner), department: S(d.department), classification: S(d.classification) },
        d.project.map((id) => ({ type: "App::Project", id })),
      ),
    );
  const project = fc
    .record({ id: fc.constantFrom("p1", "p2"), tenant: fc.constantFrom(...tenants), owner: fc.constantFrom(...users), members: fc.subarray(users) })
    .map((p) => entity("App::Project", p.id, { tenant: E("App::Tenant", p.tenant), owner: E("App::User", p.owner), members: SET(p.members.map((u) => E("App::User", u))) }, [{ type: "App::Tenant", id: p.tenant }]));
  const onDocuments = ["view", "comment", "edit", "delete", "share"];
  const onProjects = ["createDocument", "manageMembers"];
  const arbitrary = fc
    .record({ principal, action: fc.constantFrom(...onDocuments, ...onProjects), mfa: fc.boolean(), ip: fc.constantFrom("10.1.2.3", "192.168.7.7") })
    .chain(({ principal, action, mfa, ip }) => {
      const forDocuments = onDocuments.includes(action);
      return fc.array(forDocuments ? document : project, { minLength: 15, maxLength: 15 }).map(
        (resources): Case => ({
          request: {
            principal,
            action: { type: "App::Action", id: action },
            resourceType: forDocuments ? "App::Document" : "App::Project",
            context: { mfa: B(mfa), sourceIp: { kind: "extension", fn: "ip", arg: ip } },
            entities: [],
          },
          resources,
          entities: forDocuments ? projects : [],
        }),
      );
    });

  // Tenant isolation conditions every plan of this bundle, so ALWAYS_ALLOWED cannot occur here.
  it("agrees on thousands of random resources, conditional and always-denied plans alike", () => {
    const t = tally();
    fc.assert(
      fc.property(arbitrary, (c) => holds(policies, c, t)),
      { numRuns: 250, seed: 9001 },
    );
    assert.ok(t.cases >= 3000, `${t.cases} cases`);
    assert.ok(t.kinds.conditional > 0 && t.kinds.always_denied > 0, JSON.stringify(t.kinds));
    assert.ok(t.allowed > t.cases / 20 && t.allowed < t.cases, `allowed ${t.allowed} of ${t.cases}`);
  });
});

describe("plan ⇔ Check over a bundle using every filter construct", () => {
  const arbitrary = fc
    .record({ request: filesRequestArbitrary, resources: fc.array(fileArbitrary, { minLength: 15, maxLength: 15 }) })
    .map(({ request, resources }): Case => ({ request, resources, entities: FILES_ENTITIES }));

  for (const strict of [true, false]) {
    it(`agrees on thousands of random files (strict mode ${strict ? "on" : "off"})`, () => {
      const policies = compileFiles(runtime, strict);
      const t = tally();
      fc.assert(
        fc.property(arbitrary, (c) => holds(policies, c, t)),
        { numRuns: 200, seed: strict ? 4242 : 2424 },
      );
      assert.ok(t.cases >= 3000, `${t.cases} cases`);
      assert.ok(t.kinds.conditional > 0 && t.kinds.always_denied > 0, JSON.stringify(t.kinds));
      assert.ok(t.allowed > t.cases / 20 && t.allowed < t.cases, `allowed ${t.allowed} of ${t.cases}`);
    });
  }
});
