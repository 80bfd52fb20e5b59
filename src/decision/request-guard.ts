import { invalidArgument, limitExceeded } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity, EntityUid, Value } from "../model/entity.js";
import type { PlanRequest } from "../model/plan-request.js";
import { guardHierarchy } from "./hierarchy-guard.js";
import type { RequestLimits } from "./request-limits.js";

/** Keys Cedar's JSON form reads as escapes; a record carrying one could forge a reference. */
const RESERVED_KEYS = new Set(["__entity", "__extn", "__expr"]);
/** Extension constructors Cedar defines; anything else is refused by name. */
const EXTENSIONS = new Set(["ip", "decimal", "datetime", "duration"]);
/** Cedar longs travel as JS numbers; beyond this they would be silently rounded. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Entity type names: `::`-separated Cedar identifiers. */
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Lone UTF-16 surrogates cannot be encoded for Cedar. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a mapped request against the limits and Cedar's input rules, whichever front door
 * it came through. Throws `limit_exceeded` or `invalid_argument` naming the field.
 */
export function guardRequest(req: AuthzRequest, limits: RequestLimits): void {
  guardQuestion(req, limits, () => guardEntity(req.resource, "resource", limits));
  guardHierarchy([req.principal, req.resource, ...req.entities], limits);
}

/** The same checks for a Plan request, whose resource is a type rather than an entity. */
export function guardPlanRequest(req: PlanRequest, limits: RequestLimits): void {
  guardQuestion(req, limits, () => guardTypeName(req.resourceType, "resource_type", limits));
  guardHierarchy([req.principal, ...req.entities], limits);
}

function guardQuestion(req: Omit<AuthzRequest, "resource">, limits: RequestLimits, guardResource: () => void): void {
  if (req.entities.length > limits.maxEntities) {
    throw limitExceeded(`entities: ${req.entities.length} entities is over the limit of ${limits.maxEntities}`);
  }
  guardEntity(req.principal, "principal", limits);
  guardUid(req.action, "action", limits, true);
  guardResource();
  guardFields(req.context, "context", limits, 0);
  req.entities.forEach((e, i) => guardEntity(e, `entities[${i}]`, limits));
}

function guardEntity(e: Entity, field: string, limits: RequestLimits): void {
  guardUid(e.uid, `${field}.uid`, limits, false);
  guardFields(e.attrs, `${field}.attrs`, limits, 0);
  guardFields(e.tags, `${field}.tags`, limits, 0);
  if (e.parents.length > limits.maxSetSize) {
    throw limitExceeded(`${field}.parents: ${e.parents.length} parents is over the limit of ${limits.maxSetSize}`);
  }
  e.parents.forEach((p, i) => guardUid(p, `${field}.parents[${i}]`, limits, false));
}

function guardUid(uid: EntityUid, field: string, limits: RequestLimits, emptyTypeAllowed: boolean): void {
  if (uid.type !== "" || !emptyTypeAllowed) guardTypeName(uid.type, `${field}.type`, limits);
  if (uid.id === "") throw invalidArgument(`${field}.id: must not be empty`);
  guardString(uid.id, `${field}.id`, limits);
}

function guardTypeName(type: string, field: string, limits: RequestLimits): void {
  if (type === "") throw invalidArgument(`${field}: must not be empty`);
  if (!TYPE_NAME.test(type)) throw invalidArgument(`${field}: ${JSON.stringify(type.slice(0, 100))} is not a Cedar type name (Name or Namespace::Name)`);
  if (type.length > limits.maxStringLength) throw limitExceeded(`${field}: longer than ${limits.maxStringLength} characters`);
}

function guardString(s: string, field: string, limits: RequestLimits): void {
  if (s.length > limits.maxStringLength) {
    throw limitExceeded(`${field}: string of ${s.length} characters is over the limit of ${limits.maxStringLength}`);
  }
  if (LONE_SURROGATE.test(s)) throw invalidArgument(`${field}: contains an unpaired UTF-16 surrogate`);
}

function guardFields(fields: Readonly<Record<string, Value>>, field: string, limits: RequestLimits, depth: number): void {
  const keys = Object.keys(fields);
  if (keys.length > limits.maxRecordFields) {
    throw limitExceeded(`${field}: ${keys.length} fields is over the limit of ${limits.maxRecordFields}`);
  }
  for (const key of keys) {
    const path = `${field}.${key}`;
    if (RESERVED_KEYS.has(key)) throw invalidArgument(`${path}: the key "${key}" is reserved by Cedar's JSON format`);
    guardString(key, `${field} key`, limits);
    guardValue(fields[key]!, path, limits, depth + 1);
  }
}

/** Checks one value; `depth` counts enclosing values so the limit bounds recursion too. */
export function guardValue(v: Value, field: string, limits: RequestLimits, depth: number): void {
  if (depth > limits.maxDepth) throw limitExceeded(`${field}: nested deeper than the limit of ${limits.maxDepth}`);
  switch (v.kind) {
    case "bool":
      return;
    case "long":
      if (!Number.isSafeInteger(v.value) || Math.abs(v.value) > MAX_SAFE) {
        throw invalidArgument(`${field}: long ${v.value} is outside ±(2^53−1) and cannot be represented exactly`);
      }
      return;
    case "string":
      return guardString(v.value, field, limits);
    case "set":
      if (v.values.length > limits.maxSetSize) {
        throw limitExceeded(`${field}: set of ${v.values.length} elements is over the limit of ${limits.maxSetSize}`);
      }
      v.values.forEach((x, i) => guardValue(x, `${field}[${i}]`, limits, depth + 1));
      return;
    case "record":
      return guardFields(v.fields, field, limits, depth);
    case "entity":
      return guardUid(v.uid, field, limits, false);
    case "extension":
      if (!EXTENSIONS.has(v.fn)) throw invalidArgument(`${field}: unknown extension function "${v.fn.slice(0, 50)}" (use ip, decimal, datetime or duration)`);
      return guardString(v.arg, `${field}.arg`, limits);
  }
}
