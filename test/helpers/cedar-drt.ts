import fc from "fast-check";
import { toCedarEntity } from "../../src/engine/cedar-json.js";
import { CedarRuntime } from "../../src/engine/cedar-runtime.js";
import { compileBundle } from "../../src/engine/compiled/compile-bundle.js";
import { NeedsWasm } from "../../src/engine/compiled/compiled-evaluator.js";
import { CompiledPolicies } from "../../src/engine/compiled-policies.js";
import { outcomeOf, type Outcome, sameOutcome } from "../../src/engine/evaluator-choice.js";
import { catalogPolicies } from "../../src/engine/policy-catalog.js";
import { ActionHierarchy } from "../../src/engine/policy-scope.js";
import { schemaHints } from "../../src/engine/schema-hints.js";
import type { AuthzRequest } from "../../src/model/authz-request.js";
import type { Entity, EntityUid, Value } from "../../src/model/entity.js";

/**
 * Differential random testing of the compiled evaluator against cedar-wasm (as Verdict calls
 * it): random policies (Cedar text, parsed by cedar-wasm), entities, requests, with and without
 * a schema. Shared by the suite and `bench/drt.mjs` (from dist/test/helpers).
 */

export const DRT_SCHEMA = `entity Tenant;
entity Group in [Group, Tenant] { n?: Long, s?: String };
entity User in [Group, Tenant] { n?: Long, s?: String, b?: Bool, ip?: ipaddr, set?: Set<Long>, r?: { a: Long, b?: String }, e?: User, d?: decimal, t?: datetime, u?: duration } tags String;
entity Doc in [Group, Tenant] { n: Long, e?: User, set?: Set<String>, ss?: Set<User> };
entity Color enum ["red", "blue"];
action all;
action read in [all] appliesTo { principal: [User, Group], resource: [Doc, User], context: { n?: Long, s?: String, ip?: ipaddr, set?: Set<Long>, e?: User, r?: { a: Long } } };
action write in [all] appliesTo { principal: [User], resource: [Doc], context: {} };
action paint appliesTo { principal: [User], resource: [Color], context: { d?: decimal, t?: datetime } };`;

const IDS = ["a", "b", "c"];
const TYPES = ["User", "Group", "Doc", "Tenant"];
const ATTRS = ["n", "s", "b", "ip", "set", "r", "e", "d", "t", "u", "ss", "a", "x"];

const IP_STRINGS = ["10.0.0.1", "10.0.0.0/8", "10.1.0.0/8", "127.0.0.1", "127.0.0.1/4", "127.0.0.1/8", "::1", "::1/64", "224.0.0.1", "224.0.0.0/3", "ff00::/7", "ff01::1", "1.2.3.4/33", "01.2.3.4", "1.2.3.4/08", "::ffff:1.2.3.4", "fe80::1%eth0", " 1.2.3.4", "2001:db8::/32", "2001:db8::1", "::", "0.0.0.0/0", "1:2:3:4:5:6:7:8", "1::2::3", "256.1.1.1", "1.2.3", "1.2.3.4/+8", "1.2.3.4/", "10.0.0.1/32"];
const DECIMAL_STRINGS = ["1.0", "1.5", "-1.5", "01.5", "0.0001", "-0.0", "1.", "1", "1.23456", "+1.0", "1e3", "922337203685477.5807", "922337203685477.5808", "-922337203685477.5808", "-922337203685477.5809"];
const DATETIME_STRINGS = ["2024-01-01", "2024-02-29", "0000-01-01", "2023-02-29", "1969-12-31T23:59:59Z", "2024-01-01T00:00:00.123Z", "2024-01-01T12:00:00+0100", "2024-01-01T12:00:00-2359", "2024-01-01T12:00:00+2400", "2024-01-01T12:00:00+0060", "2024-01-01T24:00:00Z", "2024-01-01T12:00:60Z", "2024-01-01T12:00:00z", "2024-01-01T12:00:00", "10000-01-01", "-2024-01-01", "2024-1-1", "1960-06-15T10:30:00Z", "2024-01-01T12:00:00.12Z"];
const DURATION_STRINGS = ["1d", "1h", "1m", "1s", "1ms", "1d2h3m4s5ms", "-1d", "2h1d", "1H", "", "-", "01h", "1d1d", "9223372036854775807ms", "9223372036854775808ms", "106751991167d", "106751992d", "1m1ms", "0ms", "-0s"];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const uidText = fc.tuple(pick(TYPES), pick(IDS)).map(([t, id]) => `${t}::"${id}"`);
const str = (xs: readonly string[]) => pick(xs).map((s) => JSON.stringify(s));

