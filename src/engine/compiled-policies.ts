import type { EntityJson, Schema, StatefulAuthorizationCall } from "@cedar-policy/cedar-wasm/nodejs";
import { invalidArgument, VerdictError } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation, EvaluationError } from "../model/decision.js";
import type { Entity } from "../model/entity.js";
import { formatUid } from "../model/entity.js";
import { CedarRuntime } from "./cedar-runtime.js";
import { toCedarEntity, toCedarRequest } from "./cedar-json.js";
import type { PolicyEntry } from "./policy-catalog.js";
import type { SchemaHints } from "./schema-hints.js";

/** How the engine treats evaluation errors. */
export interface EvaluationOptions {
  /**
   * Strict (the default): a `forbid` whose evaluation errors denies, because Cedar would skip
   * it and a guard that cannot be evaluated must not open access. Off: Cedar's skip semantics.
   */
  readonly strict: boolean;
}

/** What a compiled bundle is made of; kept so it can be re-preparsed into a fresh instance. */
export interface CompiledParts {
  readonly policies: readonly PolicyEntry[];
  readonly schema: Schema | undefined;
  readonly staticEntities: readonly EntityJson[];
  /** `Action` type used when a request's action has an empty type. */
  readonly defaultActionType: string;
  /** Which attributes the schema types as extensions or entity references. */
  readonly hints: SchemaHints;
}

let nextSetId = 0;
const isBare = (e: Entity): boolean => Object.keys(e.attrs).length === 0 && e.parents.length === 0 && Object.keys(e.tags).length === 0;
const isActionType = (type: string) => type === "Action" || type.endsWith("::Action");

/**
 * A bundle's policies preparsed in the Cedar runtime, ready to decide. Immutable: a new
 * bundle is a new instance, so a decision reads one consistent revision.
 */
export class CompiledPolicies {
  readonly policies: readonly PolicyEntry[];
  readonly hasSchema: boolean;
  readonly defaultActionType: string;
  /** Which attributes the schema types as extensions or entity references. */
  readonly hints: SchemaHints;
  readonly #runtime: CedarRuntime;
  readonly #parts: CompiledParts;
  readonly #options: EvaluationOptions;
  readonly #setId = `verdict-${nextSetId++}`;
  readonly #forbids: ReadonlySet<string>;
  /** Static entity uids by type, to tell references from shadowing redefinitions. */
  readonly #staticUids = new Map<string, Set<string>>();
  #generation = -1;

  constructor(runtime: CedarRuntime, parts: CompiledParts, options: EvaluationOptions) {
    this.#runtime = runtime;
    this.#parts = parts;
    this.#options = options;
    this.policies = parts.policies;
    this.hasSchema = parts.schema !== undefined;
    this.defaultActionType = parts.defaultActionType;
    this.hints = parts.hints;
    this.#forbids = new Set(parts.policies.filter((p) => p.effect === "forbid").map((p) => p.id));
    for (const e of parts.staticEntities) {
      const uid = e.uid as { type: string; id: string };
      let ids = this.#staticUids.get(uid.type);
      if (ids === undefined) this.#staticUids.set(uid.type, (ids = new Set()));
      ids.add(uid.id);
    }
    this.#preparse();
  }

  /** Number of static entities the bundle ships. */
  get staticEntityCount(): number {
    return this.#parts.staticEntities.length;
  }

  /**
   * Decides one request. Throws `invalid_argument` for a request Cedar refuses (schema
   * violation, bad extension value, entity cycle) and `internal` if the engine traps; it
   * never turns a fault into an allow.
   */
  evaluate(req: AuthzRequest): Evaluation {
    if (this.#generation !== this.#runtime.generation) this.#preparse();
    const action = req.action.type === "" ? { type: this.defaultActionType, id: req.action.id } : req.action;
    const call: StatefulAuthorizationCall = {
      ...toCedarRequest(req, action),
      entities: this.#entitiesFor(req),
      preparsedPolicySetId: this.#setId,
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
    if (this.#options.strict) {
      const erroredForbids = errors.filter((e) => this.#forbids.has(e.policyId)).map((e) => e.policyId);
      if (erroredForbids.length > 0) return { decision: "deny", determiningPolicies: erroredForbids, errors };
    }
    return { decision, determiningPolicies: diagnostics.reason, errors };
  }

  /**
   * Static entities plus the request's own. Entities with data come first so that a bare
   * mention of the same uid (principal also listed in `entities`, principal = resource, a
   * user the bundle already defines) is a reference, not a duplicate.
   */
  #entitiesFor(req: AuthzRequest): EntityJson[] {
    const out: EntityJson[] = this.#parts.staticEntities.length > 0 ? this.#parts.staticEntities.slice() : [];
    const all: [Entity, string][] = [[req.principal, "principal"], [req.resource, "resource"]];
    req.entities.forEach((e, i) => all.push([e, `entities[${i}]`]));
    const seen = new Map<string, Set<string>>();
    for (const pass of [false, true]) {
      for (const [e, role] of all) {
        const bare = isBare(e);
        if (bare !== pass) continue;
        const { type, id } = e.uid;
        if (isActionType(type)) {
          throw invalidArgument(`${role}: action entities come from the bundle's schema, not the request (${formatUid(e.uid)})`);
        }
        if (this.#staticUids.get(type)?.has(id)) {
          if (bare) continue;
          throw invalidArgument(`${role}: entity ${formatUid(e.uid)} is defined by the bundle and cannot be redefined by a request`);
        }
        let ids = seen.get(type);
        if (ids === undefined) seen.set(type, (ids = new Set()));
        if (ids.has(id)) {
          if (bare) continue;
          throw invalidArgument(`${role}: entity ${formatUid(e.uid)} appears more than once in the request`);
        }
        ids.add(id);
        // A bare mention (no attributes, parents or tags) adds nothing Cedar could read, and
        // under a schema with required attributes it would not conform: pass the reference only.
        if (!bare) out.push(toCedarEntity(e));
      }
    }
    return out;
  }

  #preparse(): void {
    const cedar = this.#runtime.cedar;
    const staticPolicies: Record<string, string> = {};
    for (const p of this.#parts.policies) staticPolicies[p.id] = p.text;
    const pset = cedar.preparsePolicySet(this.#setId, { staticPolicies });
    if (pset.type === "failure") throw new VerdictError("internal", `preparse failed: ${pset.errors.map((e) => e.message).join("; ")}`);
    if (this.#parts.schema !== undefined) {
      const schema = cedar.preparseSchema(this.#setId, this.#parts.schema);
      if (schema.type === "failure") throw new VerdictError("internal", `schema preparse failed: ${schema.errors.map((e) => e.message).join("; ")}`);
    }
    this.#generation = this.#runtime.generation;
  }
}

