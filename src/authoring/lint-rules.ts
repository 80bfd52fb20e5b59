import type { AnalysedPolicy, BundleAnalysis, ExprAst, PolicyAst } from "../engine/authoring/bundle-analysis.js";
import { actionsOf, type AttrType, type SchemaFacts, schemaFacts, typeOfRef, typesOf } from "./schema-facts.js";

/** One problem a rule found. */
export interface LintFinding {
  readonly rule: string;
  readonly file: string;
  readonly line?: number;
  /** The policy it is about; schema findings have none. */
  readonly policy?: AnalysedPolicy;
  /** For schema findings: the annotations of the declaration, to honour `@lint_allow`. */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly message: string;
  /** What to change. */
  readonly fix: string;
}

/** A lint rule: a stable id (used to silence it), what it catches, and its check. */
export interface LintRule {
  readonly id: string;
  readonly summary: string;
  check(a: BundleAnalysis, facts: SchemaFacts | undefined): LintFinding[];
}

const at = (p: AnalysedPolicy) => ({ file: p.file, line: p.line, policy: p });
const where = (p: AnalysedPolicy) => `${p.file}:${p.line}`;
const scopeOf = (p: PolicyAst) => JSON.stringify([p.principal, p.action, p.resource]);

/** Every rule `verdict lint` runs, in report order. */
export const LINT_RULES: readonly LintRule[] = [
  {
    id: "impossible-policy",
    summary: "Cedar's validator proves the policy can never apply under the schema (impossible scope and appliesTo combination, or a condition that is always false)",
    check: (a) =>
      dedupe(a.warnings.filter((w) => w.kind === "impossible-policy")).map((w) => ({
        ...at(policyById(a, w.policyId)),
        rule: "impossible-policy",
        message: "can never apply: no request allowed by the schema satisfies its scope and conditions",
        fix: "check the scope's entity types and actions against the schema's appliesTo, and conditions that are always false; or delete it",
      })),
  },
  {
    id: "validator-warning",
    summary: "any other warning of Cedar's validator (e.g. mixed-script identifiers)",
    check: (a) =>
      a.warnings
        .filter((w) => w.kind === "validator-warning")
        .map((w) => ({ ...at(policyById(a, w.policyId)), ...(w.line === undefined ? {} : { line: w.line }), rule: "validator-warning", message: w.message, fix: "follow Cedar's message" })),
  },
  {
    id: "unconstrained-permit",
    summary: "a permit with no scope constraint and no condition allows everything to everyone",
    check: (a) =>
      a.policies
        .filter((p) => p.effect === "permit" && p.json.principal.op === "All" && p.json.action.op === "All" && p.json.resource.op === "All" && p.json.conditions.length === 0)
        .map((p) => ({
          ...at(p),
          rule: "unconstrained-permit",
          message: "permits every principal every action on every resource",
          fix: "constrain the scope (principal in …, action == …, resource is …) or add a `when` condition",
        })),
  },
  {
    id: "shadowed-permit",
    summary: "a permit that can never allow: an unconditional forbid with the same or a wider scope covers it",
    check: (a, facts) => {
      const forbids = a.policies.filter((f) => f.effect === "forbid" && f.json.conditions.length === 0);
      return a.policies.flatMap((p) => {
        if (p.effect !== "permit") return [];
        const f = forbids.find((f) => covers(f.json, p.json, facts));
        return f === undefined
          ? []
          : [{ ...at(p), rule: "shadowed-permit", message: `can never allow: forbid "${f.id}" (${where(f)}) applies, unconditionally, to every request this permit applies to`, fix: "narrow the forbid's scope or give it a condition, or delete this permit" }];
      });
    },
  },
  {
    id: "unless-never-holds",
    summary: "an `unless` condition that can never hold, so it never exempts anything",
    check: (a) =>
      a.policies.flatMap((p) =>
        p.json.conditions
          .filter((c) => c.kind === "unless")
          .filter((c) => isFalse(c.body) || (a.isImpossible(probe(p.json, c.body)) && !a.isImpossible(probe(p.json))))
          .map(() => ({ ...at(p), rule: "unless-never-holds", message: `the \`unless\` condition can never hold, so it never stops this ${p.effect}`, fix: "correct the condition (a type test on the wrong type, an always-false comparison) or remove the `unless` clause" })),
      ),
  },
  {
    id: "duplicate-policy",
    summary: "two policies with the same effect, scope and conditions",
    check: (a) => {
      const first = new Map<string, AnalysedPolicy>();
      return a.policies.flatMap((p) => {
        const key = JSON.stringify([p.json.effect, scopeOf(p.json), p.json.conditions]);
        const prior = first.get(key);
        if (prior === undefined) {
          first.set(key, p);
          return [];
        }
        return [{ ...at(p), rule: "duplicate-policy", message: `same effect, scope and conditions as "${prior.id}" (${where(prior)})`, fix: "delete one of the two" }];
      });
    },
  },
  {
    id: "unused-action",
    summary: "an action the schema declares that no policy applies to: every request for it is denied",
    check: (a, facts) => {
      if (facts === undefined) return [];
      const used = new Set(a.policies.flatMap((p) => actionsOf(p.json, facts).map((x) => x.uid)));
      const groups = new Set([...facts.actions.values()].flatMap((x) => [...x.groups]));
      return [...facts.actions.values()]
        .filter((x) => !used.has(x.uid) && !groups.has(x.uid))
        .map((x) => ({
          ...schemaAt(a, "action", x.name),
          annotations: x.annotations,
          rule: "unused-action",
          message: `action ${x.uid} is declared but no policy applies to it: every request for it is denied`,
          fix: "write a policy for it, or remove it from the schema",
        }));
    },
  },
  {
    id: "unused-entity-type",
    summary: "an entity type the schema declares that no policy can reach (not named, not a principal or resource of a used action, not an attribute or parent of one)",
    check: (a, facts) => {
      if (facts === undefined) return [];
      const reached = new Set<string>();
      const reach = (t: AttrType | undefined) => {
        const r = facts.resolve(t);
        if (r === undefined) return;
        if (r.type === "Entity" && r.name !== undefined) visit(r.name);
        if (r.element !== undefined) reach(r.element);
        for (const v of Object.values(r.attributes ?? {})) reach(v);
      };
      const visit = (name: string) => {
        if (reached.has(name)) return;
        reached.add(name);
        const e = facts.entities.get(name);
        for (const m of e?.memberOf ?? []) visit(m);
        reach(e?.shape);
      };
      for (const p of a.policies) {
        for (const x of actionsOf(p.json, facts)) {
          [...x.principalTypes, ...x.resourceTypes].forEach(visit);
          reach(x.context);
        }
        for (const m of JSON.stringify(p.json).matchAll(/"(?:type|entity_type)":"([^"]+)"/g)) if (facts.entities.has(m[1]!)) visit(m[1]!);
      }
      return [...facts.entities.values()]
        .filter((e) => !reached.has(e.name))
        .map((e) => ({
          ...schemaAt(a, "entity", e.name.split("::").pop()!),
          annotations: e.annotations,
          rule: "unused-entity-type",
          message: `entity type ${e.name} is declared but no policy can reach it`,
          fix: "write a policy that uses it, or remove it from the schema",
        }));
    },
  },
  {
    id: "forbid-unguarded-optional",
    summary:
      "a forbid whose condition reads an attribute that may be missing (optional in the schema; any attribute without a schema) without `has`: when it is missing the forbid errors, and with engine.strict=false Cedar skips it",
    check: (a, facts) =>
      a.policies.flatMap((p) => {
        if (p.effect !== "forbid") return [];
        const { reads, guards } = attributeUses(p.json.conditions.map((c) => c.body));
        const actions = facts === undefined ? [] : actionsOf(p.json, facts);
        const optional = (variable: string, attr: string) => {
          // Without a schema nothing says an attribute is present. (With one, Cedar's strict
          // validation already refuses unguarded reads; this catches what it cannot see.)
          if (facts === undefined) return true;
          const shapes =
            variable === "context"
              ? actions.map((x) => x.context)
              : typesOf(variable === "principal" ? p.json.principal : p.json.resource, actions.flatMap((x) => (variable === "principal" ? x.principalTypes : x.resourceTypes))).map((t) => facts.entities.get(t)?.shape);
          return shapes.some((s) => facts.resolve(s)?.attributes?.[attr]?.required === false);
        };
        return [...reads]
          .filter((r) => !guards.has(r))
          .filter((r) => optional(...(r.split(".") as [string, string])))
          .map((r) => ({
            ...at(p),
            rule: "forbid-unguarded-optional",
            message: `reads ${r}, which ${facts === undefined ? "may be missing (the bundle has no schema)" : "the schema marks optional"}, without \`${r.replace(".", " has ")}\`: when it is missing the forbid errors, and with engine.strict=false it is skipped instead of denying`,
            fix: `guard the read: \`${r.replace(".", " has ")} && …\` (or make the attribute required)`,
          }));
      }),
  },
];

