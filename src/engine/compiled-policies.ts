import type { EntityJson, Schema, StatefulAuthorizationCall } from "@cedar-policy/cedar-wasm/nodejs";
import { invalidArgument, VerdictError } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation, EvaluationError } from "../model/decision.js";
import type { PlanRequest } from "../model/plan-request.js";
import type { Plan } from "../model/resource-filter.js";
import { CedarRuntime } from "./cedar-runtime.js";
import { toCedarRecord, toCedarUid } from "./cedar-json.js";
import { EntityGraph } from "./entity-graph.js";
import type { PolicyEntry } from "./policy-catalog.js";
import type { PolicySources } from "./policy-sources.js";
import { compileBundle } from "./compiled/compile-bundle.js";
import { EVALUATOR_DEFAULTS, EvaluatorChoice, type EvaluatorSettings } from "./evaluator-choice.js";
import { ActionHierarchy, policyScope, uidKey } from "./policy-scope.js";
import { PolicySlicer, type ScopeRequest } from "./policy-slicer.js";
import { RequestEntities } from "./request-entities.js";
import { ResourcePlanner } from "./resource-planner.js";
import type { SchemaHints } from "./schema-hints.js";
import { type Slice, SliceCache } from "./slice-cache.js";

/** How the engine treats evaluation errors, and how it narrows what Cedar is given. */
export interface EvaluationOptions extends EvaluatorSettings {
  /**
   * Strict (the default): a `forbid` whose evaluation errors denies, because Cedar would skip
   * it and a guard that cannot be evaluated must not open access. Off: Cedar's skip semantics.
   */
  readonly strict: boolean;
  /**
   * On (the default): each request is evaluated against only the policies whose scope can
   * match it, with only the static entities it can reach. Off: the whole bundle, every call.
   */
  readonly slicing?: boolean;
  /** Preparsed slices kept per bundle (least recently used are replaced). */
  readonly maxSlices?: number;
  /** Also select policies on the principal's ancestors (`principal in Group`); see PolicySlicer. */
  readonly sliceByPrincipalAncestry?: boolean;
}

/** Defaults of the optional evaluation settings. */
export const SLICING_DEFAULTS = { slicing: true, maxSlices: 2048, sliceByPrincipalAncestry: false } as const;

/** What a compiled bundle is made of; kept so it can be re-preparsed into a fresh instance. */
export interface CompiledParts {
  readonly policies: readonly PolicyEntry[];
  readonly schema: Schema | undefined;
  readonly staticEntities: readonly EntityJson[];
  /** `Action` type used when a request's action has an empty type. */
  readonly defaultActionType: string;
  /** Which attributes the schema types as extensions or entity references. */
  readonly hints: SchemaHints;
  /** The schema's action hierarchy; undefined without a schema. */
  readonly actionHierarchy?: ActionHierarchy | undefined;
  /** The sources compiled, so another Cedar instance (an evaluation worker) can compile them too. */
  readonly sources: PolicySources;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
let nextSetId = 0;
const isActionType = (type: string) => type === "Action" || type.endsWith("::Action");
// Retired bundles hand their preparsed sets back to the runtime.
const retired = new FinalizationRegistry<SliceCache>((cache) => cache.release());

/**
 * A bundle's policies preparsed in the Cedar runtime, ready to decide. Immutable: a new
 * bundle is a new instance, so a decision reads one consistent revision.
 *
 * A request is evaluated against the slice of policies whose scope can match it (preparsed on
 * first use, see SliceCache) and the static entities it can reach (see EntityGraph): Cedar
 * checks a scope before a condition and reads only entities reachable from the request and
 * the policy text, so the answer is exactly that of the whole bundle.
 */
export class CompiledPolicies {
  readonly policies: readonly PolicyEntry[];
  readonly hasSchema: boolean;
  readonly defaultActionType: string;
  /** Which attributes the schema types as extensions or entity references. */
  readonly hints: SchemaHints;
  readonly #runtime: CedarRuntime;
  readonly #parts: CompiledParts;
  readonly #strict: boolean;
  readonly #slicing: boolean;
  readonly #setId = `verdict-${nextSetId++}`;
  readonly #forbids: ReadonlySet<string>;
  /** Policy id → position in the bundle, to report policies in bundle order. */
  readonly #order = new Map<string, number>();
  readonly #graph: EntityGraph;
  readonly #requestEntities: RequestEntities;
  readonly #slicer: PolicySlicer;
  readonly #slices: SliceCache;
  readonly #planner: ResourcePlanner;
  /** Static entities reached by each policy's entity literals. */
  readonly #literalEntities: Int32Array[];
  readonly #all: Int32Array;
  // Scratch reused by every call (evaluation is synchronous).
  readonly #scope: Mutable<ScopeRequest> & { principalAncestors: Set<string>; resourceAncestors: Set<string> } = {
    principal: { type: "", id: "" },
    resource: { type: "", id: "" },
    actionKey: "",
    principalAncestors: new Set(),
    resourceAncestors: new Set(),
  };
  #schemaGeneration = -1;
  readonly #choice: EvaluatorChoice;

