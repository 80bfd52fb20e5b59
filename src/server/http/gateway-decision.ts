import { pathTooLong } from "../../decision/request-limits.js";
import type { TraceCarrier } from "../../model/trace-carrier.js";
import type { ActiveBundle } from "../../bundle/active-bundle.js";
import type { DecisionService } from "../../decision/decision-service.js";
import { toVerdictError } from "../../errors.js";
import type { Api } from "../../model/authz-request.js";
import type { DecisionResult } from "../../model/decision.js";
import type { HttpFacts } from "../../routes/http-facts.js";
import { resolveHttp } from "../../routes/resolve-http.js";
import type { UnmatchedInventory } from "../envoy/unmatched-inventory.js";

/** Counts requests that matched no route, by a bounded method label. */
export interface GatewayMetrics {
  unmatched(method: string): void;
}

/** What a gateway front door decides with: the shared decision path and the bundle's routes. */
export interface GatewayDoor {
  readonly decisions: DecisionService;
  readonly active: ActiveBundle;
  readonly metrics: GatewayMetrics;
  readonly inventory: UnmatchedInventory;
}

/**
 * A gateway request's outcome, before any wire format: a refusal the request caused (4xx), a
 * server-side failure (no routes, no bundle, an engine fault), an unmatched request the route
 * table lets through, or a decision.
 */
export type GatewayOutcome =
  | { readonly kind: "refuse"; readonly status: 400 | 401 | 403 | 414; readonly reason: string; readonly invalidToken?: boolean }
  | { readonly kind: "failure"; readonly unavailable: boolean; readonly reason: string }
  | { readonly kind: "pass" }
  | { readonly kind: "decided"; readonly result: DecisionResult; readonly principalId: string };

/**
 * The one path every HTTP gateway door (Envoy ext_authz, forward-auth) takes: routes.yaml
 * mapping, principal sources, normalization, the unmatched inventory, then the shared decision
 * path (cache, metrics under `api`, decision log). Never throws.
 */
export async function decideGatewayRequest(door: GatewayDoor, facts: HttpFacts, api: Api, requestId: string, trace?: TraceCarrier): Promise<GatewayOutcome> {
  // Before routing or normalizing anything: a path over the limit costs no more.
  const longPath = pathTooLong(facts.target, door.decisions.limits);
  if (longPath !== undefined) {
    door.decisions.refuse(api, longPath);
    return { kind: "refuse", status: 414, reason: longPath.message };
  }
  const table = door.active.snapshot?.routes;
  if (table === undefined) return { kind: "failure", unavailable: door.active.snapshot === undefined, reason: door.active.snapshot === undefined ? "no active bundle" : "the active bundle has no routes.yaml" };
  let outcome;
  try {
    outcome = await resolveHttp(table, facts);
  } catch {
    return { kind: "failure", unavailable: false, reason: "internal error" };
  }
  if (outcome.kind === "refuse") return outcome;
  const source = "address" in facts.source ? facts.source.address : "";
  if (outcome.kind === "unmatched") {
    door.metrics.unmatched(outcome.method);
    door.inventory.record(outcome.method, outcome.template, source);
    return outcome.allow ? { kind: "pass" } : { kind: "refuse", status: 403, reason: "no route matches this request" };
  }
  try {
    const origin = { route: `${facts.method.toUpperCase()} ${outcome.route.path.source}`, deprecated: outcome.route.deprecated, source };
    const result = await door.decisions.decide(outcome.request, { api, requestId, trace, origin });
    return { kind: "decided", result, principalId: outcome.principalId };
  } catch (err) {
    const e = toVerdictError(err);
    if (e.code === "invalid_argument" || e.code === "limit_exceeded") return { kind: "refuse", status: 400, reason: e.message };
    return { kind: "failure", unavailable: e.code === "unavailable", reason: e.code === "internal" ? "internal error" : e.message };
  }
}
