import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import type { DecisionService } from "../../decision/decision-service.js";
import type { PlanService } from "../../decision/plan-service.js";
import { limitExceeded, toVerdictError } from "../../errors.js";
import { AuthorizationService, BatchCheckResponseSchema, BatchCheckResultSchema } from "../../gen/verdict/v1/authorization_pb.js";
import { toTraceCarrier } from "../../model/trace-carrier.js";
import { serverDefinition, unary, unaryEncoded } from "../service-definition.js";
import { fingerprintCheck } from "./check-fingerprint.js";
import { batchTooLargeEncoded, checkTooLarge } from "./entity-count-scan.js";
import { fromCheckRequest, toBatchError, toCheckResponse } from "./check-mapping.js";
import { fromPlanRequest, toPlanResponse } from "./plan-mapping.js";

/** verdict.v1.AuthorizationService: maps the wire to the model and back; deciding is elsewhere. With `traced`, the caller's W3C trace context is read from the metadata. */
export function authorizationService(decisions: DecisionService, plans: PlanService, traced = false): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const traceOf = (call: grpc.ServerUnaryCall<unknown, unknown>) => (traced ? toTraceCarrier(call.metadata.get("traceparent"), call.metadata.get("tracestate")) : undefined);
  const impl = {
    // A repeated question is answered by the fingerprint of its bytes, without decoding it.
    check: unaryEncoded(AuthorizationService.method.check, async ({ bytes, decode }, call) => {
      const { fingerprint, requestId, canonical } = fingerprintCheck(bytes);
      const question = {
        fingerprint,
        requestId,
        // Far too many entities or parents is refused before decoding builds them.
        precheck: () => checkTooLarge(bytes, decisions.limits),
        decode: () => {
          const message = decode();
          return { request: fromCheckRequest(message), requestId: message.requestId, exact: () => canonical(message) };
        },
      };
      return toCheckResponse(await decisions.decideEncoded(question, { api: "check", trace: traceOf(call) }));
    }),
    batchCheck: unaryEncoded(AuthorizationService.method.batchCheck, async ({ bytes, decode }, call) => {
      const tooLargeEncoded = batchTooLargeEncoded(bytes, decisions.limits);
      if (tooLargeEncoded !== undefined) {
        decisions.refuse("batch", tooLargeEncoded);
        throw tooLargeEncoded;
      }
      const req = decode();
      const max = decisions.limits.maxBatchSize;
      if (req.checks.length > max) throw limitExceeded(`checks: ${req.checks.length} checks is over the batch limit of ${max}`);
      const items = req.checks.map((c, i) => {
        try {
          return { request: fromCheckRequest(c, `checks[${i}].`), requestId: c.requestId };
        } catch (err) {
          return { request: toVerdictError(err), requestId: c.requestId };
        }
      });
      const results = await decisions.decideBatch(items, "batch", traceOf(call));
      return create(BatchCheckResponseSchema, {
        results: results.map((r) =>
          r.ok ? create(BatchCheckResultSchema, { result: { case: "response", value: toCheckResponse(r.result) } }) : toBatchError(r.error),
        ),
      });
    }),
    plan: unary(AuthorizationService.method.plan, async (req) => toPlanResponse(plans.plan(fromPlanRequest(req), req.requestId))),
  };
  return [serverDefinition(AuthorizationService), impl];
}
