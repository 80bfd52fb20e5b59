import { hash } from "node:crypto";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity, EntityUid, Value } from "../model/entity.js";

/**
 * A canonical encoding of everything the engine sees: equal requests encode equally whatever
 * their map or set order, and distinct requests never collide, because every piece is a
 * JSON-escaped, tagged array element (no concatenation of raw ids). Sets are sorted and
 * de-duplicated, as Cedar treats them; entities are sorted by uid (their order carries no
 * meaning). Entities are not de-duplicated: an entity repeated in a request is a question the
 * engine refuses, so it must never share a key with the request that lists it once.
 * `request_id` is not part of the request model, so it is never part of the key.
 * The text is JSON, built in one pass: each piece is encoded once and sorted as text.
 */
export function canonicalRequest(req: AuthzRequest): string {
  return `[${uid(req.action)},${entity(req.principal)},${entity(req.resource)},${record(req.context)},${sorted(req.entities.map(entity))}]`;
}

/**
 * SHA-256 of the canonical encoding. `variant` names process settings that change what the
 * engine answers (strict evaluation); it is JSON-quoted, so it cannot run into the request.
 */
export function requestDigest(req: AuthzRequest, variant = ""): Buffer {
  return hash("sha256", quote(variant) + canonicalRequest(req), "buffer");
}

/** The shared (Redis) key: prefix, namespace, the bundle's content scope, and the request digest in hex. */
export function sharedCacheKey(namespace: string, scope: string, digest: Buffer): string {
  return `verdict:v1:${namespace}:${scope}:${digest.toString("hex")}`;
}

/** `sharedCacheKey` of a request. */
export function cacheKey(namespace: string, scope: string, req: AuthzRequest, variant = ""): string {
  return sharedCacheKey(namespace, scope, requestDigest(req, variant));
}

const quote = (s: string) => JSON.stringify(s);
const uid = (u: EntityUid) => `[${quote(u.type)},${quote(u.id)}]`;

function entity(e: Entity): string {
  return `[${uid(e.uid)},${record(e.attrs)},${sortedUnique(e.parents.map(uid))},${record(e.tags)}]`;
}

function record(fields: Readonly<Record<string, Value>>): string {
  const keys = Object.keys(fields).sort();
  let out = "[";
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? "" : ","}[${quote(keys[i]!)},${value(fields[keys[i]!]!)}]`;
  return `${out}]`;
}

function value(v: Value): string {
  switch (v.kind) {
    case "bool":
      return `["b",${v.value}]`;
    case "long":
      return `["l",${v.value === 0 ? 0 : v.value}]`; // -0 and 0 are the same Long
    case "string":
      return `["s",${quote(v.value)}]`;
    case "set":
      return `["S",${sortedUnique(v.values.map(value))}]`;
    case "record":
      return `["R",${record(v.fields)}]`;
    case "entity":
      return `["E",${uid(v.uid)}]`;
    case "extension":
      return `["X",${quote(v.fn)},${quote(v.arg)}]`;
  }
}

/** Sorts encoded elements as text and drops duplicates (Cedar sets and parent lists). */
function sortedUnique(items: string[]): string {
  return `[${[...new Set(items)].sort().join(",")}]`;
}

/** Sorts encoded elements as text, keeping duplicates (the request's entity list). */
function sorted(items: string[]): string {
  return `[${items.sort().join(",")}]`;
}