function policyById(a: BundleAnalysis, id: string): AnalysedPolicy {
  return a.policies.find((p) => p.id === id)!;
}

function dedupe<T extends { policyId: string }>(xs: readonly T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.policyId) && seen.add(x.policyId));
}

/** Where a declaration is in the schema file: the first line naming it after its keyword. */
function schemaAt(a: BundleAnalysis, keyword: "action" | "entity", name: string): { file: string; line?: number } {
  const file = a.schemaFile;
  if (file === undefined) return { file: "(schema)" };
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = file.path.endsWith(".json") ? new RegExp(`"${escaped}"\\s*:`) : new RegExp(`\\b${keyword}\\b[^;{]*(\\b|")${escaped}(\\b|")`);
  const i = file.text.split("\n").findIndex((l) => re.test(l));
  return i < 0 ? { file: file.path } : { file: file.path, line: i + 1 };
}

/** True when forbid `f`'s scope includes every request permit `p`'s scope does. */
function covers(f: PolicyAst, p: PolicyAst, facts: SchemaFacts | undefined): boolean {
  const entityCovers = (fc: PolicyAst["principal"], pc: PolicyAst["principal"]) =>
    fc.op === "All" ||
    JSON.stringify(fc) === JSON.stringify(pc) ||
    (fc.op === "is" && fc.in === undefined && ((pc.op === "is" && pc.entity_type === fc.entity_type) || (pc.op === "==" && "entity" in pc && typeOfRef(pc.entity) === fc.entity_type)));
  if (!entityCovers(f.principal, p.principal) || !entityCovers(f.resource, p.resource)) return false;
  if (f.action.op === "All" || JSON.stringify(f.action) === JSON.stringify(p.action)) return true;
  if (facts === undefined || p.action.op === "All") return false;
  const theirs = new Set(actionsOf(f, facts).map((x) => x.uid));
  const mine = actionsOf(p, facts);
  return mine.length > 0 && mine.every((x) => theirs.has(x.uid));
}

