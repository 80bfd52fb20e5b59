import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { CheckRequest, Entity, Value } from "../../src/gen/verdict/v1/authorization_pb.js";

/**
 * A wire request in Cedar's JSON forms, written independently of Verdict's mapping: the
 * oracle's input, shared by the tests and the bench scripts (from dist/test/helpers).
 */
export function cedarRequestOf(req: CheckRequest) {
  const uid = (u: { type: string; id: string } | undefined) => ({ type: u!.type, id: u!.id });
  const val = (v: Value): unknown => {
    const k = v.kind;
    switch (k.case) {
      case "bool": case "string": return k.value;
      case "long": return Number(k.value);
      case "set": return k.value.values.map(val);
      case "record": return Object.fromEntries(Object.entries(k.value.fields).map(([a, b]) => [a, val(b)]));
      case "entity": return { __entity: uid(k.value) };
      case "extension": return { __extn: { fn: k.value.fn, arg: k.value.arg } };
      default: throw new Error("no kind");
    }
  };
  const rec = (m: { [k: string]: Value }) => Object.fromEntries(Object.entries(m).map(([a, b]) => [a, val(b)]));
  const ent = (e: Entity) => ({ uid: uid(e.uid), attrs: rec(e.attrs), parents: e.parents.map(uid) });
  return {
    principal: uid(req.principal!.uid),
    action: uid(req.action),
    resource: uid(req.resource!.uid),
    context: rec(req.context),
    /** The request's own entities: principal, resource, then the rest. */
    entities: [ent(req.principal!), ent(req.resource!), ...req.entities.map(ent)],
  };
}

/** The oracle: cedar-wasm's stateless `isAuthorized` on a request converted by `cedarRequestOf`. */
export function oracle(req: CheckRequest, policies: Record<string, string>, staticEntities: unknown[], schema?: string) {
  const call = cedarRequestOf(req);
  const answer = cedar.isAuthorized({
    ...call,
    context: call.context as never,
    policies: { staticPolicies: policies },
    entities: [...staticEntities, ...call.entities] as never,
    ...(schema ? { schema, validateRequest: true } : {}),
  });
  if (answer.type !== "success") return { error: answer.errors.map((e) => e.message).join("; ") };
  return { decision: answer.response.decision, reasons: [...answer.response.diagnostics.reason].sort(), errors: answer.response.diagnostics.errors };
}
