import type { IncomingMessage } from "node:http";
import type { HttpFacts } from "../../routes/http-facts.js";
import { forwardedAddress } from "../../routes/source-address.js";

/** How a forward-auth request describes the original request. */
export interface ForwardedSettings {
  /** The endpoint's path; a request below it is Envoy's HTTP-service mode. */
  readonly path: string;
  /** Proxies in front of the gateway whose x-forwarded-for entries are trusted. */
  readonly xffTrustedHops: number;
  /** A header the gateway sets to the verified client certificate's identity; unset: none. */
  readonly peerHeader: string | undefined;
}

/** The original request, or why it cannot be known (the answer is then a deny with the reason). */
export type Forwarded = { readonly facts: HttpFacts } | { readonly refuse: string };

/** The header a gateway proves itself with when `forwardAuth.token` is set; never a request fact. */
export const GATEWAY_TOKEN_HEADER = "x-verdict-gateway-token";

/** Headers that describe the original request, set by the gateway (never read as the client's own). */
const METHOD_HEADERS = ["x-forwarded-method", "x-original-method"];
const URI_HEADERS = ["x-forwarded-uri", "x-original-uri"];

/**
 * Reads the original request from a forward-auth call, in one of two shapes:
 * - at the endpoint's own path: the gateway's conventions, `X-Forwarded-Method` or
 *   `X-Original-Method`, `X-Forwarded-Uri` or `X-Original-URI`, `X-Forwarded-Host`,
 *   `X-Forwarded-Proto` (nginx `auth_request`, Caddy `forward_auth`, Traefik, HAProxy);
 * - below it (`/forward-auth/v1/…`): Envoy's ext_authz HTTP service, which appends the original
 *   path to its `path_prefix` and keeps the method and Host.
 * A header that is missing where required, sent more than once, or given under two names with
 * different values is a refusal: the request is never guessed from the auth call itself.
 * The source address is the (N+1)th x-forwarded-for entry from the right.
 */
export function forwardedFacts(req: IncomingMessage, settings: ForwardedSettings): Forwarded {
  const url = req.url ?? "/";
  const headers = new Map<string, string[]>(Object.entries(req.headersDistinct).map(([k, v]) => [k, v ?? []]));
  headers.delete(GATEWAY_TOKEN_HEADER);
  const one = (names: readonly string[]): { value: string | undefined } | { refuse: string } => {
    const given = names.flatMap((n) => (headers.get(n) ?? []).map((v) => [n, v] as const));
    if (given.length === 0) return { value: undefined };
    if (given.some(([n]) => given.filter(([m]) => m === n).length > 1)) return { refuse: `the ${given[0]![0]} header is sent more than once` };
    if (new Set(given.map(([, v]) => v)).size > 1) return { refuse: `${given.map(([n]) => n).join(" and ")} disagree` };
    return { value: given[0]![1] };
  };
  const required = (names: readonly string[], what: string) => {
    const h = one(names);
    if ("refuse" in h) return h;
    return h.value === undefined || h.value === "" ? { refuse: `no ${what}: the gateway must send ${names.join(" or ")}` } : { value: h.value };
  };

  let method: string;
  let target: string;
  let host: string;
  const below = url.startsWith(`${settings.path}/`);
  if (below) {
    // Envoy's HTTP-service mode: headers of the other convention would be a second, competing answer.
    const other = [...METHOD_HEADERS, ...URI_HEADERS].find((n) => headers.has(n));
    if (other !== undefined) return { refuse: `${other} is sent to a path-suffix (Envoy HTTP-service) request: the original request is ambiguous` };
    method = req.method ?? "";
    target = url.slice(settings.path.length);
    const h = required(["host"], "Host");
    if ("refuse" in h) return h;
    host = h.value;
  } else {
    const m = required(METHOD_HEADERS, "original method");
    if ("refuse" in m) return m;
    const u = required(URI_HEADERS, "original URI");
    if ("refuse" in u) return u;
    const h = required(["x-forwarded-host"], "original host");
    if ("refuse" in h) return h;
    [method, target, host] = [m.value, u.value, h.value];
  }
  const proto = one(["x-forwarded-proto"]);
  if ("refuse" in proto) return proto;
  if (proto.value !== undefined && proto.value !== "http" && proto.value !== "https") return { refuse: "x-forwarded-proto must be http or https" };
  if (!headers.has("x-forwarded-for")) return { refuse: "no x-forwarded-for: the gateway must send the client address" };
  const source = forwardedAddress(headers.get("x-forwarded-for"), settings.xffTrustedHops);
  if ("refuse" in source) return source;
  let peerPrincipal = "";
  if (settings.peerHeader !== undefined) {
    const p = one([settings.peerHeader]);
    if ("refuse" in p) return p;
    peerPrincipal = p.value ?? "";
  }
  return {
    facts: {
      method,
      target,
      host,
      headers,
      // A proxy hop may have joined repeated headers: a comma in a selected header stays ambiguous.
      commaJoined: true,
      source,
      peerPrincipal,
      peerCertificatePresented: peerPrincipal !== "",
      verifiedJwtPayloads: {},
      time: new Date(),
    },
  };
}
