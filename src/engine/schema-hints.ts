import type { Schema } from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarModule } from "./cedar-runtime.js";

/** How a plain string must be read for one attribute, according to the schema. */
export type StringHint = { readonly extension: "ip" | "decimal" | "datetime" | "duration" } | { readonly entity: string };

/** Per entity type (and per action's context), the attributes whose strings need a typed reading. */
export interface SchemaHints {
  readonly attributes: ReadonlyMap<string, ReadonlyMap<string, StringHint>>;
  /** Keyed by action id within the schema (`NS::Action::"id"` written as `NS::Action/id`). */
  readonly context: ReadonlyMap<string, ReadonlyMap<string, StringHint>>;
}

const EXTENSIONS: Record<string, "ip" | "decimal" | "datetime" | "duration"> = { ipaddr: "ip", decimal: "decimal", datetime: "datetime", duration: "duration" };
const PRIMITIVES = new Set(["String", "Long", "Bool", "Boolean"]);

interface TypeJson {
  type?: string;
  name?: string;
  attributes?: Record<string, TypeJson>;
}

/**
 * Reads, from the schema, which top-level attributes are extension values or entity
 * references, so that front doors carrying untyped JSON (AuthZEN) can hand Cedar the right
 * value form. Only what the schema states is used; nothing is guessed.
 */
export function schemaHints(cedar: CedarModule, schema: Schema | undefined): SchemaHints {
  const attributes = new Map<string, Map<string, StringHint>>();
  const context = new Map<string, Map<string, StringHint>>();
  if (schema === undefined) return { attributes, context };
  const json = typeof schema === "string" ? cedar.schemaToJson(schema) : { type: "success" as const, json: schema };
  if (json.type !== "success") return { attributes, context };
  for (const [ns, def] of Object.entries(json.json)) {
    const qualify = (name: string) => (name.includes("::") || ns === "" ? name : `${ns}::${name}`);
    const hintsOf = (record: TypeJson | undefined) => {
      const out = new Map<string, StringHint>();
      for (const [attr, t] of Object.entries(record?.attributes ?? {})) {
        const name = t.name ?? "";
        if (t.type === "Extension" || EXTENSIONS[name]) {
          const fn = EXTENSIONS[name];
          if (fn) out.set(attr, { extension: fn });
        } else if ((t.type === "Entity" || t.type === "EntityOrCommon") && name !== "" && !PRIMITIVES.has(name)) {
          out.set(attr, { entity: qualify(name) });
        }
      }
      return out;
    };
    for (const [type, et] of Object.entries(def.entityTypes ?? {})) {
      attributes.set(qualify(type), hintsOf((et as { shape?: TypeJson }).shape));
    }
    for (const [action, at] of Object.entries(def.actions ?? {})) {
      const ctx = (at as { appliesTo?: { context?: TypeJson } }).appliesTo?.context;
      context.set(`${ns === "" ? "" : `${ns}::`}Action/${action}`, hintsOf(ctx));
    }
  }
  return { attributes, context };
}
