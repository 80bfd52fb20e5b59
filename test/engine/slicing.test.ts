import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import fc from "fast-check";
import { CedarEngine } from "../../src/engine/cedar-engine.js";
import { toCedarEntity, toCedarRecord } from "../../src/engine/cedar-json.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { CompiledPolicies } from "../../src/engine/compiled-policies.js";
import { catalogPolicies } from "../../src/engine/policy-catalog.js";
import { ActionHierarchy } from "../../src/engine/policy-scope.js";
import { schemaHints } from "../../src/engine/schema-hints.js";
import { VerdictError } from "../../src/errors.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Entity, EntityUid, Value } from "../../src/model/entity.js";

// Sliced evaluation (policies by scope, static entities by reachability) must answer exactly
// what Cedar answers for the whole bundle: same decision, determining policies and errors.

const SCHEMA = `entity Tenant;
entity Group in [Group, Tenant];
entity User in [Group, Tenant] { level?: Long, friend?: User };
entity Folder in [Folder, Tenant] { owner?: User, level?: Long };
entity Doc in [Folder, Tenant] { owner?: User, level?: Long };
type Ctx = { flag: Bool, who: User };
action allg;
action readish in [allg];
action read in [readish] appliesTo { principal: [User, Group], resource: [Doc, Folder, User], context: Ctx };
action write in [allg] appliesTo { principal: [User, Group], resource: [Doc, Folder, User], context: Ctx };
action del appliesTo { principal: [User, Group], resource: [Doc, Folder, User], context: Ctx };`;

const IDS = ["a", "b", "c"];
const PARENT_TYPES: Record<string, string[]> = { Tenant: [], Group: ["Group", "Tenant"], User: ["Group", "Tenant"], Folder: ["Folder", "Tenant"], Doc: ["Folder", "Tenant"] };
const UNIVERSE: EntityUid[] = Object.keys(PARENT_TYPES).flatMap((type) => IDS.map((id) => ({ type, id })));
const lit = (type: string) => fc.constantFrom(...IDS).map((id) => `${type}::"${id}"`);

const principalScope = fc.oneof(
  fc.constant("principal"),
  lit("User").map((u) => `principal == ${u}`),
  fc.constantFrom("Group", "Tenant", "User").chain(lit).map((e) => `principal in ${e}`),
  fc.constantFrom("User", "Group").map((t) => `principal is ${t}`),
  lit("Group").map((g) => `principal is User in ${g}`),
);
const resourceScope = fc.oneof(
  fc.constant("resource"),
  lit("Doc").map((d) => `resource == ${d}`),
  fc.constantFrom("Folder", "Tenant", "Doc").chain(lit).map((e) => `resource in ${e}`),
  fc.constantFrom("Doc", "Folder", "User").map((t) => `resource is ${t}`),
  fc.constantFrom("Folder", "Tenant").chain(lit).map((e) => `resource is Doc in ${e}`),
);
const actionScope = fc.constantFrom(
  "action",
  `action == Action::"read"`,
  `action == Action::"del"`,
  `action in Action::"readish"`,
  `action in Action::"allg"`,
  `action in [Action::"read", Action::"del"]`,
  `action in [Action::"readish", Action::"write"]`,
);
const condition = (tags: boolean) =>
  fc.oneof(
    fc.constantFrom(
      "resource.owner == principal",
      "principal.level > 1",
      "principal has level && principal.level > 1",
      "resource has owner && resource.owner.level >= 2",
      "resource.owner.friend.level > 0",
      "principal in resource.owner",
      "resource.owner in Group::\"a\"",
      "context.flag",
      "context.who.level > 0",
      "context.who in principal",
      "Doc::\"a\" in Folder::\"b\"",
      "User::\"b\" in Group::\"c\"",
      ...(tags ? ["resource.hasTag(\"t\") && resource.getTag(\"t\") == principal", "resource.getTag(\"t\").level > 1"] : []),
    ),
    fc.tuple(fc.constantFrom("User", "Doc", "Folder"), fc.constantFrom(...IDS)).map(([t, id]) => `${t}::"${id}".level > 1`),
  );
