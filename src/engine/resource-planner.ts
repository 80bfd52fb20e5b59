import type { EntityJson, Expr, PartialAuthorizationCall, PolicyJson, ResidualResponse, Schema } from "@cedar-policy/cedar-wasm/nodejs";
import { invalidArgument, VerdictError } from "../errors.js";
import type { EntityUid } from "../model/entity.js";
import { formatUid } from "../model/entity.js";
import type { PlanRequest } from "../model/plan-request.js";
import type { Plan } from "../model/resource-filter.js";
import { toCedarRecord, toCedarUid } from "./cedar-json.js";
import { CedarRuntime } from "./cedar-runtime.js";
import { type Cond, FilterBuilder } from "./filter-builder.js";
import type { PolicyEntry } from "./policy-catalog.js";
import type { RequestEntities } from "./request-entities.js";
import { residualCondition, type Tri } from "./residual-filter.js";
import type { SchemaHints } from "./schema-hints.js";

/** What planning reads of a compiled bundle. */
export interface PlannerParts {
  readonly runtime: CedarRuntime;
  readonly policies: readonly PolicyEntry[];
  readonly schema: Schema | undefined;
  readonly staticEntities: readonly EntityJson[];
  readonly hints: SchemaHints;
  readonly defaultActionType: string;
  /** Strict mode: a forbid whose evaluation errors denies, in plans as in decisions. */
  readonly strict: boolean;
  readonly requestEntities: RequestEntities;
}

/** Filter nodes one plan may build; past it the plan is refused as too complex. */
const FILTER_BUDGET = 20_000;
/** The id of the resource in the probe that tells an erroring residual part from one not understood. */
const PROBE_RESOURCE_ID = "verdict-plan-probe";

/**
 * Plans "which resources of type T may this principal do action A on?" with Cedar's partial
 * evaluation: the request goes to `isAuthorizedPartial` with the resource unknown, and each
 * policy's residual becomes a resource filter (see residual-filter.ts). The policies combine as
 * Cedar combines them: allowed iff some permit holds and no forbid does, where in strict mode
 * a forbid whose condition errors for a resource counts as holding (Check denies it).
 *
 * Every policy of the bundle is planned, never a slice: slicing selects on the resource, which
 * is what is unknown here.
 */
export class ResourcePlanner {
  readonly #parts: PlannerParts;
  /** Policy text (exact: a policy's JSON form read into JS loses longs beyond 2^53). */
  readonly #policies: Record<string, string>;
  /** The schema in its JSON form, which Cedar parses in about half the time of its text, on every plan. */
  readonly #schema: Schema | undefined;

  constructor(parts: PlannerParts) {
    this.#parts = parts;
    this.#policies = Object.fromEntries(parts.policies.map((p) => [p.id, p.text]));
    const schema = parts.schema;
    const json = typeof schema === "string" ? parts.runtime.cedar.schemaToJson(schema) : undefined;
    this.#schema = json?.type === "success" ? json.json : schema;
  }

