import { Unsupported } from "./compile-expr.js";
import { Uid } from "./values.js";

/** A schema type, names resolved to fully qualified entity types. */
export type SType =
  | { readonly kind: "Long" | "String" | "Bool" }
  | { readonly kind: "Set"; readonly element: SType }
  | { readonly kind: "Record"; readonly attrs: ReadonlyMap<string, { readonly type: SType; readonly required: boolean }>; readonly open: boolean }
  | { readonly kind: "Entity"; readonly name: string }
  | { readonly kind: "Ext"; readonly name: string };

export interface EntityTypeInfo {
  readonly memberOf: ReadonlySet<string>;
  readonly shape: SType & { kind: "Record" };
  readonly tags: SType | undefined;
  /** Allowed ids of an enumerated entity type. */
  readonly enumIds: ReadonlySet<string> | undefined;
}

export interface ActionInfo {
  readonly uid: Uid;
  readonly principalTypes: ReadonlySet<string>;
  readonly resourceTypes: ReadonlySet<string>;
  readonly context: SType & { kind: "Record" };
  readonly memberOf: readonly Uid[];
}

/** The schema as validators read it (from cedar-wasm's JSON form with resolved type names). */
export interface SchemaModel {
  readonly entityTypes: ReadonlyMap<string, EntityTypeInfo>;
  readonly actions: ReadonlyMap<string, ActionInfo>;
}

type Json = Record<string, unknown>;
const EXT = new Set(["ipaddr", "decimal", "datetime", "duration"]);
const EMPTY_RECORD: SType & { kind: "Record" } = { kind: "Record", attrs: new Map(), open: false };
const qualify = (ns: string, name: string) => (ns === "" || name.includes("::") ? name : `${ns}::${name}`);

/** Builds the model from `schemaToJsonWithResolvedTypes` output; throws `Unsupported` for shapes it does not know. */
export function schemaModel(json: Record<string, Json>): SchemaModel {
  const entityNames = new Set<string>();
  const common = new Map<string, Json>();
  for (const [ns, def] of Object.entries(json)) {
    for (const name of Object.keys((def["entityTypes"] as Json | undefined) ?? {})) entityNames.add(qualify(ns, name));
    for (const [name, t] of Object.entries((def["commonTypes"] as Json | undefined) ?? {})) common.set(qualify(ns, name), t as Json);
  }
  const resolving = new Set<string>();
  const named = (ns: string, name: string): SType => {
    const bare = name.startsWith("__cedar::") ? name.slice(9) : name;
    if (!name.startsWith("__cedar::")) {
      for (const full of [qualify(ns, name), name]) {
        if (entityNames.has(full)) return { kind: "Entity", name: full };
        const c = common.get(full);
        if (c !== undefined) {
          if (resolving.has(full)) throw new Unsupported(`recursive common type ${full}`);
          resolving.add(full);
          try {
            return typeOf(ns, c);
          } finally {
            resolving.delete(full);
          }
        }
      }
    }
    if (bare === "Long" || bare === "String") return { kind: bare };
    if (bare === "Bool" || bare === "Boolean") return { kind: "Bool" };
    if (EXT.has(bare)) return { kind: "Ext", name: bare };
    throw new Unsupported(`schema type ${name}`);
  };
  const typeOf = (ns: string, t: Json): SType => {
    switch (t["type"]) {
      case "Set":
        return { kind: "Set", element: typeOf(ns, t["element"] as Json) };
      case "Record":
        return recordOf(ns, t);
      case "Entity":
        return { kind: "Entity", name: qualify(ns, t["name"] as string) };
      case "Extension":
        return named(ns, `__cedar::${t["name"] as string}`);
      case "EntityOrCommon":
        return named(ns, t["name"] as string);
      default:
        return named(ns, t["type"] as string);
    }
  };
  const recordOf = (ns: string, t: Json): SType & { kind: "Record" } => {
    const attrs = new Map<string, { type: SType; required: boolean }>();
    for (const [k, a] of Object.entries((t["attributes"] as Json | undefined) ?? {})) {
      const attr = a as Json;
      attrs.set(k, { type: typeOf(ns, attr), required: attr["required"] !== false });
    }
    return { kind: "Record", attrs, open: t["additionalAttributes"] === true };
  };
  const shapeOf = (ns: string, t: Json | undefined): SType & { kind: "Record" } => {
    if (t === undefined) return EMPTY_RECORD;
    const s = typeOf(ns, t);
    if (s.kind !== "Record") throw new Unsupported("a shape that is not a record");
    return s;
  };

  const entityTypes = new Map<string, EntityTypeInfo>();
  const actions = new Map<string, ActionInfo>();
  for (const [ns, def] of Object.entries(json)) {
    for (const [name, d] of Object.entries((def["entityTypes"] as Record<string, Json> | undefined) ?? {})) {
      const en = d["enum"] as string[] | undefined;
      entityTypes.set(qualify(ns, name), {
        memberOf: new Set(((d["memberOfTypes"] as string[] | undefined) ?? []).map((m) => (entityNames.has(qualify(ns, m)) ? qualify(ns, m) : m))),
        shape: shapeOf(ns, d["shape"] as Json | undefined),
        tags: d["tags"] === undefined ? undefined : typeOf(ns, d["tags"] as Json),
        enumIds: en === undefined ? undefined : new Set(en),
      });
    }
    const actionType = qualify(ns, "Action");
    for (const [id, d] of Object.entries((def["actions"] as Record<string, Json> | undefined) ?? {})) {
      if (d["attributes"] !== undefined) throw new Unsupported("action attributes");
      const applies = d["appliesTo"] as Json | undefined;
      const resolve = (names: unknown) => new Set(((names as string[] | undefined) ?? []).map((n) => (entityNames.has(qualify(ns, n)) ? qualify(ns, n) : n)));
      const uid = new Uid(actionType, id);
      actions.set(uid.key, {
        uid,
        principalTypes: resolve(applies?.["principalTypes"]),
        resourceTypes: resolve(applies?.["resourceTypes"]),
        context: shapeOf(ns, applies?.["context"] as Json | undefined),
        memberOf: ((d["memberOf"] as Json[] | undefined) ?? []).map((m) => new Uid(m["type"] === undefined ? actionType : qualify(ns, m["type"] as string), m["id"] as string)),
      });
    }
  }
  return { entityTypes, actions };
}
