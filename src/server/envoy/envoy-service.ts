import { fromBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import type { DecisionService } from "../../decision/decision-service.js";
import { toVerdictError } from "../../errors.js";
import { Authorization, type CheckRequest, type CheckResponse, CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";
import { resolveHttp } from "../../routes/resolve-http.js";
import { toTraceCarrier } from "../../model/trace-carrier.js";
import { serverDefinition } from "../service-definition.js";
import { factsOf } from "./envoy-facts.js";
import { allowed, denied, isSafeHeaderValue } from "./envoy-responses.js";
import type { UnmatchedInventory } from "./unmatched-inventory.js";

/** What the ext_authz answers carry. */
export interface EnvoySettings {
  /** Add `x-verdict-principal` to the upstream request on allow. */
  readonly forwardPrincipal: boolean;
  /** Strip the `authorization` header before the request goes upstream. */
  readonly removeAuthorization: boolean;
}

/** Counts requests that matched no route, by a bounded method label. */
export interface EnvoyMetrics {
  unmatched(method: string): void;
}

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
export function envoyService(
  decisions: DecisionService,
  active: ActiveBundle,
  settings: EnvoySettings,
  metrics: EnvoyMetrics,
  inventory: UnmatchedInventory,
  traced = false,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const refuse = (status: StatusCode, reason: string) => denied(status, { error: reason }, { decision: "deny", reason });

  const check = async (req: CheckRequest, callMetadata: grpc.Metadata): Promise<CheckResponse> => {
    let facts;
    try {
      facts = factsOf(req);
    } catch {
      return refuse(StatusCode.BadRequest, "a request header is not valid UTF-8");
    }
    if (facts === undefined) return refuse(StatusCode.Forbidden, "no HTTP request to authorize");
    const table = active.snapshot?.routes;
    if (table === undefined) return refuse(StatusCode.Forbidden, "the active bundle has no routes.yaml");
    const outcome = await resolveHttp(table, facts);
    if (outcome.kind === "refuse") return refuse(outcome.status, outcome.reason);
    if (outcome.kind === "unmatched") {
      metrics.unmatched(outcome.method);
      inventory.record(outcome.method, outcome.template, facts.sourceAddress);
      if (!outcome.allow) return refuse(StatusCode.Forbidden, "no route matches this request");
      return allowed({ headers: [], remove: [PRINCIPAL_HEADER] }, { decision: "unmatched" });
    }
    const requestId = facts.headers.get("x-request-id") ?? req.attributes?.request?.http?.id ?? "";
    let result;
    try {
      // The client's trace context travels in the HTTP headers Envoy forwards; else the ext_authz call's own.
      const trace = traced ? (toTraceCarrier(facts.headers.get("traceparent"), facts.headers.get("tracestate")) ?? toTraceCarrier(callMetadata.get("traceparent"), callMetadata.get("tracestate"))) : undefined;
      const origin = { route: `${facts.method.toUpperCase()} ${outcome.route.path.source}`, deprecated: outcome.route.deprecated, source: facts.sourceAddress };
      result = await decisions.decide(outcome.request, { api: "envoy", requestId, trace, origin });
    } catch (err) {
      const e = toVerdictError(err);
      return refuse(e.code === "invalid_argument" || e.code === "limit_exceeded" ? StatusCode.BadRequest : StatusCode.Forbidden, e.code === "internal" ? "internal error" : e.message);
    }
    const metadata = { decision: result.decision, decision_id: result.decisionId, determining_policies: [...result.determiningPolicies], bundle_revision: result.bundleRevision };
    if (result.decision !== "allow") {
      // The client learns the decision id only; the determining policies go to Envoy's access log.
      return denied(StatusCode.Forbidden, { decision: "deny", decision_id: result.decisionId }, metadata, result.decisionId);
    }
    const headers = [{ key: "x-verdict-decision-id", value: result.decisionId }];
    const remove = settings.removeAuthorization ? ["authorization"] : [];
    if (settings.forwardPrincipal && isSafeHeaderValue(outcome.principalId)) headers.push({ key: PRINCIPAL_HEADER, value: outcome.principalId });
    else remove.push(PRINCIPAL_HEADER);
    return allowed({ headers, remove }, metadata);
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
