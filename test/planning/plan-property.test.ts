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

/**
 * The acceptance property of resource query planning: for a principal, action and context, and
 * any resource of the type, Check allows the resource exactly when the plan does (always, never,
 * or when the resource matches the filter). Resources are random; the filter is evaluated in
 * memory by an evaluator written apart from the engine, over the resource and its ancestors.
 */

const S = (value: string): Value => ({ kind: "string", value });
const L = (value: number): Value => ({ kind: "long", value });
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
  const schema = `
namespace Files {
  entity Team;
  entity User in [Team] = { clearance: Long, team: Team };
  entity Folder in [Folder];
  entity File in [Folder] = {
    owner: User, size: Long, name: String, labels: Set<String>, editors: Set<User>,
    meta: { level: Long, note?: String }, archived?: Bool,
  };
  action read, write, purge appliesTo { principal: User, resource: File, context: { now: Long, override: Bool } };
}`;
  const text = `
@id("shared-folder") permit (principal, action == Files::Action::"read", resource in Files::Folder::"shared");
@id("public-files") permit (principal, action == Files::Action::"read", resource is Files::File in Files::Folder::"public")
  when { resource has archived && resource.archived == false };
@id("editors-read") permit (principal, action == Files::Action::"read", resource) when { principal in resource.editors };
@id("owner-write") permit (principal, action == Files::Action::"write", resource) when { resource.owner == principal || resource.editors.contains(principal) };
@id("team-write") permit (principal, action == Files::Action::"write", resource) when { resource.owner in principal.team };
@id("cleared-text") permit (principal, action == Files::Action::"read", resource) when { resource.meta.level <= principal.clearance && resource.name like "*.txt" };
@id("labelled") permit (principal, action == Files::Action::"read", resource) when { resource.labels.containsAny(["open", "public"]) };
@id("notes") permit (principal, action == Files::Action::"read", resource)
  when { if resource.meta has note then resource.meta.note != "hidden" && resource.size < 50 else resource.size < 20 };
@id("purge-big") permit (principal, action == Files::Action::"purge", resource) when { resource.size > 1000 && context.override };
@id("purge-admin") permit (principal, action == Files::Action::"purge", resource) when { principal.clearance >= 9 };
@id("secret") forbid (principal, action == Files::Action::"read", resource) when { resource.labels.contains("secret") && principal.clearance < 5 };
@id("locked") forbid (principal, action == Files::Action::"write", resource) when { resource.meta has note && resource.meta.note like "LOCK*" };
@id("frozen") forbid (principal, action == Files::Action::"write", resource) unless { resource.meta.level < 8 };
@id("purge-window") forbid (principal, action == Files::Action::"purge", resource) when { resource.size < 10 || context.now * 4611686018427387904 > 0 };
`;
  const compile = (strict: boolean) =>
    new CedarEngine(runtime, { strict, maxPolicyNesting: 64 }).compile({
      policyFiles: [{ path: "files.cedar", text }],
      schema: { path: "schema.cedarschema", text: schema, format: "cedar" },
    });
  const team = (id: string): EntityUid => ({ type: "Files::Team", id });
  const teams: Record<string, string> = { u1: "red", u2: "blue", u3: "red" };
  const user = (id: string, clearance: number) => entity("Files::User", id, { clearance: L(clearance), team: E("Files::Team", teams[id]!) }, [team(teams[id]!)]);
  const folder = (id: string, parent?: string) => entity("Files::Folder", id, {}, parent === undefined ? [] : [{ type: "Files::Folder", id: parent }]);
  const known = [folder("root"), folder("shared", "root"), folder("public", "root"), folder("deep", "shared"), user("u1", 1), user("u2", 6), user("u3", 9)];
  const file = fc
    .record({
      id: fc.constantFrom("f1", "f2"),
      owner: fc.constantFrom("u1", "u2", "u3"),
      size: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 900, max: 1100 })),
      name: fc.constantFrom("a.txt", "b.md", ".txt", "txt"),
      labels: fc.subarray(["open", "public", "secret", "misc"]),
      editors: fc.subarray(["u1", "u2", "u3"]),
      level: fc.integer({ min: 0, max: 10 }),
      note: fc.option(fc.constantFrom("hidden", "LOCKED", "LOCK", "lock", "ok"), { nil: undefined }),
      archived: fc.option(fc.boolean(), { nil: undefined }),
      folders: fc.subarray(["root", "shared", "public", "deep"], { maxLength: 2 }),
    })
    .map((f) => {
      const meta: Record<string, Value> = { level: L(f.level), ...(f.note === undefined ? {} : { note: S(f.note) }) };
      return entity(
        "Files::File",
        f.id,
        {
          owner: E("Files::User", f.owner),
          size: L(f.size),
          name: S(f.name),
          labels: SET(f.labels.map(S)),
          editors: SET(f.editors.map((u) => E("Files::User", u))),
          meta: { kind: "record", fields: meta },
          ...(f.archived === undefined ? {} : { archived: B(f.archived) }),
        },
        f.folders.map((id) => ({ type: "Files::Folder", id })),
      );
    });
  const arbitrary = fc
    .record({
      id: fc.constantFrom("u1", "u2", "u3"),
      clearance: fc.integer({ min: 0, max: 10 }),
      action: fc.constantFrom("read", "write", "purge"),
      now: fc.constantFrom(0, 1, 2, -1),
      override: fc.boolean(),
      resources: fc.array(file, { minLength: 15, maxLength: 15 }),
    })
    .map(
      (c): Case => ({
        request: {
          principal: user(c.id, c.clearance),
          action: { type: "Files::Action", id: c.action },
          resourceType: "Files::File",
          context: { now: L(c.now), override: B(c.override) },
          entities: [],
        },
        resources: c.resources,
        entities: known,
      }),
    );

  for (const strict of [true, false]) {
    it(`agrees on thousands of random files (strict mode ${strict ? "on" : "off"})`, () => {
      const policies = compile(strict);
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