const LONGS = [0, 1, 2, -1, 3037000500, 9223372036854775807n, -9223372036854775808n, 4611686018427387904n, 9007199254740993n, 100];
const longText = fc.oneof({ arbitrary: pick(LONGS.slice(0, 5)), weight: 12 }, pick(LONGS)).map((n) => (typeof n === "bigint" && n < 0n ? `(${n})` : String(n)));

/** A random expression (Cedar text) of bounded depth. */
export const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => {
  const e = tie("e");
  const leaf = fc.oneof(
    pick(["principal", "resource", "action", "context", "true", "false", `""`, `"a"`, `"a*b"`, "[]", "{}"]),
    longText,
    uidText,
    pick(["Action::\"read\"", "Action::\"all\"", "Color::\"red\"", "Color::\"green\""]),
    fc.tuple(pick(["ip", "decimal", "datetime", "duration"]), fc.nat()).map(([f, i]) => {
      const list = f === "ip" ? IP_STRINGS : f === "decimal" ? DECIMAL_STRINGS : f === "datetime" ? DATETIME_STRINGS : DURATION_STRINGS;
      return `${f}(${JSON.stringify(list[i % list.length])})`;
    }),
  );
  const node = fc.oneof(
    { depthSize: "small" },
    { arbitrary: leaf, weight: 4 },
    fc.tuple(e, pick(ATTRS)).map(([x, a]) => `${x}.${a}`),
    fc.tuple(e, pick(ATTRS)).map(([x, a]) => `(${x} has ${a})`),
    fc.tuple(e, pick(ATTRS), pick(ATTRS)).map(([x, a, b]) => `(${x} has ${a}.${b})`),
    fc.tuple(e, pick(["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "&&", "||", "in"]), e).map(([l, op, r]) => `(${l} ${op} ${r})`),
    fc.tuple(pick(["!", "-"]), e).map(([op, x]) => `(${op}${x})`),
    fc.tuple(e, pick(["contains", "containsAll", "containsAny", "hasTag", "getTag", "isInRange", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "offset", "durationSince"]), e).map(([l, m, r]) => `${l}.${m}(${r})`),
    fc.tuple(e, pick(["isEmpty", "isIpv4", "isIpv6", "isLoopback", "isMulticast", "toDate", "toTime", "toDays", "toHours", "toMinutes", "toSeconds", "toMilliseconds"])).map(([l, m]) => `${l}.${m}()`),
    fc.tuple(e, pick(["*", "a*", "*b", "a\\*b", "*a*b*", "", "\\**", "a\nb*"])).map(([l, p]) => `(${l} like "${p.replace(/\n/g, "\\n")}")`),
    fc.tuple(e, pick(TYPES), fc.option(e, { nil: undefined })).map(([l, t, r]) => (r === undefined ? `(${l} is ${t})` : `(${l} is ${t} in ${r})`)),
    fc.tuple(e, e, e).map(([c, t, f]) => `(if ${c} then ${t} else ${f})`),
    fc.array(e, { maxLength: 3 }).map((xs) => `[${xs.join(", ")}]`),
    fc.array(fc.tuple(pick(["a", "b", "__proto__"]), e), { maxLength: 2 }).map((fs) => `{${[...new Map(fs)].map(([k, v]) => `"${k}": ${v}`).join(", ")}}`),
  );
  return { e: node };
}).e;

const scope = (v: "principal" | "resource") =>
  fc.oneof(
    fc.constant(v),
    uidText.map((u) => `${v} == ${u}`),
    uidText.map((u) => `${v} in ${u}`),
    pick(TYPES).map((t) => `${v} is ${t}`),
    fc.tuple(pick(TYPES), uidText).map(([t, u]) => `${v} is ${t} in ${u}`),
  );
const actionScope = pick(["action", `action == Action::"read"`, `action in Action::"all"`, `action in [Action::"read", Action::"paint"]`, `action == Action::"write"`]);

/** A random policy (Cedar text). */
export const policyArb = fc
  .record({ effect: pick(["permit", "forbid"]), p: scope("principal"), a: actionScope, r: scope("resource"), conds: fc.array(fc.tuple(pick(["when", "unless"]), exprArb), { maxLength: 2 }) })
  .map(({ effect, p, a, r, conds }) => `${effect}(${p}, ${a}, ${r})${conds.map(([k, x]) => ` ${k} { ${x} }`).join("")};`);

const ext = (fn: string, list: readonly string[]) => pick(list).map((arg): Value => ({ kind: "extension", fn, arg }));
/** A random value, mostly of the types the schema declares for `attr`. */
export const valueArb: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    { arbitrary: fc.boolean().map((value): Value => ({ kind: "bool", value })), weight: 3 },
    { arbitrary: fc.integer({ min: -3, max: 3 }).map((value): Value => ({ kind: "long", value })), weight: 3 },
    // Hostile values, rarely: each refuses the whole request.
    fc.oneof(
      pick([2 ** 53, 2 ** 62, 2 ** 63, -(2 ** 63), 1.5, 3037000500, -0]).map((value): Value => ({ kind: "long", value })),
      ext("bogus", ["1"]),
      ext("ip", IP_STRINGS.slice(12)),
      ext("decimal", DECIMAL_STRINGS.slice(6)),
      ext("datetime", DATETIME_STRINGS.slice(3)),
      ext("duration", DURATION_STRINGS.slice(6)),
    ),
    { arbitrary: pick(["", "a", "ab", "a*b", "10.0.0.1", "1.5", "2024-01-01", "1h", "red"]).map((value): Value => ({ kind: "string", value })), weight: 3 },
    { arbitrary: fc.tuple(pick(TYPES.concat(["Color", "Action"])), pick(IDS.concat(["red"]))).map(([type, id]): Value => ({ kind: "entity", uid: { type, id } })), weight: 3 },
    ext("ip", IP_STRINGS.slice(0, 12)),
    ext("decimal", DECIMAL_STRINGS.slice(0, 6)),
    ext("datetime", DATETIME_STRINGS.slice(0, 3)),
    ext("duration", DURATION_STRINGS.slice(0, 6)),
    { arbitrary: fc.array(tie("v"), { maxLength: 3 }).map((values): Value => ({ kind: "set", values })), weight: 2 },
    { arbitrary: fc.array(fc.tuple(pick(["a", "b", "type", "id", "__proto__"]), tie("v")), { maxLength: 2 }).map((fs): Value => ({ kind: "record", fields: Object.fromEntries(fs) })), weight: 2 },
  ),
})).v;

