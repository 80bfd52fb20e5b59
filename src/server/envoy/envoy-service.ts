import { fromBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { Authorization, type CheckRequest, type CheckResponse, CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";
import { toTraceCarrier } from "../../model/trace-carrier.js";
import { decideGatewayRequest, type GatewayDoor, type GatewayMetrics } from "../http/gateway-decision.js";
import { serverDefinition } from "../service-definition.js";
import { factsOf } from "./envoy-facts.js";
import { allowed, denied, isSafeHeaderValue } from "./envoy-responses.js";

/** What the ext_authz answers carry, and how the source address is found. */
export interface EnvoySettings {
  /** Add `x-verdict-principal` to the upstream request on allow. */
  readonly forwardPrincipal: boolean;
  /** Strip the `authorization` header before the request goes upstream (any OK answer). */
  readonly removeAuthorization: boolean;
  /** Envoy's `xff_num_trusted_hops`: 0 uses the downstream peer address. */
  readonly xffTrustedHops: number;
}

/** Counts requests that matched no route, by a bounded method label. */
export type EnvoyMetrics = GatewayMetrics;

/** For a server without metrics. */
export const NO_ENVOY_METRICS: EnvoyMetrics = { unmatched: () => undefined };

/** The header that carries the principal upstream; a client's own copy is always removed. */
const PRINCIPAL_HEADER = "x-verdict-principal";

/**
 * envoy.service.auth.v3.Authorization/Check. Every request-caused problem (undecodable message,
 * no HTTP attributes, unsafe path, missing or bad credentials, no route, a request the schema
 * refuses) is an explicit DeniedHttpResponse in a successful RPC: a gRPC error would leave the
 * outcome to Envoy's failure_mode_allow, which is how past ext_authz bypasses happened.
 */
export function envoyService(door: GatewayDoor, settings: EnvoySettings, traced = false): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const refuse = (status: StatusCode, reason: string, invalidToken = false) => denied(status, { error: reason }, { decision: "deny", reason }, undefined, invalidToken);
  // Whatever OK answer Envoy gets, these never reach the upstream from the client.
  const alwaysRemove = [...(settings.removeAuthorization ? ["authorization"] : []), PRINCIPAL_HEADER];

  const check = async (req: CheckRequest, callMetadata: grpc.Metadata): Promise<CheckResponse> => {
    let facts;
    try {
      facts = factsOf(req, settings.xffTrustedHops);
    } catch {
      return refuse(StatusCode.BadRequest, "a request header is not valid UTF-8");
    }
    if (facts === undefined) return refuse(StatusCode.Forbidden, "no HTTP request to authorize");
    const requestId = facts.headers.get("x-request-id")?.[0] ?? req.attributes?.request?.http?.id ?? "";
    // The client's trace context travels in the HTTP headers Envoy forwards; else the ext_authz call's own.
    const trace = traced ? (toTraceCarrier(facts.headers.get("traceparent"), facts.headers.get("tracestate")) ?? toTraceCarrier(callMetadata.get("traceparent"), callMetadata.get("tracestate"))) : undefined;
    const outcome = await decideGatewayRequest(door, facts, "envoy", requestId, trace);
    if (outcome.kind === "refuse") return refuse(outcome.status, outcome.reason, outcome.invalidToken);
    if (outcome.kind === "failure") return refuse(StatusCode.Forbidden, outcome.reason);
    if (outcome.kind === "pass") return allowed({ headers: [], remove: alwaysRemove }, { decision: "unmatched" });
    const { result, principalId } = outcome;
    const metadata = { decision: result.decision, decision_id: result.decisionId, determining_policies: [...result.determiningPolicies], bundle_revision: result.bundleRevision };
    if (result.decision !== "allow") {
      // The client learns the decision id only; the determining policies go to Envoy's access log.
      return denied(StatusCode.Forbidden, { decision: "deny", decision_id: result.decisionId }, metadata, result.decisionId);
    }
    const headers = [{ key: "x-verdict-decision-id", value: result.decisionId }];
    const forward = settings.forwardPrincipal && isSafeHeaderValue(principalId);
    if (forward) headers.push({ key: PRINCIPAL_HEADER, value: principalId });
    return allowed({ headers, remove: forward ? alwaysRemove.filter((h) => h !== PRINCIPAL_HEADER) : alwaysRemove }, metadata);
  };
  const handler: grpc.handleUnaryCall<Buffer, CheckResponse> = (call, callback) => {
    let req: CheckRequest;
    try {
      req = fromBinary(CheckRequestSchema, call.request);
    } catch {
      // Envoy sends invalid UTF-8 in a string field when a client sends such a header (CVE-2023-27488).
      callback(null, refuse(StatusCode.BadRequest, "malformed authorization request (invalid UTF-8 or encoding)"));
      return;
    }
    check(req, call.metadata).then(
      (res) => callback(null, res),
      () => callback(null, refuse(StatusCode.Forbidden, "internal error")),
    );
  };
  return [serverDefinition(Authorization), { check: handler }];
}
