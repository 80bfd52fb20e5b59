import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";

/** One HTTP request as a test describes it. */
export interface EnvoyHttp {
  method?: string;
  path: string;
  /** Envoy's `headers` map: repeated headers already joined with commas. */
  headers?: Record<string, string>;
  /** Envoy's `header_map` (`encode_raw_headers`): one entry per occurrence. */
  headerMap?: [string, string][];
  /** The downstream peer: an IP socket address (default 10.0.0.5), a Unix socket path, or an internal listener. */
  source?: { ip: string } | { pipe: string } | { internal: string };
  /** The verified mTLS identity Envoy reports (URI SAN, DNS SAN or subject DN). */
  peer?: string;
  jwtPayload?: Record<string, unknown>;
  /** The request time Envoy reports (seconds since the epoch); default now. */
  time?: number;
}

/** A CheckRequest as Envoy fills it: pseudo-headers in the map, lower-case names, the request time, the peer. */
export function envoyRequest(http: EnvoyHttp) {
  const src = http.source ?? { ip: "10.0.0.5" };
  const address =
    "ip" in src
      ? { case: "socketAddress", value: { address: src.ip, portSpecifier: { case: "portValue", value: 41000 } } }
      : "pipe" in src
        ? { case: "pipe", value: { path: src.pipe } }
        : { case: "envoyInternalAddress", value: { addressNameSpecifier: { case: "serverListenerName", value: src.internal } } };
  const method = http.method ?? "GET";
  return create(CheckRequestSchema, {
    attributes: {
      source: { address: { address }, principal: http.peer ?? "", ...(http.peer ? { certificate: "-----BEGIN%20CERTIFICATE-----%0A" } : {}) },
      destination: { address: { address: { case: "socketAddress", value: { address: "10.0.0.9", portSpecifier: { case: "portValue", value: 8080 } } } } },
      request: {
        time: { seconds: BigInt(http.time ?? Math.floor(Date.now() / 1000)), nanos: 0 },
        http: {
          id: "req-1",
          method,
          path: http.path,
          host: "api.example.test",
          scheme: "https",
          protocol: "HTTP/1.1",
          size: -1n,
          headers: http.headerMap ? {} : { ":authority": "api.example.test", ":method": method, ":path": http.path, ":scheme": "https", "x-request-id": "req-1", ...(http.headers ?? {}) },
          ...(http.headerMap ? { headerMap: { headers: http.headerMap.map(([key, value]) => ({ key, rawValue: new TextEncoder().encode(value) })) } } : {}),
        },
      },
      ...(http.jwtPayload ? { metadataContext: { filterMetadata: { "envoy.filters.http.jwt_authn": { jwt_payload: http.jwtPayload } } } } : {}),
    },
  } as MessageInitShape<typeof CheckRequestSchema>);
}