/** Values that conform to DRT_SCHEMA's attribute types more often than random ones. */
const typedValue: Record<string, fc.Arbitrary<Value>> = {
  n: fc.integer({ min: -2, max: 3 }).map((value): Value => ({ kind: "long", value })),
  s: pick(["a", "ab", ""]).map((value): Value => ({ kind: "string", value })),
  b: fc.boolean().map((value): Value => ({ kind: "bool", value })),
  ip: fc.oneof(ext("ip", IP_STRINGS.slice(0, 12)), pick(IP_STRINGS.slice(0, 14)).map((value): Value => ({ kind: "string", value }))),
  set: fc.array(fc.integer({ min: 0, max: 3 }).map((value): Value => ({ kind: "long", value })), { maxLength: 3 }).map((values): Value => ({ kind: "set", values })),
  r: fc.record({ a: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: [] }).map(({ a }): Value => ({ kind: "record", fields: a === undefined ? {} : { a: { kind: "long", value: a } } })),
  e: pick(IDS).map((id): Value => ({ kind: "entity", uid: { type: "User", id } })),
  d: ext("decimal", DECIMAL_STRINGS.slice(0, 6)),
  t: ext("datetime", DATETIME_STRINGS.slice(0, 3)),
  u: ext("duration", DURATION_STRINGS.slice(0, 6)),
};

