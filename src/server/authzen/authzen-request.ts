import type { AuthzenMapping } from "../../bundle/authzen-mapping.js";
import type { SchemaHints, StringHint } from "../../engine/schema-hints.js";
import { invalidArgument } from "../../errors.js";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { Entity, Value } from "../../model/entity.js";

/** The four members of an AuthZEN evaluation request, as received (validated later). */
export interface AuthzenParts {
  subject?: unknown;
  action?: unknown;
  resource?: unknown;
  context?: unknown;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * Maps an AuthZEN evaluation to a Cedar request: types and action names through the bundle's
 * `authzen.json`, properties to attributes. Strings become extension values or entity
 * references where the schema types the attribute so; other JSON maps naturally (integers to
 * Long, arrays to sets, objects to records). Unknown members are ignored, as the spec requires.
 */
export function toAuthzRequest(parts: AuthzenParts, mapping: AuthzenMapping | undefined, hints: SchemaHints, defaultActionType: string): AuthzRequest {
  const subject = entityOf(parts.subject, "subject", mapping, hints);
  const resource = entityOf(parts.resource, "resource", mapping, hints);
  if (!isObj(parts.action) || typeof parts.action["name"] !== "string" || parts.action["name"] === "") throw invalidArgument("action.name: required string");
  const name = parts.action["name"];
  const id = mapping?.actions.get(name) ?? name;
  if (parts.context !== undefined && !isObj(parts.context)) throw invalidArgument("context: must be an object");
  const contextHints = hints.context.get(`${defaultActionType}/${id}`);
  return {
    principal: subject,
    action: { type: "", id },
    resource,
    context: fields(parts.context ?? {}, "context", contextHints),
    entities: [],
  };
}

function entityOf(x: unknown, field: string, mapping: AuthzenMapping | undefined, hints: SchemaHints): Entity {
  if (!isObj(x)) throw invalidArgument(`${field}: required object with type and id`);
  const { type, id, properties } = x;
  if (typeof type !== "string" || type === "") throw invalidArgument(`${field}.type: required string`);
  if (typeof id !== "string" || id === "") throw invalidArgument(`${field}.id: required string`);
  if (properties !== undefined && !isObj(properties)) throw invalidArgument(`${field}.properties: must be an object`);
  const cedarType = mapping?.types.get(type) ?? type;
  return { uid: { type: cedarType, id }, attrs: fields(properties ?? {}, `${field}.properties`, hints.attributes.get(cedarType)), parents: [], tags: {} };
}

function fields(o: Obj, field: string, hints: ReadonlyMap<string, StringHint> | undefined): Record<string, Value> {
  const out = Object.create(null) as Record<string, Value>;
  for (const key of Object.keys(o)) out[key] = value(o[key], `${field}.${key}`, hints?.get(key), 0);
  return out;
}

function value(x: unknown, field: string, hint: StringHint | undefined, depth: number): Value {
  if (depth > 64) throw invalidArgument(`${field}: nested too deeply`);
  if (typeof x === "boolean") return { kind: "bool", value: x };
  if (typeof x === "number") {
    if (!Number.isSafeInteger(x)) throw invalidArgument(`${field}: ${x} is not an integer within ±(2^53−1); write decimals as strings`);
    return { kind: "long", value: x };
  }
  if (typeof x === "string") {
    if (hint !== undefined && "extension" in hint) return { kind: "extension", fn: hint.extension, arg: x };
    if (hint !== undefined && "entity" in hint) return { kind: "entity", uid: { type: hint.entity, id: x } };
    return { kind: "string", value: x };
  }
  if (Array.isArray(x)) return { kind: "set", values: x.map((v, i) => value(v, `${field}[${i}]`, undefined, depth + 1)) };
  if (isObj(x)) {
    const out = Object.create(null) as Record<string, Value>;
    for (const key of Object.keys(x)) out[key] = value(x[key], `${field}.${key}`, undefined, depth + 1);
    return { kind: "record", fields: out };
  }
  throw invalidArgument(`${field}: null is not a value`);
}
