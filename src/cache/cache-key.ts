import { createHash } from "node:crypto";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity, EntityUid, Value } from "../model/entity.js";

/**
 * A canonical encoding of everything the engine sees: equal requests encode equally whatever
 * their map or set order, and distinct requests never collide, because every piece is a
 * JSON-escaped, tagged array element (no concatenation of raw ids). Sets are sorted and
 * de-duplicated, as Cedar treats them; entities are sorted by uid (their order carries no
 * meaning). `request_id` is not part of the request model, so it is never part of the key.
 */
export function canonicalRequest(req: AuthzRequest): string {
  return JSON.stringify([uid(req.action), entity(req.principal), entity(req.resource), record(req.context), sortedUnique(req.entities.map(entity))]);
}

/**
 * SHA-256 of the canonical encoding, hex. `variant` names process settings that change what
 * the engine answers (strict evaluation); it is JSON-quoted, so it cannot run into the request.
 */
export function requestHash(req: AuthzRequest, variant = ""): string {
  return createHash("sha256").update(JSON.stringify(variant)).update(canonicalRequest(req)).digest("hex");
}

/** The cache key: prefix, namespace, the bundle's content scope, and the request hash. */
export function cacheKey(namespace: string, scope: string, req: AuthzRequest, variant = ""): string {
  return `verdict:v1:${namespace}:${scope}:${requestHash(req, variant)}`;
}

type Encoded = string | number | boolean | Encoded[];

const uid = (u: EntityUid): Encoded => [u.type, u.id];

function entity(e: Entity): Encoded {
  return [uid(e.uid), record(e.attrs), sortedUnique(e.parents.map(uid)), record(e.tags)];
}

function record(fields: Readonly<Record<string, Value>>): Encoded {
  return Object.keys(fields)
    .sort()
    .map((k) => [k, value(fields[k]!)]);
}

function value(v: Value): Encoded {
  switch (v.kind) {
    case "bool":
      return ["b", v.value];
    case "long":
      return ["l", v.value === 0 ? 0 : v.value]; // -0 and 0 are the same Long
    case "string":
      return ["s", v.value];
    case "set":
      return ["S", sortedUnique(v.values.map(value))];
    case "record":
      return ["R", record(v.fields)];
    case "entity":
      return ["E", uid(v.uid)];
    case "extension":
      return ["X", v.fn, v.arg];
  }
}

/** Sorts encoded elements by their JSON text and drops duplicates. */
function sortedUnique(items: Encoded[]): Encoded[] {
  const byText = new Map<string, Encoded>();
  for (const i of items) byText.set(JSON.stringify(i), i);
  return [...byText.keys()].sort().map((k) => byText.get(k)!);
}
