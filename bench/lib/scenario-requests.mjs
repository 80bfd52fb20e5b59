// Scenario requests: one abstract request, three encodings (Cedar call, Cerbos CheckResources
// JSON, verdict.v1.CheckRequest JSON). Adapted from the project's research model
// (shared/research/v8-crash/lib/model.mjs) so both PDPs get the same question.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

// Where the scenarios (equivalent Cedar and Cerbos policies) live.
export const SCENARIOS_DIR = process.env.BENCH_SCENARIOS_DIR ?? "/work/shared/bench/scenarios";

// Scenario L has 125 tenants named t000..t124 (same naming as scenarios/tenants.mjs).
export const TENANT_COUNT = 125;
const tenantId = (i) => `t${String(i).padStart(3, "0")}`;
const TENANTS = Array.from({ length: TENANT_COUNT }, (_, i) => tenantId(i));

// Cedar text and schema of a scenario, for the floor and the expected decisions.
export function loadCedarScenario(name) {
  const dir = join(SCENARIOS_DIR, name, "cedar");
  const policies = readdirSync(dir).filter((f) => f.endsWith(".cedar")).sort()
    .map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
  return { policies, schema: readFileSync(join(dir, "schema.cedarschema"), "utf8") };
}

const GLOBAL_ROLES = new Set(["platform-admin"]);
const roleName = (r, t) => (t && !GLOBAL_ROLES.has(r) ? `${t}:${r}` : r);
const idName = (x, t) => (t ? `${t}/${x}` : x);
const uid = (type, id) => ({ type, id });

// Deterministic PRNG (mulberry32): the same seed gives the same request set on every run.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A stream of distinct abstract requests covering every policy of the scenario; distinct so
// that a decision cache cannot answer one from another (misses stay misses).
export function* distinctRequests(scenario, seed) {
  const R = rng(seed);
  const pick = (xs) => xs[Math.floor(R() * xs.length)];
  const multiTenant = scenario === "large";
  const ROLES = ["admin", "employee", "editor", "auditor", "manager", "contractor"];
  if (multiTenant) ROLES.push("platform-admin");
  const seen = new Set();
  for (let i = 0; ; i++) {
    const roles = ROLES.filter(() => R() < 0.3);
    if (!roles.length) roles.push(pick(["employee", "contractor"]));
    const kind = R() < 0.8 ? "document" : "folder";
    const folders = pick([["eng"], ["sales"], ["onboarding", "handbook"], ["handbook"], []]);
    const dept = pick(["eng", "sales"]);
    const resource = kind === "document"
      ? { kind, id: `d${i}`, owner: pick(["alice", "bob", "carol"]), department: dept, classification: pick(["public", "internal", "confidential"]), archived: R() < 0.3, folders: folders.length ? folders : ["eng"] }
      : (() => { const id = pick(["eng", "sales", "handbook", "misc"]); return { kind, id, department: dept, folders: folders.filter((f) => f !== "onboarding" && f !== id) }; })();
    // Only schema-valid requests (the schema lets `list` apply to folders, the rest to documents).
    const action = kind === "document" ? pick(["read", "edit", "delete", "share", "comment", "approve"]) : "list";
    const req = {
      tenant: multiTenant ? pick(TENANTS) : null,
      principal: { id: pick(["alice", "bob", "carol"]), roles, department: pick(["eng", "sales"]), clearance: 1 + Math.floor(R() * 4) },
      action, resource,
      context: { mfa: R() < 0.6, ip: pick(["10.1.2.3", "10.200.0.9", "192.168.1.5", "203.0.113.7"]) },
    };
    // L: a fifth of the requests are cross-tenant (the principal's roles belong to another tenant)
    if (multiTenant && R() < 0.2) req.principal.roleTenant = pick(TENANTS);
    const key = JSON.stringify(req);
    if (seen.has(key)) continue;
    seen.add(key);
    yield req;
  }
}

