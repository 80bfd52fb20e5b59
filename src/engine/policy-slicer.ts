import type { EntityUid } from "../model/entity.js";
import { type EntityConstraint, type PolicyScope, uidKey } from "./policy-scope.js";

/** Policies of one scope dimension, indexed by what a request must be to match them. */
class DimensionIndex {
  /** Unconstrained (or, when coarse, constrained only by ancestry). */
  readonly all: number[] = [];
  readonly eq = new Map<string, number[]>();
  /** `in E` and `is T in E`, keyed by E; `is T in E` is type-checked afterwards. */
  readonly in = new Map<string, number[]>();
  readonly is = new Map<string, number[]>();

  add(c: EntityConstraint, policy: number, byAncestry: boolean): void {
    switch (c.op) {
      case "all":
        return void this.all.push(policy);
      case "eq":
        return push(this.eq, uidKey(c.uid.type, c.uid.id), policy);
      case "is":
        return push(this.is, c.type, policy);
      case "in":
        return byAncestry ? push(this.in, uidKey(c.uid.type, c.uid.id), policy) : void this.all.push(policy);
      case "isIn":
        return byAncestry ? push(this.in, uidKey(c.uid.type, c.uid.id), policy) : push(this.is, c.type, policy);
    }
  }
}

function push(map: Map<string, number[]>, key: string, policy: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [policy]);
  else list.push(policy);
}

const EMPTY: readonly number[] = [];

/** A request as slicing sees it: uids and the ancestor keys of principal and resource. */
export interface ScopeRequest {
  readonly principal: EntityUid;
  readonly resource: EntityUid;
  readonly actionKey: string;
  /** Ancestor keys (`uidKey`) of the principal, itself excluded; only read when slicing by principal ancestry. */
  readonly principalAncestors: ReadonlySet<string>;
  readonly resourceAncestors: ReadonlySet<string>;
}

/**
 * Picks, for a request, the policies whose scope matches it. Cedar checks a policy's scope
 * before its conditions, and a scope that does not match makes the policy neither satisfied
 * nor erroring, so evaluating only the selected policies gives exactly the decision,
 * determining policies and errors of the whole set.
 *
 * Principal `in` constraints can be left out of the selection (`byPrincipalAncestry` false):
 * a principal's memberships (roles, groups) combine freely, so selecting on them multiplies
 * distinct slices, each costing a preparse, while a non-matching principal scope left in a
 * slice costs Cedar little. Resource ancestry (tenant, folder) selects well and is always used.
 */
export class PolicySlicer {
  readonly #scopes: readonly PolicyScope[];
  readonly #byPrincipalAncestry: boolean;
  readonly #principal = new DimensionIndex();
  readonly #resource = new DimensionIndex();
  /** Per action key, every policy whose action constraint accepts it (including any-action ones). */
  readonly #byAction = new Map<string, number[]>();
  readonly #anyAction: number[] = [];
  /** Selected policy indices of the last `select`, ascending. */
  readonly selected: Int32Array;

  constructor(scopes: readonly PolicyScope[], byPrincipalAncestry: boolean) {
    this.#scopes = scopes;
    this.#byPrincipalAncestry = byPrincipalAncestry;
    this.selected = new Int32Array(scopes.length);
    scopes.forEach((s, i) => {
      this.#principal.add(s.principal, i, byPrincipalAncestry);
      this.#resource.add(s.resource, i, true);
      if (s.actions === undefined) this.#anyAction.push(i);
    });
    scopes.forEach((s, i) => {
      for (const a of s.actions ?? []) {
        if (!this.#byAction.has(a)) this.#byAction.set(a, this.#anyAction.slice());
        this.#byAction.get(a)!.push(i);
      }
    });
    for (const list of this.#byAction.values()) list.sort((a, b) => a - b);
  }

  /** Whether principal ancestors are read, so a caller can skip computing them. */
  get needsPrincipalAncestors(): boolean {
    return this.#byPrincipalAncestry;
  }

  /** Selects the matching policies into `selected` and returns how many there are. */
  select(req: ScopeRequest): number {
    const actionList = this.#byAction.get(req.actionKey) ?? this.#anyAction;
    const p = this.#lists(this.#principal, req.principal, this.#byPrincipalAncestry ? req.principalAncestors : undefined);
    const r = this.#lists(this.#resource, req.resource, req.resourceAncestors);
    const pSize = sizeOf(p);
    const rSize = sizeOf(r);
    // Walk the dimension with the fewest candidates and check the others exactly.
    let count = 0;
    const lists = actionList.length <= pSize && actionList.length <= rSize ? [actionList] : pSize <= rSize ? p : r;
    for (const list of lists) {
      for (let k = 0; k < list.length; k++) {
        const i = list[k]!;
        if (this.#matches(i, req)) this.selected[count++] = i;
      }
    }
    if (lists.length > 1) this.selected.subarray(0, count).sort();
    return count;
  }

  #lists(index: DimensionIndex, uid: EntityUid, ancestors: ReadonlySet<string> | undefined): (readonly number[])[] {
    const out: (readonly number[])[] = [index.all, index.eq.get(uidKey(uid.type, uid.id)) ?? EMPTY, index.is.get(uid.type) ?? EMPTY, index.in.get(uidKey(uid.type, uid.id)) ?? EMPTY];
    if (ancestors !== undefined && index.in.size > 0) {
      for (const a of ancestors) {
        const list = index.in.get(a);
        if (list !== undefined) out.push(list);
      }
    }
    return out;
  }

  #matches(i: number, req: ScopeRequest): boolean {
    const s = this.#scopes[i]!;
    if (s.actions !== undefined && !s.actions.has(req.actionKey)) return false;
    return (
      matchesConstraint(s.resource, req.resource, req.resourceAncestors) &&
      matchesConstraint(s.principal, req.principal, this.#byPrincipalAncestry ? req.principalAncestors : undefined)
    );
  }
}

function sizeOf(lists: readonly (readonly number[])[]): number {
  let n = 0;
  for (const l of lists) n += l.length;
  return n;
}

/** Cedar's scope check; with `ancestors` undefined, ancestry is not looked at (assumed to match). */
function matchesConstraint(c: EntityConstraint, uid: EntityUid, ancestors: ReadonlySet<string> | undefined): boolean {
  switch (c.op) {
    case "all":
      return true;
    case "eq":
      return c.uid.type === uid.type && c.uid.id === uid.id;
    case "is":
      return c.type === uid.type;
    case "in":
      return ancestors === undefined || (c.uid.type === uid.type && c.uid.id === uid.id) || ancestors.has(uidKey(c.uid.type, c.uid.id));
    case "isIn":
      return c.type === uid.type && (ancestors === undefined || (c.uid.type === uid.type && c.uid.id === uid.id) || ancestors.has(uidKey(c.uid.type, c.uid.id)));
  }
}
