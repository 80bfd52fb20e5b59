import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { Entity, Value } from "../model/entity.js";
import { createBackgroundJwks } from "./background-jwks.js";
import { type HttpFacts, singleHeader } from "./http-facts.js";
import { type PeerAllowList, parsePeerAllowList, peerAllowed } from "./peer-allow-list.js";
import type { FieldPath, YamlFields } from "./yaml-fields.js";

/** Where a request's principal may come from, tried in order. */
export type PrincipalSource =
  | { readonly kind: "jwt"; readonly header: string; readonly keys: JWTVerifyGetKey; readonly issuer: string; readonly audience: string; readonly mapping: ClaimMapping; readonly clockToleranceSec: number }
  | { readonly kind: "jwtAuthn"; readonly metadataKey: string; readonly mapping: ClaimMapping }
  | { readonly kind: "peer"; readonly type: string; readonly allow: PeerAllowList }
  | { readonly kind: "header"; readonly name: string; readonly type: string };

/** How token claims become the principal entity. */
export interface ClaimMapping {
  readonly type: string;
  readonly idClaim: string;
  /** Attribute name → claim name, and the entity type when the claim holds an entity id. */
  readonly attributes: Readonly<Record<string, { readonly claim: string; readonly entity?: string }>>;
  readonly parents?: { readonly claim: string; readonly type: string };
}

/**
 * The principal entity, or why there is none (the answer is then 401, with RFC 6750's
 * `error="invalid_token"` when credentials were presented but are not valid).
 */
export type PrincipalOutcome = { readonly entity: Entity } | { readonly refuse: string; readonly status: 400 | 401; readonly invalidToken?: boolean };

/** Asymmetric algorithms only: `none` and HMAC (HS256 keyed with a public key) are refused. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Reads `principal[i]` of routes.yaml; `readFile` returns another bundle file (a JWKS). */
export function parsePrincipalSource(y: YamlFields, path: FieldPath, readFile: (path: string) => string | undefined): PrincipalSource {
  const kinds = Object.keys(y.map(path));
  if (kinds.length !== 1) y.fail(path, "a principal source is exactly one of jwt, jwtAuthn, peer, header");
  const kind = kinds[0]!;
  const at = [...path, kind];
  if (kind === "jwt") {
    y.only(at, ["header", "jwks", "jwksUrl", "jwksRefreshSec", "issuer", "audience", "clockToleranceSec", "type", "id", "attributes", "parents"]);
    const tolerance = y.get([...at, "clockToleranceSec"]) ?? 30;
    if (typeof tolerance !== "number" || !Number.isInteger(tolerance) || tolerance < 0 || tolerance > 300) y.fail([...at, "clockToleranceSec"], "must be a whole number of seconds from 0 to 300");
    return { kind, header: y.optStr([...at, "header"], "authorization").toLowerCase(), keys: keysOf(y, at, readFile), issuer: y.str([...at, "issuer"]), audience: y.str([...at, "audience"]), mapping: mappingOf(y, at), clockToleranceSec: tolerance as number };
  }
  if (kind === "jwtAuthn") {
    y.only(at, ["metadataKey", "type", "id", "attributes", "parents"]);
    return { kind, metadataKey: y.str([...at, "metadataKey"]), mapping: mappingOf(y, at) };
  }
  if (kind === "peer") {
    y.only(at, ["type", "trustDomains", "ids"]);
    return { kind, type: y.typeName([...at, "type"]), allow: parsePeerAllowList(y, at) };
  }
  if (kind === "header") {
    y.only(at, ["name", "type"]);
    return { kind, name: y.str([...at, "name"]).toLowerCase(), type: y.typeName([...at, "type"]) };
  }
  return y.fail(at, "unknown principal source (expected jwt, jwtAuthn, peer or header)");
}

function keysOf(y: YamlFields, at: FieldPath, readFile: (path: string) => string | undefined): JWTVerifyGetKey {
  const file = y.get([...at, "jwks"]);
  const url = y.get([...at, "jwksUrl"]);
  if ((file === undefined) === (url === undefined)) y.fail(at, "give exactly one of jwks (a bundle file) or jwksUrl");
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(y.str([...at, "jwksUrl"]));
    } catch {
      return y.fail([...at, "jwksUrl"], "is not a URL");
    }
    if (u.protocol !== "https:" && !(u.protocol === "http:" && LOOPBACK.has(u.hostname))) y.fail([...at, "jwksUrl"], "must be https (plain http only on loopback)");
    const refresh = y.get([...at, "jwksRefreshSec"]) ?? 300;
    if (typeof refresh !== "number" || !Number.isInteger(refresh) || refresh < 10 || refresh > 86_400) y.fail([...at, "jwksRefreshSec"], "must be a whole number of seconds from 10 to 86400");
    return createBackgroundJwks(u, (refresh as number) * 1000);
  }
  const name = y.str([...at, "jwks"]);
  const text = readFile(name) ?? y.fail([...at, "jwks"], `bundle file ${name} not found`);
  try {
    return createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
  } catch {
    return y.fail([...at, "jwks"], `${name} is not a JSON Web Key Set`);
  }
}