// Cedar authorization call (principal, action, resource, context, entities) for cedar-wasm.
export function toCedar(req) {
  const t = req.tenant;
  const p = req.principal, r = req.resource;
  const roles = p.roles.map((x) => roleName(x, p.roleTenant ?? t));
  const entities = [
    { uid: uid("User", p.id), attrs: { department: p.department, clearance: p.clearance }, parents: roles.map((x) => uid("Role", x)) },
    ...roles.map((x) => ({ uid: uid("Role", x), attrs: {}, parents: [] })),
  ];
  const folders = r.folders.map((f) => idName(f, t));
  const top = t ? [uid("Tenant", t)] : [];
  const rid = idName(r.id, t);
  let resource;
  if (r.kind === "document") {
    resource = uid("Document", rid);
    entities.push({
      uid: resource,
      attrs: { owner: { __entity: uid("User", r.owner) }, department: r.department, classification: r.classification, archived: r.archived },
      parents: folders.length ? [uid("Folder", folders[0])] : top,
    });
  } else {
    resource = uid("Folder", rid);
    entities.push({ uid: resource, attrs: { department: r.department }, parents: folders.length ? [uid("Folder", folders[0])] : top });
  }
  folders.forEach((f, i) =>
    entities.push({ uid: uid("Folder", f), attrs: { department: r.department }, parents: i + 1 < folders.length ? [uid("Folder", folders[i + 1])] : top }),
  );
  if (t) entities.push({ uid: uid("Tenant", t), attrs: {}, parents: [] });
  return {
    principal: uid("User", p.id),
    action: uid("Action", req.action),
    resource,
    context: { mfa: req.context.mfa, ip: { __extn: { fn: "ip", arg: req.context.ip } } },
    entities,
  };
}

// Cerbos CheckResourcesRequest (proto3 JSON): context travels as principal attributes, the
// folder chain as R.attr.folders, the tenant as the policy scope (or an attribute when flat).
export function toCerbosJson(req, { flat = false } = {}) {
  const t = req.tenant;
  const p = req.principal, r = req.resource;
  const attr = r.kind === "document"
    ? { owner: r.owner, department: r.department, classification: r.classification, archived: r.archived, folders: r.folders.map((f) => idName(f, t)) }
    : { department: r.department, folders: r.folders.map((f) => idName(f, t)) };
  if (t) attr.tenant = t;
  const resource = { kind: r.kind, id: idName(r.id, t), attr };
  if (t && !flat) resource.scope = t;
  return {
    principal: { id: p.id, roles: p.roles.map((x) => roleName(x, p.roleTenant ?? t)), attr: { department: p.department, clearance: p.clearance, mfa: req.context.mfa, ip: req.context.ip } },
    resources: [{ actions: [req.action], resource }],
  };
}

// Cedar JSON value (cedar-wasm form) -> verdict.v1.Value in proto3 JSON.
function verdictValue(v) {
  if (typeof v === "boolean") return { bool: v };
  if (typeof v === "number") return { long: String(v) };
  if (typeof v === "string") return { string: v };
  if (Array.isArray(v)) return { set: { values: v.map(verdictValue) } };
  if (v.__entity) return { entity: v.__entity };
  if (v.__extn) return { extension: { fn: v.__extn.fn, arg: v.__extn.arg } };
  return { record: { fields: verdictAttrs(v) } };
}
const verdictAttrs = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, verdictValue(v)]));
const verdictEntity = (e) => ({ uid: e.uid, attrs: verdictAttrs(e.attrs), parents: e.parents });

// verdict.v1.CheckRequest (proto3 JSON) carrying exactly the entities of the Cedar call:
// principal and resource as full entities, the rest (roles, folders, tenant) in `entities`.
export function toVerdictJson(req) {
  const c = toCedar(req);
  const same = (a, b) => a.type === b.type && a.id === b.id;
  const byUid = (u) => c.entities.find((e) => same(e.uid, u));
  return {
    principal: verdictEntity(byUid(c.principal)),
    action: c.action,
    resource: verdictEntity(byUid(c.resource)),
    context: verdictAttrs(c.context),
    entities: c.entities.filter((e) => !same(e.uid, c.principal) && !same(e.uid, c.resource)).map(verdictEntity),
  };
}

// A Cedar call (toCedar) as Verdict's in-process model (AuthzRequest), for engine benchmarks.
const modelValue = (v) => {
  if (typeof v === "boolean") return { kind: "bool", value: v };
  if (typeof v === "number") return { kind: "long", value: v };
  if (typeof v === "string") return { kind: "string", value: v };
  if (Array.isArray(v)) return { kind: "set", values: v.map(modelValue) };
  if (v.__entity) return { kind: "entity", uid: v.__entity };
  if (v.__extn) return { kind: "extension", fn: v.__extn.fn, arg: v.__extn.arg };
  return { kind: "record", fields: modelRecord(v) };
};
const modelRecord = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, modelValue(v)]));
const modelEntity = (e) => ({ uid: e.uid, attrs: modelRecord(e.attrs), parents: e.parents, tags: {} });
export function toModel(call) {
  const same = (a, b) => a.type === b.type && a.id === b.id;
  const find = (u) => call.entities.find((e) => same(e.uid, u));
  return {
    principal: modelEntity(find(call.principal)),
    action: call.action,
    resource: modelEntity(find(call.resource)),
    context: modelRecord(call.context),
    entities: call.entities.filter((e) => !same(e.uid, call.principal) && !same(e.uid, call.resource)).map(modelEntity),
  };
}
