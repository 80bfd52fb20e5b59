import type { EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import { invalidArgument } from "../../errors.js";
import type { AuthzRequest } from "../../model/authz-request.js";
import type { Evaluation, EvaluationError } from "../../model/decision.js";
import { type Entity, formatUid } from "../../model/entity.js";
import { isActionType, isBare } from "../request-entities.js";
import { type Env, uidOf, Unsupported } from "./compile-expr.js";
import { compilePolicy, type CompiledPolicy } from "./compiled-policy.js";
import { type EntityData, EntityStore, StaticEntities } from "./entity-store.js";
import { ScopeIndex } from "./scope-index.js";
import type { SchemaModel } from "./schema-types.js";
import { ValueReader } from "./value-reader.js";
import { CedarError, CedarRecord, type CValue, Refusal, Uid } from "./values.js";

/** A policy the compiler left to cedar-wasm, and why. */
export interface FallbackPolicy {
  readonly id: string;
  readonly reason: string;
}

/** What the compiled evaluator is built from (all of it read from cedar-wasm at activation). */
export interface CompiledEvaluatorParts {
  readonly policies: readonly { readonly id: string; readonly effect: "permit" | "forbid"; readonly json: unknown }[];
  readonly schema: SchemaModel | undefined;
  readonly staticEntities: readonly EntityJson[];
  readonly defaultActionType: string;
  readonly strict: boolean;
}


/** Thrown when a request reaches a policy the compiler left to cedar-wasm. */
export class NeedsWasm extends Error {}

/**
 * A bundle's policies and schema compiled to closures: decides a request with Cedar's semantics
 * (scope, `when`/`unless` in order, an erroring policy skipped and reported, forbid overrides
 * permit, Verdict's strict mode) and refuses what cedar-wasm refuses. Built only when the
 * whole bundle compiles except for policies listed in `fallbacks`; a request whose scope
 * reaches one of those throws `NeedsWasm` and is decided by cedar-wasm.
 */
export class CompiledEvaluator {
  readonly fallbacks: readonly FallbackPolicy[];
  readonly #policies: readonly (CompiledPolicy & { readonly fallback?: string })[];
  readonly #schema: SchemaModel | undefined;
  readonly #reader: ValueReader;
  readonly #statics: StaticEntities;
  readonly #index: ScopeIndex;
  readonly #defaultActionType: string;
  readonly #strict: boolean;

  /** Throws `Unsupported` when the bundle as a whole cannot be compiled (schema or entities). */
  constructor(parts: CompiledEvaluatorParts) {
    this.#schema = parts.schema;
    this.#reader = new ValueReader(parts.schema);
    this.#defaultActionType = parts.defaultActionType;
    this.#strict = parts.strict;
    const fallbacks: FallbackPolicy[] = [];
    this.#policies = parts.policies.map((p) => {
      try {
        return compilePolicy(p.id, p.json);
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        fallbacks.push({ id: p.id, reason: err.message });
        // Its scope still selects the requests that must go to cedar-wasm.
        const scopeOnly = compilePolicy(p.id, { ...(p.json as object), conditions: [] });
        return { ...scopeOnly, fallback: err.message };
      }
    });
    this.fallbacks = fallbacks;
    this.#statics = new StaticEntities(this.#staticEntities(parts.staticEntities));
    this.#index = new ScopeIndex(this.#policies);
  }

  #staticEntities(entities: readonly EntityJson[]): EntityData[] {
    const out: EntityData[] = [];
    const schema = this.#schema;
    for (const e of entities) {
      const raw = e as unknown as { uid: unknown; attrs?: Record<string, unknown>; parents?: unknown[]; tags?: Record<string, unknown> };
      const uid = uidOf(raw.uid);
      if (schema !== undefined && isActionType(uid.type)) throw new Unsupported("static action entities next to a schema");
      const info = schema?.entityTypes.get(uid.type);
      const attrs = new Map<string, CValue>();
      for (const [k, v] of Object.entries(raw.attrs ?? {})) attrs.set(k, this.#reader.json(v, info?.shape.attrs.get(k)?.type, `${uid.type}.${k}`));
      let tags: Map<string, CValue> | undefined;
      if (raw.tags !== undefined) {
        tags = new Map();
        for (const [k, v] of Object.entries(raw.tags)) tags.set(k, this.#reader.json(v, info?.tags, `${uid.type} tag ${k}`));
      }
      out.push({ uid, attrs, tags, parents: (raw.parents ?? []).map(uidOf) });
    }
    if (schema !== undefined) {
      for (const a of schema.actions.values()) out.push({ uid: a.uid, attrs: new Map(), tags: undefined, parents: a.memberOf });
    }
    return out;
  }

  /**
   * Decides one request. Throws `invalid_argument` for a request Cedar refuses and `NeedsWasm`
   * when a policy its scope reaches was left to cedar-wasm.
   */
  evaluate(req: AuthzRequest): Evaluation {
    const action = req.action.type === "" ? new Uid(this.#defaultActionType, req.action.id) : new Uid(req.action.type, req.action.id);
    const store = new EntityStore(this.#statics);
    let env: Env;
    try {
      this.#loadEntities(req, store);
      const context = this.#context(req, action);
      const principal = new Uid(req.principal.uid.type, req.principal.uid.id);
      const resource = new Uid(req.resource.uid.type, req.resource.uid.id);
      if (this.#schema !== undefined) this.#validateRequest(principal, action, resource);
      store.checkCycles();
      env = { principal, action, resource, context, store };
    } catch (err) {
      if (err instanceof Refusal) throw invalidArgument(err.message);
      throw err;
    }
    return this.#decide(env);
  }

  #decide(env: Env): Evaluation {
    const candidates = this.#index.candidates(env);
    const permits: string[] = [];
    const forbids: string[] = [];
    let errors: EvaluationError[] | undefined;
    let erroredForbids = false;
    // Forbids that held or errored, in bundle order: what a strict-mode deny reports.
    const denying: string[] = [];
    for (let k = 0; k < candidates.length; k++) {
      const p = this.#policies[candidates[k]!]!;
      try {
        if (!p.applies(env)) continue;
      } catch (err) {
        if (!(err instanceof CedarError)) throw err;
        (errors ??= []).push({ policyId: p.id, message: err.message });
        if (p.forbid) {
          erroredForbids = true;
          denying.push(p.id);
        }
        continue;
      }
      if (p.fallback !== undefined) throw new NeedsWasm(`policy ${p.id}: ${p.fallback}`);
      (p.forbid ? forbids : permits).push(p.id);
      if (p.forbid) denying.push(p.id);
    }
    const errs = errors ?? [];
    if (this.#strict && erroredForbids) return { decision: "deny", determiningPolicies: denying, errors: errs };
    if (forbids.length > 0) return { decision: "deny", determiningPolicies: forbids, errors: errs };
    if (permits.length > 0) return { decision: "allow", determiningPolicies: permits, errors: errs };
    return { decision: "deny", determiningPolicies: [], errors: errs };
  }

  /** The request's own entities, checked as the wasm path checks them (see RequestEntities). */
  #loadEntities(req: AuthzRequest, store: EntityStore): void {
    const roleOf = (e: Entity): string => (e === req.principal ? "principal" : e === req.resource ? "resource" : `entities[${req.entities.indexOf(e)}]`);
    const actionEntity = (e: Entity) =>
      invalidArgument(`${roleOf(e)}: action entities come from the bundle's schema, not the request (${formatUid(e.uid)})`);
    // Entities with data first; then a bare uid means the bundle's entity, else the request's
    // own entity with data, else an entity with no data, validated like any other (as RequestEntities).
    const bare = (e: Entity): void => {
      if (!isBare(e)) return;
      if (isActionType(e.uid.type)) throw actionEntity(e);
      const uid = new Uid(e.uid.type, e.uid.id);
      if (this.#statics.byKey.has(uid.key) || store.get(uid) !== undefined) return;
      store.add(this.#entity(uid, e));
    };
    // Every request-level refusal (redefinition, repeats, actions) before any schema validation, as RequestEntities.
    const pending = new Map<string, [Uid, Entity]>();
    const one = (e: Entity): void => {
      if (isBare(e)) return;
      const { type, id } = e.uid;
      if (isActionType(type)) throw actionEntity(e);
      const uid = new Uid(type, id);
      if (this.#statics.byKey.has(uid.key)) {
        throw invalidArgument(`${roleOf(e)}: entity ${formatUid(e.uid)} is defined by the bundle and cannot be redefined by a request`);
      }
      if (store.get(uid) !== undefined || pending.has(uid.key)) throw invalidArgument(`${roleOf(e)}: entity ${formatUid(e.uid)} appears more than once in the request`);
      pending.set(uid.key, [uid, e]);
    };
    one(req.principal);
    one(req.resource);
    for (const e of req.entities) one(e);
    for (const [uid, e] of pending.values()) store.add(this.#entity(uid, e));
    bare(req.principal);
    bare(req.resource);
    for (const e of req.entities) bare(e);
  }

  #entity(uid: Uid, e: Entity): EntityData {
    const schema = this.#schema;
    const where = `entity ${formatUid(e.uid)}`;
    const info = schema?.entityTypes.get(uid.type);
    if (schema !== undefined) {
      if (info === undefined) throw new Refusal(`${where}: entity type ${uid.type} is not declared in the schema`);
      this.#reader.checkEnum(uid, where);
    }
    const attrs = new Map<string, CValue>();
    const shape = info?.shape;
    for (const k of Object.keys(e.attrs)) {
      const a = shape?.attrs.get(k);
      if (shape !== undefined && a === undefined && !shape.open) throw new Refusal(`${where}: attribute ${JSON.stringify(k)} is not declared in the schema`);
      attrs.set(k, this.#reader.model(e.attrs[k]!, a?.type, `${where}.${k}`));
    }
    if (shape !== undefined) {
      for (const [k, a] of shape.attrs) {
        if (a.required && !attrs.has(k)) throw new Refusal(`entity does not conform to the schema: expected entity \`${formatUid(e.uid)}\` to have attribute \`${k}\`, but it does not`);
      }
    }
    let tags: Map<string, CValue> | undefined;
    const tagKeys = Object.keys(e.tags);
    if (tagKeys.length > 0) {
      if (schema !== undefined && info!.tags === undefined) throw new Refusal(`${where}: the schema declares no tags for ${uid.type}`);
      tags = new Map();
      for (const k of tagKeys) tags.set(k, this.#reader.model(e.tags[k]!, info?.tags, `${where} tag ${JSON.stringify(k)}`));
    }
    const parents = e.parents.map((p) => new Uid(p.type, p.id));
    if (info !== undefined) {
      for (const p of parents) {
        if (!info.memberOf.has(p.type)) throw new Refusal(`${where}: ${uid.type} cannot be a member of ${p.type}`);
        this.#reader.checkEnum(p, where);
      }
    }
    return { uid, attrs, tags, parents };
  }

  #context(req: AuthzRequest, action: Uid): CedarRecord {
    const type = this.#schema?.actions.get(action.key)?.context;
    if (this.#schema !== undefined && type === undefined) throw new Refusal(`action ${formatUid(action)} is not declared in the schema`);
    const value = this.#reader.model({ kind: "record", fields: req.context }, type, "context");
    return value as CedarRecord;
  }

  #validateRequest(principal: Uid, action: Uid, resource: Uid): void {
    const a = this.#schema!.actions.get(action.key);
    if (a === undefined) throw new Refusal(`action ${formatUid(action)} is not declared in the schema`);
    if (!a.principalTypes.has(principal.type)) throw new Refusal(`principal type ${principal.type} is not valid for action ${formatUid(action)}`);
    if (!a.resourceTypes.has(resource.type)) throw new Refusal(`resource type ${resource.type} is not valid for action ${formatUid(action)}`);
    this.#reader.checkEnum(principal, "principal");
    this.#reader.checkEnum(resource, "resource");
  }
}

