import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity, Value } from "../model/entity.js";
import { normalizePath } from "./normalize-path.js";
import { templateOf } from "./path-template.js";
import type { ClaimMapping, PrincipalSource, Route, RouteTable } from "./route-table.js";

/** What the gateway tells us about one HTTP request, whatever its wire format. */
export interface HttpFacts {
  readonly method: string;
  /** The raw request target (`:path`), query included. */
  readonly target: string;
  readonly host: string;
  /** Lower-case header names; a header sent several times arrives as one comma-joined value. */
  readonly headers: ReadonlyMap<string, string>;
  readonly sourceAddress: string;
  /** The mTLS peer identity the gateway verified (e.g. a SPIFFE id), "" if none. */
  readonly peerPrincipal: string;
  readonly peerCertificatePresented: boolean;
  /** Payloads the gateway's own JWT filter verified, by metadata key. */
  readonly verifiedJwtPayloads: Readonly<Record<string, unknown>>;
  readonly time: Date;
}

/** A Cedar request for the route, or the HTTP answer that refuses it. */
export type HttpOutcome =
  | { readonly kind: "request"; readonly request: AuthzRequest; readonly route: Route; readonly principalId: string }
  | { readonly kind: "refuse"; readonly status: 400 | 401 | 403; readonly reason: string; readonly unmatched?: string };

const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];
const jwksSets = new WeakMap<object, ReturnType<typeof createLocalJWKSet>>();
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Turns an HTTP request into a Cedar request through the bundle's route table. Identity comes
 * only from a token Verdict verified, a token the gateway verified, or the verified mTLS peer;
 * never from other headers a client could set. Every refusal says why.
 */
export async function resolveHttp(table: RouteTable, facts: HttpFacts): Promise<HttpOutcome> {
  const norm = normalizePath(facts.target);
  if (!norm.ok) return { kind: "refuse", status: 400, reason: norm.reason };
  const method = facts.method.toUpperCase();
  let route: Route | undefined;
  let params: Record<string, string> | undefined;
  for (const r of table.routes) {
    if (!r.methods.has(method)) continue;
    params = r.path.match(norm.segments);
    if (params) {
      route = r;
      break;
    }
  }
  if (route === undefined || params === undefined) return { kind: "refuse", status: 403, reason: "no route matches this request", unmatched: `${method} ${templateOf(norm.segments)}` };
  const principal = await principalOf(table.principal, facts);
  if ("refuse" in principal) return { kind: "refuse", status: 401, reason: principal.refuse };
  const fill = (template: string) =>
    template.replace(/\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (_m, name: string) =>
      name.startsWith("query.") ? (norm.query.get(name.slice(6)) ?? "") : name.startsWith("header.") ? (facts.headers.get(name.slice(7).toLowerCase()) ?? "") : (params![name] ?? ""),
    );
  const attrs = Object.create(null) as Record<string, Value>;
  for (const [k, t] of Object.entries(route.resource.attributes)) attrs[k] = { kind: "string", value: fill(t) };
  const headers = Object.create(null) as Record<string, Value>;
  for (const h of table.headers) headers[h] = { kind: "string", value: facts.headers.get(h) ?? "" };
  const source = facts.sourceAddress;
  if (!IPV4.test(source) && !/^[0-9a-fA-F:]+$/.test(source)) return { kind: "refuse", status: 400, reason: "the gateway gave no source IP address" };
  const context: Record<string, Value> = {
    method: { kind: "string", value: method },
    path: { kind: "string", value: norm.path },
    host: { kind: "string", value: facts.host.toLowerCase() },
    sourceIp: { kind: "extension", fn: "ip", arg: source },
    clientCert: { kind: "bool", value: facts.peerCertificatePresented },
    requestTime: { kind: "long", value: Math.floor(facts.time.getTime() / 1000) },
    headers: { kind: "record", fields: headers },
  };
  const request: AuthzRequest = {
    principal: principal.entity,
    action: { type: "", id: route.action },
    resource: { uid: { type: route.resource.type, id: fill(route.resource.id) }, attrs, parents: [], tags: {} },
    context,
    entities: [],
  };
  return { kind: "request", request, route, principalId: principal.entity.uid.id };
}

async function principalOf(sources: readonly PrincipalSource[], facts: HttpFacts): Promise<{ entity: Entity } | { refuse: string }> {
  for (const s of sources) {
    if (s.kind === "peer") {
      if (facts.peerPrincipal !== "") return { entity: bare(s.type, facts.peerPrincipal) };
    } else if (s.kind === "jwtAuthn") {
      const payload = facts.verifiedJwtPayloads[s.metadataKey];
      if (payload && typeof payload === "object") return claimsEntity(s.mapping, payload as Record<string, unknown>);
    } else {
      const header = facts.headers.get(s.header);
      if (header === undefined) continue;
      const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header.trim());
      if (m === null) return { refuse: `the ${s.header} header does not hold one bearer token` };
      let set = jwksSets.get(s as object);
      if (!set) jwksSets.set(s as object, (set = createLocalJWKSet(s.jwks as JSONWebKeySet)));
      try {
        const { payload } = await jwtVerify(m[1]!, set, { issuer: s.issuer, audience: s.audience, algorithms: ALGORITHMS, clockTolerance: s.clockToleranceSec, currentDate: facts.time });
        return claimsEntity(s.mapping, payload as Record<string, unknown>);
      } catch (err) {
        return { refuse: `invalid token: ${(err as Error).message}` };
      }
    }
  }
  return { refuse: "no credentials: a bearer token or a client certificate is required" };
}

function claimsEntity(m: ClaimMapping, claims: Record<string, unknown>): { entity: Entity } | { refuse: string } {
  const id = claims[m.idClaim];
  if (typeof id !== "string" || id === "") return { refuse: `the token has no "${m.idClaim}" claim` };
  const attrs = Object.create(null) as Record<string, Value>;
  for (const [attr, claim] of Object.entries(m.attributes)) {
    const v = toValue(claims[claim]);
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
  if (Array.isArray(x)) {
    const values = x.map(toValue).filter((v): v is Value => v !== undefined);
    return { kind: "set", values };
  }
  return undefined;
}

const bare = (type: string, id: string): Entity => ({ uid: { type, id }, attrs: {}, parents: [], tags: {} });