  constructor(runtime: CedarRuntime, parts: CompiledParts, options: EvaluationOptions) {
    this.#runtime = runtime;
    this.#parts = parts;
    this.#strict = options.strict;
    this.#slicing = options.slicing ?? SLICING_DEFAULTS.slicing;
    this.policies = parts.policies;
    this.hasSchema = parts.schema !== undefined;
    this.defaultActionType = parts.defaultActionType;
    this.hints = parts.hints;
    this.#forbids = new Set(parts.policies.filter((p) => p.effect === "forbid").map((p) => p.id));
    parts.policies.forEach((p, i) => this.#order.set(p.id, i));
    this.#graph = new EntityGraph(parts.staticEntities);
    this.#requestEntities = new RequestEntities(this.#graph);
    let hierarchy = parts.actionHierarchy;
    if (hierarchy !== undefined) {
      // Action entities shipped as data may add memberships; take them too (a wider slice is safe).
      for (let i = 0; i < this.#graph.size; i++) {
        const uid = parts.staticEntities[i]!.uid as { type: string; id: string };
        if (isActionType(uid.type)) for (const p of this.#graph.parentsOf(i)) hierarchy.addEdge(uidKey(uid.type, uid.id), uidKey(p.type, p.id));
      }
    }
    const scopes = parts.policies.map((p) => policyScope(p.json, hierarchy));
    this.#literalEntities = scopes.map((s) => this.#graph.indicesOf(s.literals));
    this.#slicer = new PolicySlicer(scopes, options.sliceByPrincipalAncestry ?? SLICING_DEFAULTS.sliceByPrincipalAncestry);
    this.#all = Int32Array.from(parts.policies.keys());
    const texts = (selected: Int32Array): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const i of selected) out[parts.policies[i]!.id] = parts.policies[i]!.text;
      return out;
    };
    const literalEntities = (selected: Int32Array): Int32Array => {
      const seeds = new Set<number>();
      for (const i of selected) for (const e of this.#literalEntities[i]!) seeds.add(e);
      return this.#graph.closure(Int32Array.from(seeds));
    };
    this.#slices = new SliceCache(runtime, this.#setId, this.#slicing ? (options.maxSlices ?? SLICING_DEFAULTS.maxSlices) : 1, { texts, literalEntities });
    retired.register(this, this.#slices);
    this.#planner = new ResourcePlanner({ ...parts, runtime, strict: this.#strict, requestEntities: this.#requestEntities });
    // Preparse eagerly what every request needs, so a broken bundle fails at activation.
    this.#preparseSchema();
    if (!this.#slicing) this.#slices.get("*", this.#all);
    const compiled = (options.evaluator ?? EVALUATOR_DEFAULTS.evaluator) === "compiled" ? compileBundle(runtime.cedar, parts, this.#strict) : { reason: "engine.evaluator is wasm" };
    this.#choice = new EvaluatorChoice(compiled, (req) => this.evaluateWasm(req), options);
  }

  /** The evaluator answering this bundle's requests now (see EvaluatorChoice). */
  get evaluator(): "compiled" | "wasm" {
    return this.#choice.active;
  }

  /**
   * Decides one request with the configured evaluator (see EvaluatorChoice). Throws
   * `invalid_argument` for a request Cedar refuses and `internal` on an engine fault; it never
   * turns a fault into an allow.
   */
  evaluate(req: AuthzRequest): Evaluation {
    return this.#choice.evaluate(req);
  }

  /** The sources this was compiled from. */
  get sources(): PolicySources {
    return this.#parts.sources;
  }

  /** Number of static entities the bundle ships. */
  get staticEntityCount(): number {
    return this.#parts.staticEntities.length;
  }

  /** Preparsed slices currently held (for status and benchmarks). */
  get sliceCount(): number {
    return this.#slices.size;
  }

  /**
   * Decides one request with cedar-wasm. Throws `invalid_argument` for a request Cedar refuses
   * (schema violation, bad extension value, entity cycle) and `internal` if the engine traps; it
   * never turns a fault into an allow.
   */
  evaluateWasm(req: AuthzRequest): Evaluation {
    if (this.#schemaGeneration !== this.#runtime.generation) this.#preparseSchema();
    const action = req.action.type === "" ? { type: this.defaultActionType, id: req.action.id } : req.action;
    const entities: EntityJson[] = [];
    this.#requestEntities.load(req, entities);
    const slice = this.#sliceFor(req, action);
    this.#addStaticEntities(req, action, slice, entities);
    const call: StatefulAuthorizationCall = {
      principal: toCedarUid(req.principal.uid),
      action: toCedarUid(action),
      resource: toCedarUid(req.resource.uid),
      context: toCedarRecord(req.context),
      entities,
      preparsedPolicySetId: slice.setId,
      validateRequest: this.hasSchema,
    };
    if (this.hasSchema) call.preparsedSchemaName = this.#setId;
    let answer;
    try {
      answer = this.#runtime.cedar.statefulIsAuthorized(call);
    } catch (err) {
      if (CedarRuntime.isTrap(err)) {
        this.#runtime.recycle();
        throw new VerdictError("internal", "the Cedar engine trapped on this request and was restarted", { cause: err });
      }
      throw invalidArgument(`Cedar could not read the request: ${(err as Error).message ?? String(err)}`, err);
    }
    if (answer.type === "failure") {
      throw invalidArgument(answer.errors.map((e) => e.message).join("; "));
    }
    const { decision, diagnostics } = answer.response;
    const errors: EvaluationError[] = diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message }));
    if (errors.length > 1) errors.sort((a, b) => this.#order.get(a.policyId)! - this.#order.get(b.policyId)!);
    let reasons = diagnostics.reason;
    if (this.#strict && errors.length > 0) {
      const erroredForbids = errors.filter((e) => this.#forbids.has(e.policyId)).map((e) => e.policyId);
      if (erroredForbids.length > 0) {
        // Strict mode denies; the forbids that decided it are those Cedar found satisfied (its
        // reasons, when it denies too) and those that errored, in bundle order, as Plan lists them.
        reasons = decision === "deny" ? [...new Set([...reasons, ...erroredForbids])] : erroredForbids;
        if (reasons.length > 1) reasons.sort((a, b) => this.#order.get(a)! - this.#order.get(b)!);
        return { decision: "deny", determiningPolicies: reasons, errors };
      }
    }
    if (reasons.length > 1) reasons.sort((a, b) => this.#order.get(a)! - this.#order.get(b)!);
    return { decision, determiningPolicies: reasons, errors };
  }

  /**
   * Plans which resources of a type the request's principal may act on (see ResourcePlanner).
   * Throws `invalid_argument` for a request Cedar refuses and `failed_precondition` for a
   * policy whose condition no resource filter can express.
   */
  plan(req: PlanRequest): Plan {
    return this.#planner.plan(req);
  }

  /** The preparsed slice of policies whose scope can match the request. */
  #sliceFor(req: AuthzRequest, action: { type: string; id: string }): Slice {
    if (!this.#slicing) return this.#slices.get("*", this.#all);
    const scope = this.#scope;
    if (this.#slicer.needsPrincipalAncestors) this.#requestEntities.ancestorsOf(req.principal.uid, scope.principalAncestors);
    this.#requestEntities.ancestorsOf(req.resource.uid, scope.resourceAncestors);
    scope.principal = req.principal.uid;
    scope.resource = req.resource.uid;
    scope.actionKey = uidKey(action.type, action.id);
    const count = this.#slicer.select(scope);
    const selected = this.#slicer.selected;
    let key = "";
    for (let k = 0; k < count; k++) key += `${selected[k]},`;
    return this.#slices.get(key, selected.subarray(0, count));
  }

  /** Appends the static entities the request can reach (all of them when not slicing). */
  #addStaticEntities(req: AuthzRequest, action: { type: string; id: string }, slice: Slice, out: EntityJson[]): void {
    const g = this.#graph;
    if (g.size === 0) return;
    if (!this.#slicing) {
      for (const e of this.#parts.staticEntities) out.push(e);
      return;
    }
    g.begin();
    for (const i of slice.literalEntities) g.visit(i);
    this.#requestEntities.visitReachable(req, action);
    g.appendMarked(out);
  }

  #preparseSchema(): void {
    if (this.#parts.schema !== undefined) {
      const schema = this.#runtime.cedar.preparseSchema(this.#setId, this.#parts.schema);
      if (schema.type === "failure") throw new VerdictError("internal", `schema preparse failed: ${schema.errors.map((e) => e.message).join("; ")}`);
    }
    this.#schemaGeneration = this.#runtime.generation;
  }
}
