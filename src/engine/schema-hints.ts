import type { Schema } from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarModule } from "./cedar-runtime.js";

/** An extension type a plain JSON string can stand for. */
export type ExtensionName = "ip" | "decimal" | "datetime" | "duration";

/** An attribute's type as the schema declares it, for front doors that carry untyped JSON. */
export type AttrType =
  | { readonly kind: "primitive"; readonly name: "String" | "Long" | "Bool" }
  | { readonly kind: "extension"; readonly fn: ExtensionName }
  | { readonly kind: "entity"; readonly type: string }
  | { readonly kind: "set"; readonly element: AttrType }
  | RecordType;

/** A record shape: its declared attributes, and whether others are allowed. */
export interface RecordType {
  readonly kind: "record";
  readonly attributes: ReadonlyMap<string, AttrType>;
  /** Declared attributes that may be absent (`name?: T`). */
  readonly optional: ReadonlySet<string>;
  /** `additionalAttributes: true`: undeclared attributes are allowed too. */
  readonly open: boolean;
}

/** The schema's declared shapes, by entity type and by action's context. */
export interface SchemaHints {
  /** False without a schema: then nothing is declared and nothing may be dropped. */
  readonly present: boolean;
  /** Entity type (qualified) → its attribute shape. */
  readonly attributes: ReadonlyMap<string, RecordType>;
  /** Action (`NS::Action/id`) → its context shape. */
  readonly context: ReadonlyMap<string, RecordType>;
  /** Action (`NS::Action/id`) → the resource types (qualified) it applies to; empty when none. */
  readonly resourceTypes: ReadonlyMap<string, ReadonlySet<string>>;
}

/** No schema: every attribute is carried as its JSON reads. */
export const NO_SCHEMA_HINTS: SchemaHints = { present: false, attributes: new Map(), context: new Map(), resourceTypes: new Map() };

const EXTENSIONS: Record<string, ExtensionName> = { ipaddr: "ip", decimal: "decimal", datetime: "datetime", duration: "duration" };
const PRIMITIVES: Record<string, "String" | "Long" | "Bool"> = { String: "String", Long: "Long", Bool: "Bool", Boolean: "Bool" };
const EMPTY: RecordType = { kind: "record", attributes: new Map(), optional: new Set(), open: false };
/** Common types may refer to each other; a schema Cedar accepted has no cycles, this bounds a bad one. */
const MAX_DEPTH = 64;

interface TypeJson {
  type?: string;
  name?: string;
  element?: TypeJson;
  attributes?: Record<string, TypeJson>;
  additionalAttributes?: boolean;
  required?: boolean;
}
type NamespaceJson = {
  commonTypes?: Record<string, TypeJson>;
  entityTypes?: Record<string, { shape?: TypeJson }>;
  actions?: Record<string, { appliesTo?: { context?: TypeJson; resourceTypes?: string[] } }>;
};

/**
 * Reads, from the schema, the declared type of every entity attribute and context member, so
 * that a front door carrying untyped JSON (AuthZEN) can hand Cedar the right value form (a
 * string as an `ip`, a nested record's `datetime`) and leave out what the schema does not
 * declare. Only what the schema states is used; nothing is guessed.
 */
export function schemaHints(cedar: CedarModule, schema: Schema | undefined): SchemaHints {
  if (schema === undefined) return NO_SCHEMA_HINTS;
  const converted = typeof schema === "string" ? cedar.schemaToJson(schema) : { type: "success" as const, json: schema };
  if (converted.type !== "success") return NO_SCHEMA_HINTS;
  const namespaces = converted.json as Record<string, NamespaceJson>;
  const common = new Map<string, TypeJson>();
  for (const [ns, def] of Object.entries(namespaces)) {
    for (const [name, t] of Object.entries(def.commonTypes ?? {})) common.set(ns === "" ? name : `${ns}::${name}`, t);
  }
  const attributes = new Map<string, RecordType>();
  const context = new Map<string, RecordType>();
  const resourceTypes = new Map<string, ReadonlySet<string>>();
  for (const [ns, def] of Object.entries(namespaces)) {
    const resolve = typeResolver(ns, common);
    for (const [type, et] of Object.entries(def.entityTypes ?? {})) {
      const shape = et.shape === undefined ? EMPTY : resolve(et.shape, 0);
      attributes.set(ns === "" ? type : `${ns}::${type}`, shape.kind === "record" ? shape : EMPTY);
    }
    for (const [action, at] of Object.entries(def.actions ?? {})) {
      const ctx = at.appliesTo?.context;
      const shape = ctx === undefined ? EMPTY : resolve(ctx, 0);
      const key = `${ns === "" ? "" : `${ns}::`}Action/${action}`;
      context.set(key, shape.kind === "record" ? shape : EMPTY);
      resourceTypes.set(key, new Set((at.appliesTo?.resourceTypes ?? []).map((t) => qualifyIn(ns, t))));
    }
  }
  return { present: true, attributes, context, resourceTypes };
}

/** A type name as written in namespace `ns`, qualified. */
const qualifyIn = (ns: string, name: string): string => (name.includes("::") || ns === "" ? name : `${ns}::${name}`);

function typeResolver(ns: string, common: ReadonlyMap<string, TypeJson>): (t: TypeJson, depth: number) => AttrType {
  const qualify = (name: string) => qualifyIn(ns, name);
  const byName = (raw: string, depth: number): AttrType => {
    const builtin = raw.startsWith("__cedar::") ? raw.slice("__cedar::".length) : undefined;
    if (builtin === undefined) {
      const shared = common.get(qualify(raw)) ?? common.get(raw);
      if (shared !== undefined) return resolve(shared, depth + 1);
    }
    const name = builtin ?? raw;
    if (PRIMITIVES[name]) return { kind: "primitive", name: PRIMITIVES[name] };
    if (EXTENSIONS[name]) return { kind: "extension", fn: EXTENSIONS[name] };
    return { kind: "entity", type: qualify(name) };
  };
  const resolve = (t: TypeJson, depth: number): AttrType => {
    if (depth > MAX_DEPTH) return { kind: "primitive", name: "String" };
    switch (t.type) {
      case "Record": {
        const attributes = new Map<string, AttrType>();
        const optional = new Set<string>();
        for (const [k, v] of Object.entries(t.attributes ?? {})) {
          attributes.set(k, resolve(v, depth + 1));
          if (v.required === false) optional.add(k);
        }
        return { kind: "record", attributes, optional, open: t.additionalAttributes === true };
      }
      case "Set":
        return { kind: "set", element: t.element === undefined ? { kind: "primitive", name: "String" } : resolve(t.element, depth + 1) };
      case "Entity":
        return { kind: "entity", type: qualify(t.name ?? "") };
      case "Extension":
      case "EntityOrCommon":
        return byName(t.name ?? "", depth);
      default:
        return byName(t.type ?? "", depth);
    }
  };
  return resolve;
}