/** Attributes DRT_SCHEMA declares per entity type (random keys sometimes, too). */
const DECLARED: Record<string, string[]> = { User: ["n", "s", "b", "ip", "set", "r", "e", "d", "t", "u"], Group: ["n", "s"], Doc: ["n", "e", "set"], Tenant: [] };
const attrsArb = (type: string) => fc.array(fc.tuple(fc.oneof({ arbitrary: pick(DECLARED[type]!.length > 0 ? DECLARED[type]! : ATTRS), weight: 8 }, pick(ATTRS)), fc.nat({ max: 9 })), { maxLength: 4 }).chain((keys) =>
  fc.tuple(...keys.map(([k, roll]) => (roll < 7 && typedValue[k] !== undefined ? typedValue[k]! : valueArb).map((v) => [k, v] as const))).map((kvs) => Object.fromEntries(kvs)),
);

const entityArb = (uid: EntityUid): fc.Arbitrary<Entity> =>
  fc
    .record({
      attrs: attrsArb(uid.type),
      // Mostly acyclic (Group → earlier Group or Tenant), sometimes anything (cycles included).
      parents: fc.array(fc.oneof({ arbitrary: fc.tuple(pick(["Group", "Tenant"]), pick(IDS)).map(([t, id]) => (t === uid.type && id >= uid.id ? ["Tenant", id] : [t, id])), weight: 40 }, fc.tuple(pick(["Group", "Tenant", "User", "Doc"]), pick(IDS))), { maxLength: 2 }),
      tags: fc.array(fc.tuple(pick(["t", "u"]), fc.oneof({ arbitrary: pick(["x", "y"]).map((value): Value => ({ kind: "string", value })), weight: 6 }, valueArb)), { maxLength: uid.type === "User" ? 2 : 1 }),
    })
    .map(({ attrs, parents, tags }) => ({
      uid,
      attrs: uid.type === "Doc" && attrs["n"] === undefined && parents.length % 2 === 0 ? { ...attrs, n: { kind: "long", value: 1 } } : attrs,
      parents: parents.map(([type, id]) => ({ type, id })),
      tags: Object.fromEntries(tags),
    }));

const UNIVERSE: EntityUid[] = TYPES.flatMap((type) => IDS.map((id) => ({ type, id })));

export interface DrtCase {
  readonly texts: readonly string[];
  readonly staticEntities: readonly Entity[];
  readonly requests: readonly AuthzRequest[];
}

