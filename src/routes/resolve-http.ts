import type { AuthzRequest } from "../model/authz-request.js";
import type { EntityUid, Value } from "../model/entity.js";
import { type HttpFacts, singleHeader } from "./http-facts.js";
import { normalizePath } from "./normalize-path.js";
import { templateOf } from "./path-template.js";
import { resolvePrincipal } from "./principal-source.js";
import type { Route, RouteTable } from "./route-table.js";

export type { HttpFacts } from "./http-facts.js";

/** A Cedar request for the route, or the HTTP answer that refuses it, or a pass for an unmatched request the table lets through. */
export type HttpOutcome =
  | { readonly kind: "request"; readonly request: AuthzRequest; readonly route: Route; readonly principalId: string }
  | { readonly kind: "refuse"; readonly status: 400 | 401 | 403; readonly reason: string; readonly invalidToken?: boolean }
  | { readonly kind: "unmatched"; readonly method: string; readonly template: string; readonly allow: boolean };

/** An HTTP method token in canonical (upper) case; methods are case-sensitive (RFC 9110 §9.1). */
const METHOD = /^[A-Z]{1,16}$/;

/**
 * Turns an HTTP request into a Cedar request through the bundle's route table. Matching uses
 * the normalized path; every value taken from the request must be unambiguous (one header
 * value, one query value), and every refusal says why.
 */
export async function resolveHttp(table: RouteTable, facts: HttpFacts): Promise<HttpOutcome> {
  const norm = normalizePath(facts.target);
  if (!norm.ok) return { kind: "refuse", status: 400, reason: norm.reason };
  // Decided on the method exactly as sent: an upstream that reads `get` as GET must not be
  // reached through a route (or an `unmatched: allow`) that only saw a method named `get`.
  const method = facts.method;
  if (!METHOD.test(method)) {
    return { kind: "refuse", status: 400, reason: /^[A-Za-z]{1,16}$/.test(method) ? "the HTTP method is not in canonical upper case" : "not an HTTP method" };
  }
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
  if (route === undefined || params === undefined) return { kind: "unmatched", method, template: templateOf(norm.segments), allow: table.unmatched === "allow" };
  if ("refuse" in facts.source) return { kind: "refuse", status: 400, reason: facts.source.refuse };
  const source = facts.source.address;
  const principal = await resolvePrincipal(table.principal, facts);
  if ("refuse" in principal) return { kind: "refuse", status: principal.status, reason: principal.refuse, ...(principal.invalidToken ? { invalidToken: true } : {}) };

  let ambiguity: string | undefined;
  const pathParams = params;
  const fill = (template: string) =>
    template.replace(/\{([^{}]+)\}/g, (_m, name: string) => {
      if (name.startsWith("query.")) {
        const all = norm.query.getAll(name.slice(6));
        if (all.length > 1) ambiguity = `query parameter ${name.slice(6)} is given more than once`;
        return all[0] ?? "";
      }
      if (name.startsWith("header.")) {
        const h = singleHeader(facts, name.slice(7).toLowerCase());
        if ("ambiguous" in h) ambiguity = h.ambiguous;
        return "value" in h ? (h.value ?? "") : "";
      }
      return pathParams[name] ?? "";
    });
  const attrs = Object.create(null) as Record<string, Value>;
  for (const [k, spec] of Object.entries(route.resource.attributes)) {
    if (spec.kind === "literal") attrs[k] = typeof spec.value === "boolean" ? { kind: "bool", value: spec.value } : { kind: "long", value: spec.value };
    else if (spec.kind === "entity") attrs[k] = { kind: "entity", uid: { type: spec.type, id: fill(spec.template) } };
    else attrs[k] = { kind: "string", value: fill(spec.template) };
  }
  const parents: EntityUid[] = route.resource.parents.map((p) => ({ type: p.type, id: fill(p.id) }));
  const headers = Object.create(null) as Record<string, Value>;
  for (const name of table.headers) {
    const h = singleHeader(facts, name);
    if ("ambiguous" in h) ambiguity = h.ambiguous;
    headers[name] = { kind: "string", value: "value" in h ? (h.value ?? "") : "" };
  }
  const resourceId = fill(route.resource.id);
  if (ambiguity !== undefined) return { kind: "refuse", status: 400, reason: ambiguity };
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
    resource: { uid: { type: route.resource.type, id: resourceId }, attrs, parents, tags: {} },
    context,
    entities: [],
  };
  return { kind: "request", request, route, principalId: principal.entity.uid.id };
}
