import { create, type JsonObject } from "@bufbuild/protobuf";
import { HeaderValueOption_HeaderAppendAction as Append } from "../../gen/envoy/config/core/v3/base_pb.js";
import { type CheckResponse, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";

/** google.rpc codes Envoy reads in CheckResponse.status: OK allows, anything else denies. */
const OK = 0;
const PERMISSION_DENIED = 7;
/** Printable ASCII only: a CR/LF (or any control byte) in an echoed value could split headers. */
const SAFE_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * RFC 6750's challenge: `error="invalid_token"` when a token was presented but is not valid
 * (expired, badly signed, unknown key), none when there were no credentials at all.
 */
export function bearerChallenge(invalidToken: boolean): string {
  return invalidToken ? 'Bearer realm="verdict", error="invalid_token"' : 'Bearer realm="verdict"';
}

/** A header Envoy sets, replacing any value the client sent. */
export function header(key: string, value: string) {
  return { header: { key, value }, appendAction: Append.OVERWRITE_IF_EXISTS_OR_ADD };
}

/** Whether a value may be echoed into an HTTP header as is. */
export function isSafeHeaderValue(value: string): boolean {
  return value.length <= 1024 && SAFE_HEADER_VALUE.test(value);
}

/** What an OK answer changes on the way upstream. */
export interface Upstream {
  readonly headers: readonly { key: string; value: string }[];
  readonly remove: readonly string[];
}

/** An allow: Envoy forwards the request with these header changes. */
export function allowed(upstream: Upstream, metadata: JsonObject): CheckResponse {
  return create(CheckResponseSchema, {
    status: { code: OK },
    httpResponse: { case: "okResponse", value: { headers: upstream.headers.map((h) => header(h.key, h.value)), headersToRemove: [...upstream.remove] } },
    dynamicMetadata: metadata,
  });
}

/**
 * A deny Envoy turns into an HTTP response (status, JSON body, headers), inside a successful
 * RPC: status PERMISSION_DENIED, never a gRPC error that failure_mode_allow could turn into a pass.
 */
export function denied(status: StatusCode, body: JsonObject, metadata: JsonObject, decisionId?: string, invalidToken = false): CheckResponse {
  const headers = [header("content-type", "application/json")];
  if (decisionId !== undefined) headers.push(header("x-verdict-decision-id", decisionId));
  if (status === 401) headers.push(header("www-authenticate", bearerChallenge(invalidToken)));
  return create(CheckResponseSchema, {
    status: { code: PERMISSION_DENIED, message: typeof body["error"] === "string" ? body["error"] : "denied" },
    httpResponse: { case: "deniedResponse", value: { status: { code: status }, headers, body: JSON.stringify(body) } },
    dynamicMetadata: metadata,
  });
}
