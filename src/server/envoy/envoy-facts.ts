import type { CheckRequest } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { HttpFacts } from "../../routes/http-facts.js";
import { resolveSourceAddress } from "../../routes/source-address.js";

/** Strict: a raw header value that is not UTF-8 is refused, never replaced. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The filter Envoy's jwt_authn stores verified payloads under, in metadata_context. */
const JWT_AUTHN = "envoy.filters.http.jwt_authn";

/**
 * Reads what routing needs from an ext_authz CheckRequest. Headers come from `headers` (Envoy
 * has joined repeated headers with commas) or from `header_map` (one entry per occurrence, raw
 * values with `encode_raw_headers`); names are compared in lower case. The source address is
 * the downstream peer Envoy saw, or with `xffTrustedHops` > 0 the x-forwarded-for entry that
 * many hops from the right; a Unix-socket or internal-listener peer has no IP address. The
 * request time Envoy reports is not used: time comes from Verdict's own clock. Returns
 * undefined when there is no HTTP request to authorize.
 */
export function factsOf(req: CheckRequest, xffTrustedHops: number): HttpFacts | undefined {
  const http = req.attributes?.request?.http;
  if (http === undefined || http.method === "" || http.path === "") return undefined;
  const headers = new Map<string, string[]>();
  const add = (key: string, value: string) => {
    const k = key.toLowerCase();
    const list = headers.get(k);
    if (list === undefined) headers.set(k, [value]);
    else list.push(value);
  };
  let commaJoined = false;
  for (const [k, v] of Object.entries(http.headers)) {
    commaJoined = true;
    add(k, v);
  }
  for (const h of http.headerMap?.headers ?? []) add(h.key, h.value !== "" ? h.value : UTF8.decode(h.rawValue));
  const source = req.attributes?.source;
  const address = source?.address?.address;
  const peer = address === undefined || address.case === undefined ? "" : address.case === "socketAddress" ? address.value.address : undefined;
  return {
    method: http.method,
    target: http.path,
    host: http.host,
    headers,
    commaJoined,
    source: resolveSourceAddress(peer, headers.get("x-forwarded-for"), xffTrustedHops),
    peerPrincipal: source?.principal ?? "",
    peerCertificatePresented: (source?.certificate ?? "") !== "" || (source?.principal ?? "") !== "",
    verifiedJwtPayloads: (req.attributes?.metadataContext?.filterMetadata[JWT_AUTHN] ?? {}) as Record<string, unknown>,
    time: new Date(),
  };
}
