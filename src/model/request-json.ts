import { invalidArgument } from "../errors.js";
import type { AuthzRequest } from "./authz-request.js";
import type { Entity, EntityUid, Value } from "./entity.js";

/**
 * Reads a request written in the JSON form of verdict.v1.CheckRequest (the form `verdict
 * check` takes) without protobuf, so bundles can carry tests the bundle layer runs itself.
 * Values are `{"string": "x"}`, `{"long": "5"}`, `{"set": {"values": […]}}`,
 * `{"record": {"fields": {…}}}`, `{"entity": {"type", "id"}}`, `{"extension": {"fn", "arg"}}`.
 */
export function requestFromJson(json: unknown, field = "request"): { request: AuthzRequest; requestId: string } {
  const o = obj(json, field);
  return {
    request: {
      principal: entity(o["principal"], `${field}.principal`),
      action: uid(o["action"], `${field}.action`, true),
      resource: entity(o["resource"], `${field}.resource`),
      context: fields(o["context"], `${field}.context`),
      entities: arr(o["entities"], `${field}.entities`).map((e, i) => entity(e, `${field}.entities[${i}]`)),
    },
    requestId: typeof o["requestId"] === "string" ? o["requestId"] : "",
  };
}

/** Renders a record's fields in JSON form; `path` names it (`context`, `principal.attrs`, `entities.attrs`…). */
export type FieldsToJson = (fields: Readonly<Record<string, Value>>, path: string) => Record<string, unknown>;

/** Every field in clear. */
const allFields: FieldsToJson = (fields) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueToJson(v)]));

/**
 * The inverse of `requestFromJson`: the JSON form of verdict.v1.CheckRequest. `fields` renders
 * each attribute map, tag map and the context, so a caller can leave data out or mask it.
 */
export function requestToJson(req: AuthzRequest, requestId: string, fields: FieldsToJson = allFields): Record<string, unknown> {
  const ent = (e: Entity, path: string) => ({ uid: e.uid, attrs: fields(e.attrs, `${path}.attrs`), parents: e.parents, tags: fields(e.tags, `${path}.tags`) });
  return {
    principal: ent(req.principal, "principal"),
    action: req.action,
    resource: ent(req.resource, "resource"),
    context: fields(req.context, "context"),
    entities: req.entities.map((e) => ent(e, "entities")),
    requestId,
  };
}

/** One value in the JSON form `requestFromJson` reads (a long as a decimal string, as proto JSON writes int64). */
export function valueToJson(v: Value): unknown {
  switch (v.kind) {
    case "bool":
      return { bool: v.value };
    case "long":
      return { long: String(v.value) };
    case "string":
      return { string: v.value };
    case "set":
      return { set: { values: v.values.map(valueToJson) } };
    case "record":
      return { record: { fields: allFields(v.fields, "") } };
    case "entity":
      return { entity: v.uid };
    case "extension":
      return { extension: { fn: v.fn, arg: v.arg } };
  }
}

function obj(x: unknown, field: string): Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw invalidArgument(`${field}: must be an object`);
  return x as Record<string, unknown>;
}

function arr(x: unknown, field: string): unknown[] {
  if (x === undefined) return [];
  if (!Array.isArray(x)) throw invalidArgument(`${field}: must be an array`);
  return x;
}

function uid(x: unknown, field: string, emptyTypeAllowed = false): EntityUid {
  const o = obj(x, field);
  const type = o["type"] ?? "";
  const id = o["id"];
  if (typeof type !== "string" || (!emptyTypeAllowed && type === "")) throw invalidArgument(`${field}.type: must be a non-empty string`);
  if (typeof id !== "string") throw invalidArgument(`${field}.id: must be a string`);
  return { type, id };
}

function entity(x: unknown, field: string): Entity {
  const o = obj(x, field);
  return {
    uid: uid(o["uid"], `${field}.uid`),
    attrs: fields(o["attrs"], `${field}.attrs`),
    parents: arr(o["parents"], `${field}.parents`).map((p, i) => uid(p, `${field}.parents[${i}]`)),
    tags: fields(o["tags"], `${field}.tags`),
  };
}

function fields(x: unknown, field: string): Record<string, Value> {
  const out = Object.create(null) as Record<string, Value>;
  if (x === undefined) return out;
  const o = obj(x, field);
  for (const key of Object.keys(o)) out[key] = value(o[key], `${field}.${key}`);
  return out;
}

function value(x: unknown, field: string): Value {
  const o = obj(x, field);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw invalidArgument(`${field}: a value has exactly one kind (bool, long, string, set, record, entity, extension)`);
  const k = keys[0]!;
  const v = o[k];
  switch (k) {
    case "bool":
      if (typeof v !== "boolean") throw invalidArgument(`${field}.bool: must be true or false`);
      return { kind: "bool", value: v };
    case "long": {
      const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) throw invalidArgument(`${field}.long: must be a whole number within ±(2^53−1)`);
      return { kind: "long", value: n };
    }
    case "string":
      if (typeof v !== "string") throw invalidArgument(`${field}.string: must be a string`);
      return { kind: "string", value: v };
    case "set":
      return { kind: "set", values: arr(obj(v, `${field}.set`)["values"], `${field}.set.values`).map((e, i) => value(e, `${field}[${i}]`)) };
    case "record":
      return { kind: "record", fields: fields(obj(v, `${field}.record`)["fields"], field) };
    case "entity":
      return { kind: "entity", uid: uid(v, `${field}.entity`) };
    case "extension": {
      const e = obj(v, `${field}.extension`);
      if (typeof e["fn"] !== "string" || typeof e["arg"] !== "string") throw invalidArgument(`${field}.extension: needs string fn and arg`);
      return { kind: "extension", fn: e["fn"], arg: e["arg"] };
    }
    default:
      throw invalidArgument(`${field}: unknown value kind "${k}"`);
  }
}
