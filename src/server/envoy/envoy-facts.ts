import type { CheckRequest } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { HttpFacts } from "../../routes/http-facts.js";

/** The filter Envoy's jwt_authn stores verified payloads under, in metadata_context. */
const JWT_AUTHN = "envoy.filters.http.jwt_authn";

/**
 * Reads what routing needs from an ext_authz CheckRequest, exactly as Envoy fills it. Headers
 * come from `headers` (Envoy has already joined repeated headers with commas) or from
 * `header_map`'s raw values; names are compared in lower case. Returns undefined when there
 * is no HTTP request to authorize.
 */
export function factsOf(req: CheckRequest): HttpFacts | undefined {
  const http = req.attributes?.request?.http;
  if (http === undefined || http.method === "" || http.path === "") return undefined;
  const headers = new Map<string, string>();
  for (const [k, v] of Object.entries(http.headers)) headers.set(k.toLowerCase(), v);
  for (const h of http.headerMap?.headers ?? []) {
    const value = h.value !== "" ? h.value : new TextDecoder("utf-8", { fatal: true }).decode(h.rawValue);
    const key = h.key.toLowerCase();
    headers.set(key, headers.has(key) ? `${headers.get(key)},${value}` : value);
  }
  const source = req.attributes?.source;
  const address = source?.address?.address;
  const time = req.attributes?.request?.time;
  return {
    method: http.method,
    target: http.path,
    host: http.host,
    headers,
    sourceAddress: address?.case === "socketAddress" ? address.value.address : "",
    peerPrincipal: source?.principal ?? "",
    peerCertificatePresented: (source?.certificate ?? "") !== "" || (source?.principal ?? "") !== "",
    verifiedJwtPayloads: (req.attributes?.metadataContext?.filterMetadata[JWT_AUTHN] ?? {}) as Record<string, unknown>,
    time: time ? new Date(Number(time.seconds) * 1000 + Math.floor(time.nanos / 1e6)) : new Date(),
  };
}
