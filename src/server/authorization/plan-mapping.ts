import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import type { Value } from "../../model/entity.js";
import type { PlanRequest as ModelPlanRequest } from "../../model/plan-request.js";
import type { ComparisonOp, Operand, Plan, PlanKind as ModelPlanKind, PlanResult, ResourceFilter } from "../../model/resource-filter.js";
import {
  ComparisonOperator,
  type Filter,
  FilterSchema,
  type Operand as PbOperand,
  OperandSchema,
  PlanKind,
  type PlanRequest,
  type PlanResponse,
  PlanResponseSchema,
  type Value as PbValue,
  ValueSchema,
} from "../../gen/verdict/v1/authorization_pb.js";
import { fromEntity, fromFields, fromValue } from "./check-mapping.js";

/** Maps a decoded verdict.v1 PlanRequest to the model; limits and schema checks come later, in the decision path. */
export function fromPlanRequest(req: PlanRequest): ModelPlanRequest {
  if (req.principal === undefined) throw invalidArgument("principal: required");
  if (req.action === undefined) throw invalidArgument("action: required");
  return {
    principal: fromEntity(req.principal, "principal"),
    action: { type: req.action.type, id: req.action.id },
    resourceType: req.resourceType,
    context: fromFields(req.context, "context"),
    entities: req.entities.map((e, i) => fromEntity(e, `entities[${i}]`)),
  };
}

const KINDS: Record<ModelPlanKind, PlanKind> = {
  always_allowed: PlanKind.ALWAYS_ALLOWED,
  always_denied: PlanKind.ALWAYS_DENIED,
  conditional: PlanKind.CONDITIONAL,
};
const OPERATORS: Record<ComparisonOp, ComparisonOperator> = {
  "==": ComparisonOperator.EQ,
  "!=": ComparisonOperator.NE,
  "<": ComparisonOperator.LT,
  "<=": ComparisonOperator.LE,
  ">": ComparisonOperator.GT,
  ">=": ComparisonOperator.GE,
};

/** Maps a plan to the wire response. */
export function toPlanResponse(r: PlanResult): PlanResponse {
  return create(PlanResponseSchema, {
    kind: KINDS[r.kind],
    ...(r.kind === "conditional" ? { filter: toFilter(r.filter) } : {}),
    bundleRevision: r.bundleRevision,
    requestId: r.requestId,
    permitPolicies: [...r.permitPolicies],
    forbidPolicies: [...r.forbidPolicies],
  });
}

function toFilter(f: ResourceFilter): Filter {
  return create(FilterSchema, { node: toNode(f) });
}

function toNode(f: ResourceFilter): MessageInitShape<typeof FilterSchema>["node"] {
  switch (f.op) {
    case "and":
    case "or":
      return { case: f.op, value: { filters: f.args.map(toFilter) } };
    case "not":
      return { case: "not", value: toFilter(f.arg) };
    case "in":
      return { case: "in", value: { entity: toOperand(f.left), ancestor: f.ancestor } };
    case "contains":
      return { case: "contains", value: { set: toOperand(f.set), element: toOperand(f.element) } };
    case "has":
      return { case: "has", value: { names: [...f.path] } };
    case "like": {
      const pattern = f.pattern.map((p) => ({ kind: "literal" in p ? { case: "literal" as const, value: p.literal } : { case: "wildcard" as const, value: true } }));
      return { case: "like", value: { operand: toOperand(f.left), pattern } };
    }
    default:
      return { case: "compare", value: { op: OPERATORS[f.op], left: toOperand(f.left), right: toOperand(f.right) } };
  }
}

function toOperand(o: Operand): PbOperand {
  switch (o.kind) {
    case "resource":
      return create(OperandSchema, { kind: { case: "resource", value: {} } });
    case "attribute":
      return create(OperandSchema, { kind: { case: "attribute", value: { names: [...o.path] } } });
    case "value":
      return create(OperandSchema, { kind: { case: "value", value: toValue(o.value) } });
  }
}