const policyText = (tags: boolean) =>
  fc
    .record({
      effect: fc.constantFrom("permit", "forbid"),
      p: principalScope,
      a: actionScope,
      r: resourceScope,
      when: fc.array(condition(tags), { maxLength: 2 }),
      unless: fc.option(condition(tags), { nil: undefined }),
    })
    .map(({ effect, p, a, r, when, unless }) => `${effect}(${p}, ${a}, ${r})${when.length ? ` when { ${when.join(" && ")} }` : ""}${unless ? ` unless { ${unless} }` : ""};`);

const userRef = fc.constantFrom(...IDS).map((id): Value => ({ kind: "entity", uid: { type: "User", id } }));
/** An entity of `uid` with schema-conforming parents and optional attributes. */
const entityOf = (uid: EntityUid, tags: boolean): fc.Arbitrary<Entity> => {
  const parentTypes = PARENT_TYPES[uid.type]!;
  const parents: fc.Arbitrary<[string, string][]> = parentTypes.length === 0 ? fc.constant([]) : fc.uniqueArray(fc.tuple(fc.constantFrom(...parentTypes), fc.constantFrom(...IDS)), { maxLength: 2, selector: ([t, id]) => `${t}/${id}` });
  const level = fc.option(fc.integer({ min: 0, max: 3 }).map((n): Value => ({ kind: "long", value: n })), { nil: undefined });
  const ref = fc.option(userRef, { nil: undefined });
  return fc.record({ parents, level, ref, tag: fc.option(fc.oneof(userRef, fc.constant<Value>({ kind: "string", value: "x" })), { nil: undefined }) }).map(({ parents, level, ref, tag }) => {
    const attrs: Record<string, Value> = {};
    if (uid.type === "User" || uid.type === "Doc" || uid.type === "Folder") {
      if (level) attrs["level"] = level;
      if (ref) attrs[uid.type === "User" ? "friend" : "owner"] = ref;
    }
    const entityTags: Record<string, Value> = tags && tag && uid.type === "Doc" ? { t: tag } : {};
    // Parents point only to "earlier" uids of the same type, so hierarchies stay acyclic.
    const ps = parents.filter(([t, id]) => t !== uid.type || id < uid.id).map(([type, id]) => ({ type, id }));
    return { uid, attrs, parents: ps, tags: entityTags };
  });
};

interface Case {
  readonly texts: string[];
  readonly staticEntities: Entity[];
  readonly requests: AuthzRequest[];
}

