import type { EntityJson, CedarValueJson, TypeAndId, Context } from "@cedar-policy/cedar-wasm/nodejs";
import type { Entity, EntityUid, Value } from "../model/entity.js";
import type { AuthzRequest } from "../model/authz-request.js";

/**
 * The one place that builds Cedar's JSON forms (`__entity`, `__extn`). Values arrive typed
 * from the model, so a caller's string can never become an escape; record keys that Cedar
 * would read as escapes are refused earlier, by the request guard.
 */
export function toCedarUid(uid: EntityUid): TypeAndId {
  return { type: uid.type, id: uid.id };
}

/** Converts a model value to Cedar's JSON value form. */
export function toCedarValue(v: Value): CedarValueJson {
  switch (v.kind) {
    case "bool":
    case "long":
    case "string":
      return v.value;
    case "set":
      return v.values.map(toCedarValue);
    case "record":
      return toCedarRecord(v.fields);
    case "entity":
      return { __entity: toCedarUid(v.uid) };
    case "extension":
      return { __extn: { fn: v.fn, arg: v.arg } };
  }
}

/** Converts a record; own keys only, on a prototype-free object so no key can touch a prototype. */
export function toCedarRecord(fields: Readonly<Record<string, Value>>): Context {
  const out = Object.create(null) as Record<string, CedarValueJson>;
  for (const key of Object.keys(fields)) out[key] = toCedarValue(fields[key]!);
  return out;
}

/** Converts an entity to Cedar's JSON entity form. */
export function toCedarEntity(e: Entity): EntityJson {
  const json: EntityJson = {
    uid: toCedarUid(e.uid),
    attrs: toCedarRecord(e.attrs),
    parents: e.parents.map(toCedarUid),
  };
  if (Object.keys(e.tags).length > 0) json.tags = toCedarRecord(e.tags);
  return json;
}

/** The request part of an authorization call, without entities or policy set. */
export interface CedarRequestParts {
  principal: TypeAndId;
  action: TypeAndId;
  resource: TypeAndId;
  context: Context;
}

/** Maps a request's principal, action, resource and context. */
export function toCedarRequest(req: AuthzRequest, action: EntityUid): CedarRequestParts {
  return {
    principal: toCedarUid(req.principal.uid),
    action: toCedarUid(action),
    resource: toCedarUid(req.resource.uid),
    context: toCedarRecord(req.context),
  };
}