const isFalse = (e: ExprAst) => "Value" in e && e.Value === false;

/** A permit with the policy's scope and `when` conditions (only `extra`, when given). */
function probe(p: PolicyAst, extra?: ExprAst): PolicyAst {
  return { effect: "permit", principal: p.principal, action: p.action, resource: p.resource, conditions: extra === undefined ? [] : [{ kind: "when", body: extra }] };
}

/** `principal.x`, `resource.x`, `context.x` read, and those tested with `has`, in expressions. */
function attributeUses(bodies: readonly ExprAst[]): { reads: Set<string>; guards: Set<string> } {
  const reads = new Set<string>();
  const guards = new Set<string>();
  const walk = (e: unknown): void => {
    if (typeof e !== "object" || e === null) return;
    if (Array.isArray(e)) return e.forEach(walk);
    const o = e as Record<string, unknown>;
    for (const [op, into] of [
      [".", reads],
      ["has", guards],
    ] as const) {
      const node = o[op] as { left?: { Var?: string }; attr?: string } | undefined;
      const v = node?.left?.Var;
      if (v !== undefined && v !== "action" && typeof node?.attr === "string") into.add(`${v}.${node.attr}`);
    }
    for (const v of Object.values(o)) walk(v);
  };
  bodies.forEach(walk);
  return { reads, guards };
}

/** The schema facts lint rules use, or undefined without a schema. */
export const factsOf = (a: BundleAnalysis): SchemaFacts | undefined => (a.schema === undefined ? undefined : schemaFacts(a.schema));
