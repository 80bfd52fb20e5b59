import { type CValue, Refusal, Uid } from "./values.js";
import { formatUid } from "../../model/entity.js";

/** One entity as policies read it. */
export interface EntityData {
  readonly uid: Uid;
  readonly attrs: ReadonlyMap<string, CValue>;
  readonly tags: ReadonlyMap<string, CValue> | undefined;
  readonly parents: readonly Uid[];
}

/** A bundle's own entities (static entities and the schema's actions) with their ancestors, built once. */
export class StaticEntities {
  readonly byKey = new Map<string, EntityData>();
  /** Ancestors of entities whose every ancestor is itself static (a request cannot change them). */
  readonly closedAncestors = new Map<string, ReadonlySet<string>>();

  constructor(entities: readonly EntityData[]) {
    for (const e of entities) this.byKey.set(e.uid.key, e);
    for (const e of entities) {
      const seen = new Set<string>();
      let closed = true;
      const stack = [...e.parents];
      while (stack.length > 0) {
        const p = stack.pop()!;
        if (seen.has(p.key)) continue;
        seen.add(p.key);
        const d = this.byKey.get(p.key);
        if (d === undefined) closed = false;
        else stack.push(...d.parents);
      }
      if (closed) this.closedAncestors.set(e.uid.key, seen);
    }
  }
}

/**
 * The entities one request sees: its own over the bundle's. Ancestor sets are computed on first
 * use; `checkCycles` refuses a hierarchy with a cycle as Cedar does (an entity its own parent too).
 */
export class EntityStore {
  readonly #static: StaticEntities;
  readonly #own = new Map<string, EntityData>();
  readonly #ancestors = new Map<string, ReadonlySet<string>>();

  constructor(statics: StaticEntities) {
    this.#static = statics;
  }

  /** Adds a request entity (the caller has refused duplicates and redefinitions). */
  add(e: EntityData): void {
    this.#own.set(e.uid.key, e);
  }

  get(uid: Uid): EntityData | undefined {
    return this.#own.get(uid.key) ?? this.#static.byKey.get(uid.key);
  }

  /** Cedar's `in` on two entities: equal, or `b` among `a`'s ancestors. */
  isIn(a: Uid, b: Uid): boolean {
    return a.key === b.key || this.ancestors(a).has(b.key);
  }

  ancestors(uid: Uid): ReadonlySet<string> {
    const closed = this.#static.closedAncestors.get(uid.key);
    if (closed !== undefined) return closed;
    let found = this.#ancestors.get(uid.key);
    if (found !== undefined) return found;
    const seen = new Set<string>();
    const start = this.get(uid);
    const stack = start === undefined ? [] : [...start.parents];
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (seen.has(p.key)) continue;
      seen.add(p.key);
      const d = this.get(p);
      if (d !== undefined) for (const q of d.parents) stack.push(q);
    }
    found = seen;
    this.#ancestors.set(uid.key, found);
    return found;
  }

  /** Refuses the request if its entities make the hierarchy cyclic. */
  checkCycles(): void {
    if (this.#own.size === 0) return;
    const done = new Set<string>();
    const onPath = new Set<string>();
    const visit = (e: EntityData): void => {
      if (done.has(e.uid.key)) return;
      if (this.#static.closedAncestors.has(e.uid.key)) return done.add(e.uid.key) as unknown as void;
      onPath.add(e.uid.key);
      for (const p of e.parents) {
        if (onPath.has(p.key)) throw new Refusal(`entity hierarchy has a cycle through ${formatUid(p)}`);
        const d = this.get(p);
        if (d !== undefined) visit(d);
      }
      onPath.delete(e.uid.key);
      done.add(e.uid.key);
    };
    for (const e of this.#own.values()) visit(e);
  }
}


export { Uid };
