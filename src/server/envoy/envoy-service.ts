import { create, fromBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import type { DecisionService } from "../../decision/decision-service.js";
import { toVerdictError } from "../../errors.js";
import { HeaderValueOption_HeaderAppendAction as Append } from "../../gen/envoy/config/core/v3/base_pb.js";
import { Authorization, type CheckResponse, CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../../gen/envoy/type/v3/http_status_pb.js";
import { resolveHttp } from "../../routes/resolve-http.js";
import { serverDefinition } from "../service-definition.js";
import { factsOf } from "./envoy-facts.js";
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

const OK = 0;
const PERMISSION_DENIED = 7;
const SAFE_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * envoy.service.auth.v3.Authorization/Check. Every request-caused problem (undecodable message,
 * no HTTP attributes, unsafe path, missing or bad credentials, no route, a request the schema
 * refuses) is an explicit DeniedHttpResponse in a successful RPC: a gRPC error would leave the
 * outcome to Envoy's failure_mode_allow, which is how past ext_authz bypasses happened.
 */
export function envoyService(decisions: DecisionService, active: ActiveBundle, settings: EnvoySettings, metrics: EnvoyMetrics, inventory: UnmatchedInventory): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const check = async (bytes: Buffer): Promise<CheckResponse> => {
    let req;
    try {
      req = fromBinary(CheckRequestSchema, bytes);
    } catch {
      return denied(StatusCode.BadRequest, "malformed authorization request");
    }
    let facts;
    try {
      facts = factsOf(req);
    } catch {
      return denied(StatusCode.BadRequest, "request header is not valid UTF-8");
    }
    if (facts === undefined) return denied(StatusCode.Forbidden, "no HTTP request to authorize");
    const table = active.snapshot?.routes;
    if (table === undefined) return denied(StatusCode.Forbidden, "the active bundle has no routes.yaml");
    const outcome = await resolveHttp(table, facts);
    if (outcome.kind === "refuse") {
      if (outcome.unmatched !== undefined) {
        metrics.unmatched(facts.method);
        inventory.record(outcome.unmatched);
      }
      return denied(outcome.status, outcome.reason);
    }
    const requestId = facts.headers.get("x-request-id") ?? "";
    let result;
    try {
      result = await decisions.decide(outcome.request, { api: "envoy", requestId });
    } catch (err) {
      const e = toVerdictError(err);
      return denied(e.code === "invalid_argument" || e.code === "limit_exceeded" ? StatusCode.BadRequest : StatusCode.Forbidden, e.message);
    }
    const metadata = { decision: result.decision, decision_id: result.decisionId, determining_policies: [...result.determiningPolicies], bundle_revision: result.bundleRevision };
    if (result.decision === "deny") {
      const res = denied(StatusCode.Forbidden, undefined, result.decisionId);
      res.dynamicMetadata = metadata;
      return res;
    }
    const headers = [header("x-verdict-decision-id", result.decisionId)];
    if (settings.forwardPrincipal && SAFE_HEADER_VALUE.test(outcome.principalId)) headers.push(header("x-verdict-principal", outcome.principalId));
    return create(CheckResponseSchema, {
      status: { code: OK },
      httpResponse: { case: "okResponse", value: { headers, headersToRemove: settings.removeAuthorization ? ["authorization"] : [] } },
      dynamicMetadata: metadata,
    });
  };
  const handler: grpc.handleUnaryCall<Buffer, CheckResponse> = (call, callback) => {
    check(call.request).then(
      (res) => callback(null, res),
      () => callback(null, denied(StatusCode.Forbidden, "internal error")),
    );
  };
  return [serverDefinition(Authorization), { check: handler }];
}

function header(key: string, value: string) {
  return { header: { key, value }, appendAction: Append.OVERWRITE_IF_EXISTS_OR_ADD };
}

/** A deny Envoy turns into an HTTP response; the body says why, never which policies. */
function denied(status: StatusCode, reason: string | undefined, decisionId?: string): CheckResponse {
  const body = JSON.stringify(decisionId === undefined ? { error: reason } : { decision: "deny", decision_id: decisionId });
  const headers = [header("content-type", "application/json")];
  if (status === StatusCode.Unauthorized) headers.push(header("www-authenticate", 'Bearer realm="verdict"'));
  return create(CheckResponseSchema, {
    status: { code: PERMISSION_DENIED, message: reason ?? "denied" },
    httpResponse: { case: "deniedResponse", value: { status: { code: status }, headers, body } },
  });
}
