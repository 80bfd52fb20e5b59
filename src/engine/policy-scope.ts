import type { EntityUidJson, PolicyJson, SchemaJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { EntityUid } from "../model/entity.js";

/** How one scope variable (principal or resource) is constrained, in the form slicing needs. */
export type EntityConstraint =
  | { readonly op: "all" }
  | { readonly op: "eq"; readonly uid: EntityUid }
  | { readonly op: "in"; readonly uid: EntityUid }
  | { readonly op: "is"; readonly type: string }
  | { readonly op: "isIn"; readonly type: string; readonly uid: EntityUid };

/**
 * What a policy's scope can match. `actions` is every action uid key (see `uidKey`) the
 * action constraint accepts, or undefined when it accepts any action (or when that cannot be
 * known, e.g. an action group without a schema).
 */
export interface PolicyScope {
  readonly principal: EntityConstraint;
  readonly resource: EntityConstraint;
  readonly actions: ReadonlySet<string> | undefined;
  /** Entity literals of the policy's conditions: what the policy text itself can reach. */
  readonly literals: readonly EntityUid[];
}

/** One string per uid, for maps keyed by entity; NUL cannot occur in a Cedar type name. */
export const uidKey = (type: string, id: string): string => `${type}\u0000${id}`;

/** Reads `{type, id}` or `{__entity: {type, id}}`. */
export function plainUid(u: EntityUidJson): EntityUid {
  const v = "__entity" in u ? u.__entity : u;
  return { type: v.type, id: v.id };
}

/**
 * The action hierarchy as descendants: for each action group key, every action (key) that is
 * a member of it, transitively, itself included. Built from the schema's `memberOf`; a
 * `memberOf` type written without a namespace is read both as written and as qualified, so
 * the hierarchy can only be over-approximated, which widens slices but never drops a policy.
 */
export class ActionHierarchy {
  readonly #members = new Map<string, Set<string>>();

  /** Adds `child memberOf parent`. */
  addEdge(child: string, parent: string): void {
    let set = this.#members.get(parent);
    if (set === undefined) this.#members.set(parent, (set = new Set()));
    set.add(child);
  }

  /** Every action key that is `in` the group (the group itself included). */
  descendantsOf(group: string): Set<string> {
    const out = new Set<string>([group]);
    const stack = [group];
    while (stack.length > 0) {
      for (const child of this.#members.get(stack.pop()!) ?? []) {
        if (!out.has(child)) {
          out.add(child);
          stack.push(child);
        }
      }
    }
    return out;
  }

  /** The hierarchy declared by a JSON schema. */
  static fromSchema(schema: SchemaJson<string>): ActionHierarchy {
    const h = new ActionHierarchy();
    for (const [ns, def] of Object.entries(schema)) {
      const actionType = ns === "" ? "Action" : `${ns}::Action`;
      for (const [id, action] of Object.entries(def.actions ?? {})) {
        for (const parent of action.memberOf ?? []) {
          const types = parent.type === undefined ? [actionType] : [parent.type, ...(ns !== "" && !parent.type.includes("::") ? [`${ns}::${parent.type}`] : [])];
          for (const t of types) h.addEdge(uidKey(actionType, id), uidKey(t, parent.id));
        }
      }
    }
    return h;
  }
}

function entityConstraint(c: PolicyJson["principal"]): EntityConstraint {
  switch (c.op) {
    case "All":
      return { op: "all" };
    case "==":
      if ("slot" in c) return { op: "all" };
      return { op: "eq", uid: plainUid(c.entity) };
    case "in":
      if ("slot" in c) return { op: "all" };
      return { op: "in", uid: plainUid(c.entity) };
    case "is":
      if (c.in === undefined || "slot" in c.in) return { op: "is", type: c.entity_type };
      return { op: "isIn", type: c.entity_type, uid: plainUid(c.in.entity) };
  }
}

/**
 * A policy's scope. `hierarchy` is undefined when there is no schema: then an `action in G`
 * constraint could match actions whose membership only the request knows, so it is treated
 * as matching any action; `action == A` is exact either way.
 */
export function policyScope(json: PolicyJson, hierarchy: ActionHierarchy | undefined): PolicyScope {
  let actions: Set<string> | undefined;
  const a = json.action;
  if (a.op === "==") {
    if (!("slot" in a)) actions = new Set([keyOf(plainUid(a.entity))]);
  } else if (a.op === "in" && hierarchy !== undefined) {
    actions = new Set();
    for (const e of "entities" in a ? a.entities : [a.entity]) for (const k of hierarchy.descendantsOf(keyOf(plainUid(e)))) actions.add(k);
  }
  const literals: EntityUid[] = [];
  for (const clause of json.conditions) collectEntities(clause.body, literals);
  return { principal: entityConstraint(json.principal), resource: entityConstraint(json.resource), actions, literals };
}

const keyOf = (u: EntityUid): string => uidKey(u.type, u.id);

/**
 * Every entity uid written anywhere in a JSON tree: `{__entity: {type, id}}`, and, to stay on
 * the safe side, any object with string `type` and `id` (Cedar reads that form as an entity
 * reference where a schema expects one). Over-collecting only passes Cedar more entities.
 */
export function collectEntities(node: unknown, out: EntityUid[]): void {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const x of node) collectEntities(x, out);
    return;
  }
  const o = node as Record<string, unknown>;
  if (typeof o["type"] === "string" && typeof o["id"] === "string") out.push({ type: o["type"], id: o["id"] });
  for (const key in o) collectEntities(o[key], out);
}