function mappingOf(y: YamlFields, at: FieldPath): ClaimMapping {
  const attributes: Record<string, { claim: string; entity?: string }> = Object.create(null);
  for (const [name, spec] of Object.entries(y.map([...at, "attributes"], true))) {
    const p = [...at, "attributes", name];
    if (typeof spec === "string") attributes[name] = { claim: y.str(p) };
    else {
      y.only(p, ["claim", "entity"]);
      attributes[name] = { claim: y.str([...p, "claim"]), ...(y.get([...p, "entity"]) === undefined ? {} : { entity: y.typeName([...p, "entity"]) }) };
    }
  }
  const hasParents = y.get([...at, "parents"]) !== undefined;
  if (hasParents) y.only([...at, "parents"], ["claim", "type"]);
  return {
    type: y.typeName([...at, "type"]),
    idClaim: y.optStr([...at, "id"], "sub"),
    attributes,
    ...(hasParents ? { parents: { claim: y.str([...at, "parents", "claim"]), type: y.typeName([...at, "parents", "type"]) } } : {}),
  };
}

/**
 * The principal from the first source that has credentials. Identity comes only from a token
 * Verdict verified, a payload the gateway's JWT filter verified, the verified mTLS peer, or a
 * header the route table names as set by the gateway; a source with bad credentials refuses.
 */
export async function resolvePrincipal(sources: readonly PrincipalSource[], facts: HttpFacts): Promise<PrincipalOutcome> {
  let notAllowed = "";
  for (const s of sources) {
    if (s.kind === "peer") {
      if (facts.peerPrincipal === "") continue;
      // A certificate the gateway verified proves only that some CA issued it: the identity
      // must also be on the source's allow-list, else the next source gets its turn.
      if (peerAllowed(s.allow, facts.peerPrincipal)) return { entity: bare(s.type, facts.peerPrincipal) };
      notAllowed = " (the client certificate's identity is not on the peer allow-list)";
    } else if (s.kind === "header") {
      const h = singleHeader(facts, s.name);
      if ("ambiguous" in h) return { refuse: h.ambiguous, status: 400 };
      if (h.value !== undefined && h.value !== "") return { entity: bare(s.type, h.value) };
    } else if (s.kind === "jwtAuthn") {
      const payload = facts.verifiedJwtPayloads[s.metadataKey];
      if (payload !== null && typeof payload === "object" && !Array.isArray(payload)) return claimsEntity(s.mapping, payload as Record<string, unknown>);
    } else {
      const values = facts.headers.get(s.header);
      if (values === undefined || values.length === 0) continue;
      const m = values.length === 1 ? /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i.exec(values[0]!.trim()) : null;
      if (m === null) return { refuse: `the ${s.header} header does not hold one bearer token`, status: 401, invalidToken: true };
      try {
        // exp and nbf are checked against the PDP's own clock (facts.time is never caller-asserted).
        const { payload } = await jwtVerify(m[1]!, s.keys, { issuer: s.issuer, audience: s.audience, algorithms: ALGORITHMS, clockTolerance: s.clockToleranceSec, currentDate: facts.time, requiredClaims: ["exp"] });
        return claimsEntity(s.mapping, payload as Record<string, unknown>);
      } catch (err) {
        return { refuse: `invalid token: ${err instanceof Error ? err.message : "unverifiable"}`, status: 401, invalidToken: true };
      }
    }
  }
  return { refuse: `no credentials: a bearer token or an allowed client certificate is required${notAllowed}`, status: 401 };
}

function claimsEntity(m: ClaimMapping, claims: Record<string, unknown>): PrincipalOutcome {
  const id = claims[m.idClaim];
  if (typeof id !== "string" || id === "") return { refuse: `the token has no "${m.idClaim}" claim`, status: 401, invalidToken: true };
  const attrs = Object.create(null) as Record<string, Value>;
  for (const [attr, spec] of Object.entries(m.attributes)) {
    const raw = claims[spec.claim];
    const v = spec.entity === undefined ? toValue(raw) : typeof raw === "string" && raw !== "" ? ({ kind: "entity", uid: { type: spec.entity, id: raw } } as const) : undefined;
    if (v !== undefined) attrs[attr] = v;
  }
  const raw = m.parents ? claims[m.parents.claim] : undefined;
  const parents = Array.isArray(raw) ? raw.filter((p): p is string => typeof p === "string" && p !== "").map((p) => ({ type: m.parents!.type, id: p })) : [];
  return { entity: { uid: { type: m.type, id }, attrs, parents, tags: {} } };
}

function toValue(x: unknown): Value | undefined {
  if (typeof x === "string") return { kind: "string", value: x };
  if (typeof x === "boolean") return { kind: "bool", value: x };
  if (typeof x === "number" && Number.isSafeInteger(x)) return { kind: "long", value: x };
  if (Array.isArray(x)) return { kind: "set", values: x.map(toValue).filter((v): v is Value => v !== undefined) };
  return undefined;
}

const bare = (type: string, id: string): Entity => ({ uid: { type, id }, attrs: {}, parents: [], tags: {} });
