import type { AuthzenMapping } from "../../bundle/authzen-mapping.js";
import type { AttrType, RecordType, SchemaHints } from "../../engine/schema-hints.js";
import { invalidArgument, limitExceeded } from "../../errors.js";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { Entity, Value } from "../../model/entity.js";

/** The four members of an AuthZEN evaluation request, as received (validated here). */
export interface AuthzenParts {
  subject?: unknown;
  action?: unknown;
  resource?: unknown;
  context?: unknown;
}

/** What the mapping reads from the active bundle. */
export interface MappingInputs {
  readonly mapping: AuthzenMapping | undefined;
  readonly hints: SchemaHints;
  /** The bundle's Action type (`Todo::Action`), which names the context shapes. */
  readonly defaultActionType: string;
  /** Deepest nesting accepted in a property value; deeper is refused before any recursion. */
  readonly maxDepth: number;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
/** Cedar's JSON form reads these record keys as escapes; a request must never supply one. */
const RESERVED_KEYS = new Set(["__entity", "__extn", "__expr"]);

/**
 * Maps an AuthZEN evaluation to a Cedar request: types and action names through the bundle's
 * mapping file, properties to attributes and context members typed through the schema (a
 * string becomes an `ip`, `decimal`, `datetime`, `duration` or entity reference where the
 * schema declares one). With a schema, properties it does not declare are left out, as the
 * spec asks unknown members to be ignored; without one, JSON maps as it reads. Problems are
 * `invalid_argument` errors naming the member.
 */
export function toAuthzRequest(parts: AuthzenParts, inputs: MappingInputs): AuthzRequest {
  const subject = entityOf(parts.subject, "subject", inputs);
  const action = parts.action;
  if (!isObj(action)) throw invalidArgument(action === undefined ? "action: required object with a name" : "action: must be an object with a name");
  const name = action["name"];
  if (typeof name !== "string" || name === "") throw invalidArgument("action.name: required non-empty string");
  if (action["properties"] !== undefined && !isObj(action["properties"])) throw invalidArgument("action.properties: must be an object");
  const resource = entityOf(parts.resource, "resource", inputs);
  if (parts.context !== undefined && !isObj(parts.context)) throw invalidArgument("context: must be an object");

  const id = inputs.mapping?.actions.get(name) ?? name;
  const shape = inputs.hints.present ? inputs.hints.context.get(`${inputs.defaultActionType}/${id}`) : undefined;
  const context = record(parts.context ?? {}, "context", shape, inputs, 0);
  const target = inputs.mapping?.actionProperties;
  if (target !== undefined && action["properties"] !== undefined) {
    if (isObj(parts.context) && target in parts.context) {
      throw invalidArgument(`context.${target}: this bundle reserves it for action.properties; send them there instead`);
    }
    const declared = shape?.attributes.get(target);
    if (shape === undefined || shape.open || declared !== undefined) {
      context[target] = convert(action["properties"], "action.properties", declared, inputs, 1) ?? { kind: "record", fields: {} };
    }
  }
  return { principal: subject, action: { type: inputs.defaultActionType, id }, resource, context, entities: [] };
}

function entityOf(x: unknown, field: string, inputs: MappingInputs): Entity {
  if (!isObj(x)) throw invalidArgument(x === undefined ? `${field}: required object with type and id` : `${field}: must be an object with type and id`);
  const { type, id, properties } = x;
  if (typeof type !== "string" || type === "") throw invalidArgument(`${field}.type: required non-empty string`);
  if (typeof id !== "string" || id === "") throw invalidArgument(`${field}.id: required non-empty string`);
  if (properties !== undefined && !isObj(properties)) throw invalidArgument(`${field}.properties: must be an object`);
  const mapped = inputs.mapping?.types.get(type);
  const cedarType = mapped?.entityType ?? type;
  if (mapped?.properties === "ignore" || properties === undefined) return { uid: { type: cedarType, id }, attrs: {}, parents: [], tags: {} };
  const shape = inputs.hints.present ? inputs.hints.attributes.get(cedarType) : undefined;
  return { uid: { type: cedarType, id }, attrs: record(properties, `${field}.properties`, shape, inputs, 0), parents: [], tags: {} };
}

/** A JSON object as Cedar record fields; undeclared members of a closed shape are left out. */
function record(o: Obj, field: string, shape: RecordType | undefined, inputs: MappingInputs, depth: number): Record<string, Value> {
  const out = Object.create(null) as Record<string, Value>;
  for (const key of Object.keys(o)) {
    if (RESERVED_KEYS.has(key)) throw invalidArgument(`${field}.${key}: the key "${key}" is reserved by Cedar's JSON format`);
    const declared = shape?.attributes.get(key);
    if (shape !== undefined && !shape.open && declared === undefined) continue;
    const v = convert(o[key], `${field}.${key}`, declared, inputs, depth + 1);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** One JSON value as a Cedar value, read as `type` says; `undefined` for a null (an absent member). */
function convert(x: unknown, field: string, type: AttrType | undefined, inputs: MappingInputs, depth: number): Value | undefined {
  if (depth > inputs.maxDepth) throw limitExceeded(`${field}: nested deeper than the limit of ${inputs.maxDepth}`);
  if (x === null) return undefined;
  if (typeof x === "boolean") return { kind: "bool", value: x };
  if (typeof x === "number") {
    if (type?.kind === "extension" && type.fn === "decimal" && Number.isFinite(x)) return { kind: "extension", fn: "decimal", arg: Number.isInteger(x) ? `${x}.0` : String(x) };
    if (!Number.isSafeInteger(x)) throw invalidArgument(`${field}: ${x} is not an integer within ±(2^53−1); write decimals as strings`);
    return { kind: "long", value: x };
  }
  if (typeof x === "string") {
    if (type?.kind === "extension") return { kind: "extension", fn: type.fn, arg: x };
    if (type?.kind === "entity") return { kind: "entity", uid: { type: type.type, id: x } };
    return { kind: "string", value: x };
  }
  if (Array.isArray(x)) {
    const element = type?.kind === "set" ? type.element : undefined;
    const values: Value[] = [];
    x.forEach((v, i) => {
      const converted = convert(v, `${field}[${i}]`, element, inputs, depth + 1);
      if (converted === undefined) throw invalidArgument(`${field}[${i}]: null is not a value`);
      values.push(converted);
    });
    return { kind: "set", values };
  }
  if (isObj(x)) {
    // An AuthZEN-style {type, id} where the schema expects an entity is a reference to it.
    if (type?.kind === "entity" && typeof x["type"] === "string" && typeof x["id"] === "string") {
      return { kind: "entity", uid: { type: inputs.mapping?.types.get(x["type"])?.entityType ?? x["type"], id: x["id"] } };
    }
    return { kind: "record", fields: record(x, field, type?.kind === "record" ? type : undefined, inputs, depth) };
  }
  throw invalidArgument(`${field}: not a JSON value`);
}