/** Maps a model value to the wire (the inverse of `fromValue`). */
function toValue(v: Value): PbValue {
  switch (v.kind) {
    case "bool":
      return create(ValueSchema, { kind: { case: "bool", value: v.value } });
    case "string":
      return create(ValueSchema, { kind: { case: "string", value: v.value } });
    case "long":
      return create(ValueSchema, { kind: { case: "long", value: BigInt(v.value) } });
    case "set":
      return create(ValueSchema, { kind: { case: "set", value: { values: v.values.map(toValue) } } });
    case "record":
      return create(ValueSchema, { kind: { case: "record", value: { fields: Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, toValue(x)])) } } });
    case "entity":
      return create(ValueSchema, { kind: { case: "entity", value: v.uid } });
    case "extension":
      return create(ValueSchema, { kind: { case: "extension", value: { fn: v.fn, arg: v.arg } } });
  }
}

/** Reads a wire plan back into the model (for the CLI's SQL output from a remote server). */
export function fromPlanResponse(r: PlanResponse): Plan {
  const lists = { permitPolicies: r.permitPolicies, forbidPolicies: r.forbidPolicies };
  switch (r.kind) {
    case PlanKind.ALWAYS_ALLOWED:
      return { kind: "always_allowed", ...lists };
    case PlanKind.ALWAYS_DENIED:
      return { kind: "always_denied", ...lists };
    case PlanKind.CONDITIONAL:
      if (r.filter === undefined) throw invalidArgument("filter: required for a CONDITIONAL plan");
      return { kind: "conditional", filter: fromFilter(r.filter, "filter"), ...lists };
    default:
      throw invalidArgument(`kind: ${r.kind} is not a plan kind`);
  }
}

const OPERATOR_OF = new Map(Object.entries(OPERATORS).map(([op, pb]) => [pb, op as ComparisonOp]));

function fromFilter(f: Filter, field: string): ResourceFilter {
  const n = f.node;
  switch (n.case) {
    case "and":
    case "or":
      return { op: n.case, args: n.value.filters.map((x, i) => fromFilter(x, `${field}.${n.case}[${i}]`)) };
    case "not":
      return { op: "not", arg: fromFilter(n.value, `${field}.not`) };
    case "compare": {
      const op = OPERATOR_OF.get(n.value.op);
      if (op === undefined) throw invalidArgument(`${field}.compare.op: not set`);
      return { op, left: fromOperand(n.value.left, `${field}.compare.left`), right: fromOperand(n.value.right, `${field}.compare.right`) };
    }
    case "in":
      if (n.value.ancestor === undefined) throw invalidArgument(`${field}.in.ancestor: required`);
      return { op: "in", left: fromOperand(n.value.entity, `${field}.in.entity`), ancestor: { type: n.value.ancestor.type, id: n.value.ancestor.id } };
    case "contains":
      return { op: "contains", set: fromOperand(n.value.set, `${field}.contains.set`), element: fromOperand(n.value.element, `${field}.contains.element`) };
    case "has":
      return { op: "has", path: n.value.names };
    case "like":
      return {
        op: "like",
        left: fromOperand(n.value.operand, `${field}.like.operand`),
        pattern: n.value.pattern.map((p) => (p.kind.case === "literal" ? { literal: p.kind.value } : { wildcard: true as const })),
      };
    case undefined:
      throw invalidArgument(`${field}: no node kind set`);
  }
}

function fromOperand(o: PbOperand | undefined, field: string): Operand {
  switch (o?.kind.case) {
    case "resource":
      return { kind: "resource" };
    case "attribute":
      return { kind: "attribute", path: o.kind.value.names };
    case "value":
      return { kind: "value", value: fromValue(o.kind.value, field) };
    default:
      throw invalidArgument(`${field}: required`);
  }
}