/** A random bundle (policies + static entities) and requests against it. */
const caseArb = (withSchema: boolean): fc.Arbitrary<Case> =>
  fc
    .record({
      texts: fc.array(policyText(!withSchema), { minLength: 1, maxLength: 12 }),
      // Each uid of the universe is static, request-defined or absent.
      placement: fc.array(fc.constantFrom("static", "request", "absent"), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
      entities: fc.tuple(...UNIVERSE.map((u) => entityOf(u, !withSchema))),
      staticAction: fc.boolean(),
      requests: fc.array(
        fc.record({
          principal: fc.tuple(fc.constantFrom("User", "Group"), fc.constantFrom(...IDS)),
          resource: fc.tuple(fc.constantFrom("Doc", "Folder", "User"), fc.constantFrom(...IDS)),
          action: fc.constantFrom("read", "write", "del", "readish"),
          flag: fc.boolean(),
          who: userRef,
          keep: fc.array(fc.boolean(), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    })
    .map(({ texts, placement, entities, staticAction, requests }) => {
      const staticEntities = entities.filter((_, i) => placement[i] === "static");
      const defined = entities.filter((_, i) => placement[i] === "request");
      const same = (a: EntityUid, b: EntityUid) => a.type === b.type && a.id === b.id;
      const bare = (uid: EntityUid): Entity => ({ uid, attrs: {}, parents: [], tags: {} });
      const find = (uid: EntityUid) => defined.find((e) => same(e.uid, uid)) ?? bare(uid);
      return {
        texts,
        staticEntities: withSchema || !staticAction ? staticEntities : [...staticEntities, { uid: { type: "Action", id: "read" }, attrs: {}, parents: [{ type: "Action", id: "readish" }], tags: {} }],
        requests: requests.map((r) => {
          const principal = find({ type: r.principal[0], id: r.principal[1] });
          const resourceUid = { type: r.resource[0], id: r.resource[1] };
          // The same uid twice with data is refused; the resource is then a bare mention.
          const resource = same(resourceUid, principal.uid) ? bare(resourceUid) : find(resourceUid);
          return {
            principal,
            resource,
            action: { type: "Action", id: r.action },
            context: { flag: { kind: "bool", value: r.flag }, who: r.who },
            entities: defined.filter((e, i) => r.keep[i] && e !== principal && e !== resource),
          } satisfies AuthzRequest;
        }),
      };
    });

const runtime = new CedarRuntime();
const cedar = () => runtime.cedar;

function compile(c: Case, schema: string | undefined, options: { sliceByPrincipalAncestry: boolean; maxSlices: number }): CompiledPolicies {
  const policies = catalogPolicies(cedar(), [{ path: "p.cedar", text: c.texts.map((t, i) => `@id("p${i}") ${t}`).join("\n") }], []);
  assert.equal(policies.length, c.texts.length);
  const json = schema === undefined ? undefined : cedar().schemaToJson(schema);
  return new CompiledPolicies(
    runtime,
    {
      policies,
      schema,
      staticEntities: c.staticEntities.map(toCedarEntity),
      defaultActionType: "Action",
      hints: schemaHints(cedar(), schema),
      actionHierarchy: json?.type === "success" ? ActionHierarchy.fromSchema(json.json) : undefined,
      sources: { policyFiles: [] },
    },
    { strict: false, ...options },
  );
}

type Outcome = { failed: true } | { failed: false; decision: string; reasons: string[]; errored: string[] };

/** Cedar's own answer with the whole policy set and every entity. */
function reference(c: Case, schema: string | undefined, req: AuthzRequest): Outcome {
  const staticPolicies: Record<string, string> = {};
  c.texts.forEach((t, i) => (staticPolicies[`p${i}`] = t));
  const isBare = (e: Entity) => e.parents.length === 0 && Object.keys(e.attrs).length === 0 && Object.keys(e.tags).length === 0;
  const entities: EntityJson[] = [...c.staticEntities, req.principal, req.resource, ...req.entities].filter((e, i, all) => !isBare(e) && all.indexOf(e) === i).map(toCedarEntity);
  const answer = cedar().isAuthorized({
    principal: req.principal.uid,
    action: req.action,
    resource: req.resource.uid,
    context: toCedarRecord(req.context),
    policies: { staticPolicies },
    entities,
    ...(schema === undefined ? {} : { schema, validateRequest: true }),
  });
  if (answer.type === "failure") return { failed: true };
  const d = answer.response.diagnostics;
  return { failed: false, decision: answer.response.decision, reasons: [...d.reason].sort(), errored: d.errors.map((e) => e.policyId).sort() };
}

function sliced(engine: CompiledPolicies, req: AuthzRequest): Outcome {
  try {
    const e = engine.evaluate(req);
    return { failed: false, decision: e.decision, reasons: [...e.determiningPolicies].sort(), errored: e.errors.map((x) => x.policyId).sort() };
  } catch (err) {
    assert.ok(err instanceof VerdictError && err.code === "invalid_argument", String(err));
    return { failed: true };
  }
}

let cases = 0;
function checkCase(c: Case, schema: string | undefined, sliceByPrincipalAncestry: boolean, maxSlices: number): void {
  const engine = compile(c, schema, { sliceByPrincipalAncestry, maxSlices });
  for (const req of c.requests) assert.deepEqual(sliced(engine, req), reference(c, schema, req));
  // Now and then, again after a recycle: every slice re-preparses into the fresh instance.
  if (++cases % 10 === 0) {
    runtime.recycle();
    for (const req of c.requests) assert.deepEqual(sliced(engine, req), reference(c, schema, req));
  }
}

describe("sliced evaluation equals whole-set evaluation", () => {
  for (const withSchema of [true, false]) {
    for (const byAncestry of [false, true]) {
      it(`random bundles and requests, ${withSchema ? "with" : "without"} a schema, principal ancestry ${byAncestry ? "on" : "off"}`, () => {
        fc.assert(
          fc.property(caseArb(withSchema), fc.integer({ min: 1, max: 4 }), (c, maxSlices) => checkCase(c, withSchema ? SCHEMA : undefined, byAncestry, maxSlices)),
          { numRuns: 40 },
        );
      });
    }
  }

  it("a policy set whose conditions fail on most requests still reports the same errors", () => {
    const c: Case = {
      texts: [`permit(principal, action, resource) when { principal.level > 1 };`, `forbid(principal in Group::"a", action, resource) when { resource.owner.level > 0 };`],
      staticEntities: [{ uid: { type: "User", id: "a" }, attrs: {}, parents: [{ type: "Group", id: "a" }], tags: {} }],
      requests: [
        { principal: { uid: { type: "User", id: "a" }, attrs: {}, parents: [], tags: {} }, action: { type: "Action", id: "read" }, resource: { uid: { type: "Doc", id: "a" }, attrs: {}, parents: [], tags: {} }, context: {}, entities: [] },
      ],
    };
    checkCase(c, undefined, true, 2);
  });
});

describe("sliced evaluation on a multi-tenant bundle", () => {
  const TENANTS = Array.from({ length: 60 }, (_, i) => `t${String(i).padStart(2, "0")}`);
  const schema = `entity Tenant { plan: String };
entity Role;
entity User in [Role] { department: String };
entity Folder in [Folder, Tenant] { department: String };
entity Document in [Folder] { owner: User, department: String, tenant: Tenant };
type Ctx = { mfa: Bool };
action write;
action read, approve appliesTo { principal: [User], resource: [Document], context: Ctx };
action edit, delete in [write] appliesTo { principal: [User], resource: [Document], context: Ctx };
action list appliesTo { principal: [User], resource: [Folder], context: Ctx };`;
  const perTenant = (t: string) => `
@id("${t}:admin") permit (principal in Role::"${t}:admin", action, resource in Tenant::"${t}");
@id("${t}:owner") permit (principal, action in [Action::"read", Action::"edit"], resource is Document in Tenant::"${t}") when { resource.owner == principal };
@id("${t}:dept-read") permit (principal in Role::"${t}:employee", action == Action::"read", resource is Document in Tenant::"${t}") when { principal.department == resource.department };
@id("${t}:editor") permit (principal in Role::"${t}:editor", action in Action::"write", resource is Document in Tenant::"${t}") when { resource.tenant.plan == "gold" };
@id("${t}:delete-mfa") forbid (principal, action == Action::"delete", resource in Tenant::"${t}") unless { context.mfa };
@id("${t}:contractor") forbid (principal in Role::"${t}:contractor", action in Action::"write", resource in Tenant::"${t}");
@id("${t}:handbook") permit (principal in Role::"${t}:employee", action == Action::"read", resource in Folder::"${t}/handbook");
@id("${t}:list") permit (principal in Role::"${t}:employee", action == Action::"list", resource is Folder in Tenant::"${t}") when { Tenant::"${t}".plan != "free" };`;
  const text = `@id("platform-admin") permit (principal in Role::"platform-admin", action, resource);\n${TENANTS.map(perTenant).join("\n")}`;
  const staticEntities = TENANTS.flatMap((t, i): Entity[] => [
    { uid: { type: "Tenant", id: t }, attrs: { plan: { kind: "string", value: ["free", "gold", "silver"][i % 3]! } }, parents: [], tags: {} },
    { uid: { type: "Folder", id: `${t}/handbook` }, attrs: { department: { kind: "string", value: "all" } }, parents: [{ type: "Tenant", id: t }], tags: {} },
  ]);
  const engine = new CedarEngine(runtime, { strict: false, maxPolicyNesting: 64, maxSlices: 64 }).compile({
    policyFiles: [{ path: "p.cedar", text }],
    schema: { path: "schema.cedarschema", text: schema, format: "cedar" },
    entities: { path: "entities.json", text: JSON.stringify(staticEntities.map(toCedarEntity)) },
  });
  const str = (value: string): Value => ({ kind: "string", value });
  const requestArb = fc
    .record({
      tenant: fc.constantFrom(...TENANTS),
      roleTenant: fc.option(fc.constantFrom(...TENANTS), { freq: 4, nil: undefined }),
      roles: fc.subarray(["admin", "employee", "editor", "contractor", "platform-admin"]),
      user: fc.constantFrom("alice", "bob"),
      owner: fc.constantFrom("alice", "bob"),
      dept: fc.constantFrom("eng", "sales"),
      rdept: fc.constantFrom("eng", "sales"),
      action: fc.constantFrom("read", "edit", "delete", "approve", "list", "write"),
      inHandbook: fc.boolean(),
      folder: fc.boolean(),
      mfa: fc.boolean(),
    })
    .map((r): AuthzRequest => {
      const roles = r.roles.map((x) => (x === "platform-admin" ? x : `${r.roleTenant ?? r.tenant}:${x}`));
      const folderUid = r.inHandbook ? { type: "Folder", id: `${r.tenant}/handbook` } : { type: "Folder", id: `${r.tenant}/f` };
      const folder: Entity = { uid: { type: "Folder", id: `${r.tenant}/f` }, attrs: { department: str(r.rdept) }, parents: [{ type: "Tenant", id: r.tenant }], tags: {} };
      const doc: Entity = {
        uid: { type: "Document", id: `${r.tenant}/d` },
        attrs: { owner: { kind: "entity", uid: { type: "User", id: r.owner } }, department: str(r.rdept), tenant: { kind: "entity", uid: { type: "Tenant", id: r.tenant } } },
        parents: [folderUid],
        tags: {},
      };
      return {
        principal: { uid: { type: "User", id: r.user }, attrs: { department: str(r.dept) }, parents: roles.map((id) => ({ type: "Role", id })), tags: {} },
        action: { type: "Action", id: r.action },
        resource: r.folder ? folder : doc,
        context: { mfa: { kind: "bool", value: r.mfa } },
        entities: r.folder || r.inHandbook ? [] : [folder],
      };
    });

  it("answers exactly as the whole preparsed set does, for random requests", () => {
    const whole: Record<string, string> = {};
    for (const p of engine.policies) whole[p.id] = p.text;
    const answer = cedar().preparsePolicySet("slicing-test-whole", { staticPolicies: whole });
    assert.equal(answer.type, "success");
    cedar().preparseSchema("slicing-test-whole", schema);
    const staticJson = staticEntities.map(toCedarEntity);
    fc.assert(
      fc.property(requestArb, (req) => {
        const ref = cedar().statefulIsAuthorized({
          principal: req.principal.uid,
          action: req.action,
          resource: req.resource.uid,
          context: toCedarRecord(req.context),
          entities: [...staticJson, ...[req.principal, req.resource, ...req.entities].map(toCedarEntity)],
          preparsedPolicySetId: "slicing-test-whole",
          preparsedSchemaName: "slicing-test-whole",
          validateRequest: true,
        });
        const want: Outcome =
          ref.type === "failure"
            ? { failed: true }
            : { failed: false, decision: ref.response.decision, reasons: [...ref.response.diagnostics.reason].sort(), errored: ref.response.diagnostics.errors.map((e) => e.policyId).sort() };
        assert.deepEqual(sliced(engine, req), want);
      }),
      { numRuns: 300 },
    );
    assert.ok(engine.sliceCount <= 64);
  });
});