  /** Plans one request; throws `invalid_argument` for a bad request, `failed_precondition` for a policy no filter can express. */
  plan(req: PlanRequest): Plan {
    const parts = this.#parts;
    const action = req.action.type === "" ? { type: parts.defaultActionType, id: req.action.id } : req.action;
    this.#checkTypes(action, req.resourceType);
    const entities: EntityJson[] = [];
    parts.requestEntities.load(req, entities);
    for (const e of parts.staticEntities) entities.push(e);
    const call: PartialAuthorizationCall = {
      principal: toCedarUid(req.principal.uid),
      action: toCedarUid(action),
      resource: null,
      context: toCedarRecord(req.context),
      policies: { staticPolicies: this.#policies },
      entities,
    };
    if (this.#schema !== undefined) {
      call.schema = this.#schema;
      call.validateRequest = true;
    }
    const response = this.#residuals(call);
    const build = new FilterBuilder(FILTER_BUDGET);
    const ancestors = new Set<string>();
    const selfAndAncestors = (uid: EntityUid): EntityUid[] => {
      parts.requestEntities.ancestorsOf(uid, ancestors);
      return [uid, ...[...ancestors].map(fromUidKey)];
    };
    const permits: Cond[] = [];
    const forbids: Cond[] = [];
    const permitPolicies: string[] = [];
    const forbidPolicies: string[] = [];
    const errored = new Set(response.errored);
    for (const policy of parts.policies) {
      const residual = response.residuals[policy.id];
      let tri: Tri;
      if (errored.has(policy.id)) tri = { t: false, f: false, e: true };
      else if (residual === undefined) throw new VerdictError("internal", `Cedar returned no residual for policy "${policy.id}"`);
      else {
        tri = residualCondition(conditionOf(residual), {
          policyId: policy.id,
          resourceType: req.resourceType,
          shape: parts.hints.present ? parts.hints.attributes.get(req.resourceType) : undefined,
          selfAndAncestors,
          errors: (expr) => this.#errors(expr, call, req.resourceType),
          build,
        });
      }
      if (policy.effect === "permit") {
        if (tri.t !== false) permitPolicies.push(policy.id);
        permits.push(tri.t);
      } else {
        const applies = parts.strict ? build.or(tri.t, tri.e) : tri.t;
        if (applies !== false) forbidPolicies.push(policy.id);
        forbids.push(applies);
      }
    }
    const allowed = build.and(build.or(...permits), build.not(build.or(...forbids)));
    // Like Check's determining policies: permits explain an allow, forbids a deny.
    if (allowed === true) return { kind: "always_allowed", permitPolicies, forbidPolicies: [] };
    if (allowed === false) return { kind: "always_denied", permitPolicies: [], forbidPolicies };
    return { kind: "conditional", filter: allowed, permitPolicies, forbidPolicies };
  }

  /** Under a schema, the action must exist and apply to the resource type, as Check requires of every resource. */
  #checkTypes(action: EntityUid, resourceType: string): void {
    const hints = this.#parts.hints;
    if (!hints.present) return;
    const applies = hints.resourceTypes.get(`${action.type}/${action.id}`);
    if (applies === undefined) throw invalidArgument(`action: ${formatUid(action)} is not an action of the bundle's schema`);
    if (!hints.attributes.has(resourceType)) throw invalidArgument(`resource_type: ${JSON.stringify(resourceType)} is not an entity type of the bundle's schema`);
    if (!applies.has(resourceType)) {
      const list = [...applies].join(", ") || "no resource type";
      throw invalidArgument(`resource_type: action ${formatUid(action)} does not apply to ${resourceType} (it applies to ${list})`);
    }
  }

  #residuals(call: PartialAuthorizationCall): ResidualResponse {
    const runtime = this.#parts.runtime;
    let answer;
    try {
      answer = runtime.cedar.isAuthorizedPartial(call);
    } catch (err) {
      if (CedarRuntime.isTrap(err)) {
        runtime.recycle();
        throw new VerdictError("internal", "the Cedar engine trapped on this plan and was restarted", { cause: err });
      }
      throw invalidArgument(`Cedar could not read the request: ${(err as Error).message ?? String(err)}`, err);
    }
    if (answer.type === "failure") throw invalidArgument(answer.errors.map((e) => e.message).join("; "));
    return answer.response;
  }

  /**
   * Whether a residual part that does not involve the resource errors. Cedar leaves such a
   * part unevaluated only when evaluating it failed (an overflow, a missing entity); this asks
   * Cedar to confirm it, concretely, rather than assume it.
   */
  #errors(expr: Expr, call: PartialAuthorizationCall, resourceType: string): boolean {
    const probe: PolicyJson = {
      effect: "permit",
      principal: { op: "All" },
      action: { op: "All" },
      resource: { op: "All" },
      conditions: [{ kind: "when", body: { "==": { left: expr, right: expr } } }],
    };
    const runtime = this.#parts.runtime;
    try {
      const answer = runtime.cedar.isAuthorized({
        principal: call.principal!,
        action: call.action!,
        resource: { type: resourceType, id: PROBE_RESOURCE_ID },
        context: call.context,
        policies: { staticPolicies: { probe } },
        entities: call.entities,
        ...(call.schema === undefined ? {} : { schema: call.schema }),
      });
      return answer.type === "success" && answer.response.diagnostics.errors.length > 0;
    } catch (err) {
      // Not confirmed: the caller refuses the plan.
      if (CedarRuntime.isTrap(err)) runtime.recycle();
      return false;
    }
  }
}

/** A residual policy's whole condition: its scope is folded into its clauses (`unless c` is `!c`). */
function conditionOf(residual: PolicyJson): Expr {
  const all = residual.principal.op === "All" && residual.action.op === "All" && residual.resource.op === "All";
  if (!all) throw new VerdictError("internal", "a residual policy kept a scope constraint");
  let body: Expr = { Value: true };
  for (const clause of residual.conditions) {
    const c: Expr = clause.kind === "when" ? clause.body : { "!": { arg: clause.body } };
    body = { "&&": { left: body, right: c } };
  }
  return body;
}

/** The uid a `uidKey` was made from (a type name cannot contain NUL). */
function fromUidKey(key: string): EntityUid {
  const cut = key.indexOf("\u0000");
  return { type: key.slice(0, cut), id: key.slice(cut + 1) };
}
