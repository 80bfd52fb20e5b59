import type { PolicyAst, SchemaAst } from "../engine/authoring/bundle-analysis.js";

/** One attribute type of the schema, as lint rules need it. */
export interface AttrType {
  readonly type: string;
  readonly name?: string;
  readonly required?: boolean;
  readonly element?: AttrType;
  readonly attributes?: Readonly<Record<string, AttrType>>;
}

/** An action the schema declares, by its Cedar uid (`App::Action::"view"`). */
export interface ActionFacts {
  readonly uid: string;
  readonly name: string;
  /** Groups it is in, transitively, as uids. */
  readonly groups: ReadonlySet<string>;
  readonly principalTypes: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly context?: AttrType;
  readonly annotations: Readonly<Record<string, string>>;
}

/** An entity type the schema declares. */
export interface EntityFacts {
  readonly name: string;
  readonly memberOf: readonly string[];
  readonly shape?: AttrType;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The schema, flattened to qualified names, for lint rules. */
export interface SchemaFacts {
  readonly entities: ReadonlyMap<string, EntityFacts>;
  readonly actions: ReadonlyMap<string, ActionFacts>;
  /** Resolves a common type reference (`{type: "App::Ctx"}`) to its definition. */
  resolve(t: AttrType | undefined): AttrType | undefined;
}

const qualify = (ns: string, name: string) => (ns === "" || name.includes("::") ? name : `${ns}::${name}`);
const actionUid = (type: string, id: string) => `${type}::${JSON.stringify(id)}`;

/** Flattens a resolved schema JSON into qualified entity types and actions. */
export function schemaFacts(schema: SchemaAst): SchemaFacts {
  const entities = new Map<string, EntityFacts>();
  const common = new Map<string, AttrType>();
  const declared = new Map<string, { name: string; memberOf: string[]; ns: string; raw: Record<string, unknown> }>();
  for (const [ns, def] of Object.entries(schema as unknown as Record<string, Record<string, Record<string, Record<string, unknown>>>>)) {
    for (const [name, t] of Object.entries(def["commonTypes"] ?? {})) common.set(qualify(ns, name), t as unknown as AttrType);
    for (const [name, e] of Object.entries(def["entityTypes"] ?? {})) {
      entities.set(qualify(ns, name), {
        name: qualify(ns, name),
        memberOf: ((e["memberOfTypes"] as string[] | undefined) ?? []).map((m) => qualify(ns, m)),
        ...(e["shape"] === undefined ? {} : { shape: e["shape"] as AttrType }),
        annotations: (e["annotations"] as Record<string, string> | undefined) ?? {},
      });
    }
    const actionType = qualify(ns, "Action");
    for (const [name, a] of Object.entries(def["actions"] ?? {})) {
      const memberOf = ((a["memberOf"] as { id: string; type?: string }[] | undefined) ?? []).map((m) => actionUid(m.type ? qualify(ns, m.type) : actionType, m.id));
      declared.set(actionUid(actionType, name), { name, memberOf, ns, raw: a });
    }
  }
  const groupsOf = (uid: string, seen = new Set<string>()): Set<string> => {
    for (const g of declared.get(uid)?.memberOf ?? []) if (!seen.has(g)) groupsOf(g, seen.add(g));
    return seen;
  };
  const actions = new Map<string, ActionFacts>();
  for (const [uid, a] of declared) {
    const applies = a.raw["appliesTo"] as { principalTypes?: string[]; resourceTypes?: string[]; context?: AttrType } | undefined;
    actions.set(uid, {
      uid,
      name: a.name,
      groups: groupsOf(uid),
      principalTypes: (applies?.principalTypes ?? []).map((t) => qualify(a.ns, t)),
      resourceTypes: (applies?.resourceTypes ?? []).map((t) => qualify(a.ns, t)),
      ...(applies?.context === undefined ? {} : { context: applies.context }),
      annotations: (a.raw["annotations"] as Record<string, string> | undefined) ?? {},
    });
  }
  const resolve = (t: AttrType | undefined): AttrType | undefined => {
    for (let i = 0; i < 16 && t !== undefined && !["Record", "Set", "Entity", "String", "Long", "Boolean", "Bool", "Extension"].includes(t.type); i++) {
      t = common.get(t.type) ?? (t.type === "EntityOrCommon" && t.name ? (common.get(t.name) ?? { type: "Entity", name: t.name }) : undefined);
    }
    return t;
  };
  return { entities, actions, resolve };
}

/** The actions a policy's action constraint can match (every action for `action` alone). */
export function actionsOf(policy: PolicyAst, facts: SchemaFacts): ActionFacts[] {
  const c = policy.action;
  const all = [...facts.actions.values()];
  if (c.op === "All") return all;
  const uid = (e: EntityRef) => ("__entity" in e ? actionUid(e.__entity.type, e.__entity.id) : actionUid(e.type, e.id));
  if (c.op === "==") return "entity" in c ? all.filter((a) => a.uid === uid(c.entity)) : [];
  const targets = new Set("entity" in c ? [uid(c.entity)] : c.entities.map(uid));
  return all.filter((a) => targets.has(a.uid) || [...a.groups].some((g) => targets.has(g)));
}

type EntityRef = { type: string; id: string } | { __entity: { type: string; id: string } };

/** The type of an entity reference in Cedar's JSON (either spelling). */
export const typeOfRef = (e: EntityRef) => ("__entity" in e ? e.__entity.type : e.type);

/** The entity types a principal or resource constraint admits, given the actions it is checked with. */
export function typesOf(constraint: PolicyAst["principal"], fromActions: readonly string[]): string[] {
  if (constraint.op === "is") return [constraint.entity_type];
  if (constraint.op === "==" && "entity" in constraint) return [typeOfRef(constraint.entity)];
  return [...new Set(fromActions)];
}