/** A random bundle and requests against it. */
export const caseArb: fc.Arbitrary<DrtCase> = fc
  .record({
    texts: fc.array(policyArb, { minLength: 1, maxLength: 6 }),
    placement: fc.array(pick(["static", "request", "request", "absent"]), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
    entities: fc.tuple(...UNIVERSE.map(entityArb)),
    requests: fc.array(
      fc.record({
        principal: fc.tuple(pick(["User", "Group", "User"]), pick(IDS)),
        resource: fc.tuple(pick(["Doc", "User", "Color", "Doc"]), pick(IDS.concat(["red"]))),
        action: pick(["read", "write", "paint", "all", "read"]),
        context: fc.array(fc.tuple(fc.oneof({ arbitrary: pick(["n", "s", "ip", "set", "e"]), weight: 6 }, pick(["r", "d", "t", "x"])), fc.nat({ max: 9 })), { maxLength: 3 }).chain((keys) =>
          fc.tuple(...keys.map(([k, roll]) => (roll < 7 && typedValue[k] !== undefined ? typedValue[k]! : valueArb).map((v) => [k, v] as const))).map((kvs) => Object.fromEntries(kvs)),
        ),
        keep: fc.array(fc.boolean(), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ texts, placement, entities, requests }) => {
    const staticEntities = entities.filter((_, i) => placement[i] === "static");
    const defined = entities.filter((_, i) => placement[i] === "request");
    const same = (a: EntityUid, b: EntityUid) => a.type === b.type && a.id === b.id;
    const bare = (uid: EntityUid): Entity => ({ uid, attrs: {}, parents: [], tags: {} });
    const find = (uid: EntityUid) => defined.find((e) => same(e.uid, uid)) ?? bare(uid);
    return {
      texts,
      staticEntities,
      requests: requests.map((r) => {
        const principal = find({ type: r.principal[0], id: r.principal[1] });
        const resourceUid = { type: r.resource[0], id: r.resource[1] };
        const resource = same(resourceUid, principal.uid) ? bare(resourceUid) : find(resourceUid);
        return { principal, resource, action: { type: "Action", id: r.action }, context: r.context, entities: defined.filter((e, i) => r.keep[i] && e !== principal && e !== resource) } satisfies AuthzRequest;
      }),
    };
  });

const runtime = new CedarRuntime();

/** A case's bundle as Verdict compiles it, without the schema's strict validation (random policies rarely pass it). */
export function bundleOf(c: DrtCase, schema: string | undefined, strict: boolean) {
  const cedar = runtime.cedar;
  const diagnostics: { message: string }[] = [];
  const policies = catalogPolicies(cedar, [{ path: "p.cedar", text: c.texts.map((t, i) => `@id("p${i}") ${t}`).join("\n") }], diagnostics as never);
  if (diagnostics.length > 0) return undefined; // text cedar-wasm does not parse (e.g. a literal out of range)
  const staticEntities = c.staticEntities.map(toCedarEntity);
  if (cedar.checkParseEntities({ entities: staticEntities, schema: schema ?? null }).type !== "success") return undefined; // a bundle Verdict would refuse
  const json = schema === undefined ? undefined : cedar.schemaToJson(schema);
  const parts = {
    policies,
    schema,
    staticEntities,
    defaultActionType: "Action",
    hints: schemaHints(cedar, schema),
    actionHierarchy: json?.type === "success" ? ActionHierarchy.fromSchema(json.json) : undefined,
    sources: { policyFiles: [] },
  };
  const wasm = new CompiledPolicies(runtime, parts, { strict, evaluator: "wasm" });
  const compiled = compileBundle(cedar, parts, strict);
  return { wasm, compiled, policies };
}

export interface DrtStats {
  cases: number;
  requests: number;
  compared: number;
  refusals: number;
  errors: number;
  allows: number;
  wasmFallbacks: number;
  bundleFallbacks: number;
  mismatches: { texts: readonly string[]; request: AuthzRequest; compiled: Outcome; wasm: Outcome; statics: readonly Entity[] }[];
}

export const emptyStats = (): DrtStats => ({ cases: 0, requests: 0, compared: 0, refusals: 0, errors: 0, allows: 0, wasmFallbacks: 0, bundleFallbacks: 0, mismatches: [] });

/** Runs one case through both evaluators and records what it saw. */
export function runCase(c: DrtCase, schema: string | undefined, strict: boolean, stats: DrtStats): void {
  const b = bundleOf(c, schema, strict);
  if (b === undefined) return;
  stats.cases++;
  if (b.compiled.evaluator === undefined) {
    stats.bundleFallbacks++;
    return;
  }
  for (const req of c.requests) {
    stats.requests++;
    let compiled: Outcome;
    try {
      compiled = outcomeOf(() => b.compiled.evaluator!.evaluate(req));
    } catch (err) {
      if (!(err instanceof NeedsWasm)) throw err;
      stats.wasmFallbacks++;
      continue;
    }
    const wasm = outcomeOf(() => b.wasm.evaluateWasm(req));
    stats.compared++;
    if ("refused" in wasm) stats.refusals++;
    else {
      if (wasm.evaluation.errors.length > 0) stats.errors++;
      if (wasm.evaluation.decision === "allow") stats.allows++;
    }
    if (!sameOutcome(compiled, wasm)) stats.mismatches.push({ texts: c.texts, request: req, compiled, wasm, statics: c.staticEntities });
  }
}

/**
 * Many random expressions in one bundle, one policy each (`when { E }`), decided on one rich
 * request: the determining and erroring sets then say, per expression, true, false or error.
 */
export const exprCaseArb: fc.Arbitrary<DrtCase> = fc
  .record({ exprs: fc.array(exprArb, { minLength: 5, maxLength: 25 }), base: caseArb })
  .map(({ exprs, base }) => ({ ...base, texts: exprs.map((e, i) => `${i % 7 === 6 ? "forbid" : "permit"}(principal, action, resource) when { ${e} };`) }));

const KIND_OK: Record<string, (v: Value) => boolean> = {
  n: (v) => v.kind === "long" && Number.isSafeInteger(v.value),
  s: (v) => v.kind === "string",
  b: (v) => v.kind === "bool",
  ip: (v) => (v.kind === "extension" && v.fn === "ip") || v.kind === "string",
  set: (v) => v.kind === "set" && v.values.every((x) => x.kind === "long" && Number.isSafeInteger(x.value)),
  r: (v) => v.kind === "record" && Object.keys(v.fields).length === 1 && v.fields["a"]?.kind === "long" && Number.isSafeInteger(v.fields["a"].value),
  e: (v) => v.kind === "entity" && v.uid.type === "User",
  d: (v) => v.kind === "extension" && v.fn === "decimal",
  t: (v) => v.kind === "extension" && v.fn === "datetime",
  u: (v) => v.kind === "extension" && v.fn === "duration",
};
const CONTEXT_KEYS: Record<string, string[]> = { read: ["n", "s", "ip", "set", "e", "r"], write: [], paint: ["d", "t"], all: [] };

/** Cases for DRT_SCHEMA: most entities and contexts made to conform, some left as generated. */
export const schemaCaseArb: fc.Arbitrary<DrtCase> = fc.tuple(caseArb, fc.array(fc.nat({ max: 99 }), { minLength: 64, maxLength: 64 })).map(([c, rolls]) => {
  let r = 0;
  const sloppy = () => rolls[r++ % rolls.length]! < 8;
  const keep = (fields: Readonly<Record<string, Value>>, keys: readonly string[]) => Object.fromEntries(Object.entries(fields).filter(([k, v]) => keys.includes(k) && KIND_OK[k]!(v)));
  const conform = (e: Entity): Entity => {
    if (sloppy()) return e;
    const attrs = keep(e.attrs, DECLARED[e.uid.type] ?? []);
    if (e.uid.type === "Doc") {
      delete attrs["set"];
      attrs["n"] ??= { kind: "long", value: 0 };
    }
    const tags = e.uid.type === "User" ? Object.fromEntries(Object.entries(e.tags).filter(([, v]) => v.kind === "string")) : {};
    return { ...e, attrs, tags, parents: e.uid.type === "Tenant" ? [] : e.parents.filter((p) => p.type === "Group" || p.type === "Tenant") };
  };
  const staticEntities = c.staticEntities.map(conform);
  const done = new Map<Entity, Entity>();
  const conformed = (e: Entity) => done.get(e) ?? done.set(e, conform(e)).get(e)!;
  return {
    texts: c.texts,
    staticEntities,
    requests: c.requests.map((q) => {
      if (sloppy()) return { ...q, principal: conformed(q.principal), resource: conformed(q.resource), entities: q.entities.map(conformed) };
      const principal = conformed(q.principal);
      const resource = q.resource.uid.type === "Color" ? { ...q.resource, uid: { type: "Color", id: rolls[r++ % 64]! < 50 ? "red" : "blue" } } : conformed(q.resource);
      const id = resource.uid.type === "Color" ? "paint" : principal.uid.type === "Group" || resource.uid.type === "User" || rolls[r++ % 64]! < 60 ? "read" : "write";
      const p = id === "paint" || id === "write" ? { ...principal, uid: { type: "User", id: principal.uid.id } } : principal;
      return { ...q, principal: p, resource, entities: q.entities.map(conformed), action: { type: "Action", id }, context: keep(q.context, CONTEXT_KEYS[id]!) };
    }),
  };
});
