import type { EntityJson, Schema } from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarModule } from "../cedar-runtime.js";
import type { PolicyEntry } from "../policy-catalog.js";
import { Unsupported } from "./compile-expr.js";
import { CompiledEvaluator } from "./compiled-evaluator.js";
import { schemaModel, type SchemaModel } from "./schema-types.js";

/** The outcome of compiling a bundle: an evaluator, or why the whole bundle stays on cedar-wasm. */
export type CompiledBundle = { readonly evaluator: CompiledEvaluator; readonly reason?: undefined } | { readonly evaluator?: undefined; readonly reason: string };

/** Reads the schema through cedar-wasm (type names resolved), never by parsing it here. */
function readSchema(cedar: CedarModule, schema: Schema): SchemaModel {
  let text: string;
  if (typeof schema === "string") text = schema;
  else {
    const t = cedar.schemaToText(schema);
    if (t.type !== "success") throw new Unsupported("cedar-wasm could not print the JSON schema as text");
    text = t.text;
  }
  const json = cedar.schemaToJsonWithResolvedTypes(text);
  if (json.type !== "success") throw new Unsupported("cedar-wasm could not resolve the schema's types");
  return schemaModel(json.json as unknown as Parameters<typeof schemaModel>[0]);
}

/** True if the bundle's entity JSON holds a number JSON.parse could not carry exactly. */
function hasInexactNumber(v: unknown): boolean {
  if (typeof v === "number") return !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasInexactNumber);
  if (typeof v === "object" && v !== null) return Object.values(v).some(hasInexactNumber);
  return false;
}

/**
 * Compiles a bundle's policies (their JSON form from cedar-wasm), schema and static entities.
 * Anything not handled leaves the bundle, or the named policies, to cedar-wasm.
 */
export function compileBundle(
  cedar: CedarModule,
  parts: { readonly policies: readonly PolicyEntry[]; readonly schema: Schema | undefined; readonly staticEntities: readonly EntityJson[]; readonly defaultActionType: string },
  strict: boolean,
): CompiledBundle {
  try {
    if (hasInexactNumber(parts.staticEntities)) throw new Unsupported("the static entities hold a number beyond 2^53 or a fraction");
    const schema = parts.schema === undefined ? undefined : readSchema(cedar, parts.schema);
    return { evaluator: new CompiledEvaluator({ policies: parts.policies, schema, staticEntities: parts.staticEntities, defaultActionType: parts.defaultActionType, strict }) };
  } catch (err) {
    // A compiler fault must not fail the activation: the bundle simply stays on cedar-wasm.
    return { reason: err instanceof Unsupported ? err.message : `compiler fault: ${(err as Error).message}` };
  }
}
