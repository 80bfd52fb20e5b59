import { create } from "@bufbuild/protobuf";
import { invalidArgument, type VerdictError } from "../../errors.js";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { CacheStatus as ModelCacheStatus, DecisionResult } from "../../model/decision.js";
import type { Entity, EntityUid, Value } from "../../model/entity.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import {
  type BatchCheckResult,
  BatchCheckResultSchema,
  CacheStatus,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
  Decision,
  type Entity as PbEntity,
  type EntityUid as PbEntityUid,
  type Value as PbValue,
} from "../../gen/verdict/v1/authorization_pb.js";
import { grpcCodeOf } from "../grpc-status.js";

/**
 * Maps a decoded verdict.v1 CheckRequest to the model. Structural problems (missing parts,
 * a value with no kind) are refused here with the field's path; limits and Cedar's input
 * rules are the decision path's guard, shared by every front door.
 */
export function fromCheckRequest(req: CheckRequest, field = ""): AuthzRequest {
  if (req.principal === undefined) throw invalidArgument(`${field}principal: required`);
  if (req.action === undefined) throw invalidArgument(`${field}action: required`);
  if (req.resource === undefined) throw invalidArgument(`${field}resource: required`);
  return {
    principal: fromEntity(req.principal, `${field}principal`),
    action: { type: req.action.type, id: req.action.id },
    resource: fromEntity(req.resource, `${field}resource`),
    context: fromFields(req.context, `${field}context`),
    entities: req.entities.map((e, i) => fromEntity(e, `${field}entities[${i}]`)),
  };
}

function fromUid(uid: PbEntityUid | undefined, field: string): EntityUid {
  if (uid === undefined) throw invalidArgument(`${field}: required`);
  return { type: uid.type, id: uid.id };
}

/** Maps one wire entity; `field` names it in error messages. */
export function fromEntity(e: PbEntity, field: string): Entity {
  return {
    uid: fromUid(e.uid, `${field}.uid`),
    attrs: fromFields(e.attrs, `${field}.attrs`),
    parents: e.parents.map((p, i) => fromUid(p, `${field}.parents[${i}]`)),
    tags: fromFields(e.tags, `${field}.tags`),
  };
}

/** Copies a map onto a prototype-free object, so keys like `__proto__` stay plain data. */
export function fromFields(fields: { [key: string]: PbValue }, field: string): Record<string, Value> {
  const out = Object.create(null) as Record<string, Value>;
  for (const key of Object.keys(fields)) out[key] = fromValue(fields[key]!, `${field}.${key}`);
  return out;
}

/** Maps one wire value; `field` names it in error messages. */
export function fromValue(v: PbValue, field: string): Value {
  const k = v.kind;
  switch (k.case) {
    case "bool":
      return { kind: "bool", value: k.value };
    case "long": {
      const n = k.value;
      if (n > 9007199254740991n || n < -9007199254740991n) {
        throw invalidArgument(`${field}: long ${n} is outside ±(2^53−1) and cannot be represented exactly`);
      }
      return { kind: "long", value: Number(n) };
    }
    case "string":
      return { kind: "string", value: k.value };
    case "set":
      return { kind: "set", values: k.value.values.map((x, i) => fromValue(x, `${field}[${i}]`)) };
    case "record":
      return { kind: "record", fields: fromFields(k.value.fields, field) };
    case "entity":
      return { kind: "entity", uid: fromUid(k.value, field) };
    case "extension":
      return { kind: "extension", fn: k.value.fn, arg: k.value.arg };
    case undefined:
      throw invalidArgument(`${field}: a value must set exactly one kind (bool, long, string, set, record, entity, extension)`);
  }
}

const CACHE: Record<ModelCacheStatus, CacheStatus> = {
  miss: CacheStatus.MISS,
  hit_local: CacheStatus.HIT_LOCAL,
  hit_shared: CacheStatus.HIT_SHARED,
  bypass: CacheStatus.BYPASS,
};

/** Maps a decision to the wire response. */
export function toCheckResponse(r: DecisionResult): CheckResponse {
  return create(CheckResponseSchema, {
    decision: r.decision === "allow" ? Decision.ALLOW : Decision.DENY,
    determiningPolicies: [...r.determiningPolicies],
    errors: r.errors.map((e) => ({ policyId: e.policyId, message: e.message })),
    decisionId: r.decisionId,
    bundleRevision: r.bundleRevision,
    cache: CACHE[r.cache],
    requestId: r.requestId,
  });
}

/** Maps a batch item's refusal to a google.rpc.Status result. */
export function toBatchError(err: VerdictError): BatchCheckResult {
  const status = create(StatusSchema, { code: grpcCodeOf(err), message: err.message });
  return create(BatchCheckResultSchema, { result: { case: "error", value: status } });
}
