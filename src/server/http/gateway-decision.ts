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
  | { readonly kind: "refuse"; readonly status: 400 | 401 | 403; readonly reason: string; readonly invalidToken?: boolean }
  | { readonly kind: "failure"; readonly unavailable: boolean; readonly reason: string }
  | { readonly kind: "pass" }
  | { readonly kind: "decided"; readonly result: DecisionResult; readonly principalId: string };

/**
 * The one path every HTTP gateway door (Envoy ext_authz, forward-auth) takes: routes.yaml
 * mapping, principal sources, normalization, the unmatched inventory, then the shared decision
 * path (cache, metrics under `api`, decision log). Never throws.
 */
export async function decideGatewayRequest(door: GatewayDoor, facts: HttpFacts, api: Api, requestId: string): Promise<GatewayOutcome> {
  const table = door.active.snapshot?.routes;
  if (table === undefined) return { kind: "failure", unavailable: door.active.snapshot === undefined, reason: door.active.snapshot === undefined ? "no active bundle" : "the active bundle has no routes.yaml" };
  let outcome;
  try {
    outcome = await resolveHttp(table, facts);
  } catch {
    return { kind: "failure", unavailable: false, reason: "internal error" };
  }
  if (outcome.kind === "refuse") return outcome;
  if (outcome.kind === "unmatched") {
    door.metrics.unmatched(outcome.method);
    door.inventory.record(outcome.method, outcome.template);
    return outcome.allow ? { kind: "pass" } : { kind: "refuse", status: 403, reason: "no route matches this request" };
  }
  try {
    const result = await door.decisions.decide(outcome.request, { api, requestId });
    return { kind: "decided", result, principalId: outcome.principalId };
  } catch (err) {
    const e = toVerdictError(err);
    if (e.code === "invalid_argument" || e.code === "limit_exceeded") return { kind: "refuse", status: 400, reason: e.message };
    return { kind: "failure", unavailable: e.code === "unavailable", reason: e.code === "internal" ? "internal error" : e.message };
  }
}
