import type { EntityJson, EntityUidJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { EntityUid } from "../model/entity.js";
import { collectEntities, plainUid } from "./policy-scope.js";

/**
 * A bundle's static entities as a graph, built once at activation: each entity points to its
 * parents and to every entity its attributes and tags mention. A request then hands Cedar only
 * the static entities it can reach (closure from its own uids), not the whole set; converting
 * entities into wasm is the main cost of a call.
 *
 * Marking uses an epoch stamp per entity and preallocated scratch arrays, so a request's
 * closure allocates nothing but the output list. Not reentrant; evaluation is synchronous.
 */
export class EntityGraph {
  readonly size: number;
  readonly #json: readonly EntityJson[];
  readonly #index = new Map<string, Map<string, number>>();
  readonly #uids: EntityUid[] = [];
  readonly #parents: (readonly EntityUid[])[] = [];
  readonly #edges: Int32Array[] = [];
  readonly #mark: Uint32Array;
  readonly #stack: Int32Array;
  readonly #visited: Int32Array;
  #count = 0;
  #epoch = 0;

  constructor(entities: readonly EntityJson[]) {
    this.#json = entities;
    this.size = entities.length;
    entities.forEach((e, i) => {
      const uid = plainUid(e.uid as EntityUidJson);
      this.#uids.push(uid);
      this.#parents.push(((e.parents ?? []) as EntityUidJson[]).map(plainUid));
      let ids = this.#index.get(uid.type);
      if (ids === undefined) this.#index.set(uid.type, (ids = new Map()));
      ids.set(uid.id, i);
    });
    entities.forEach((e, i) => {
      const refs: EntityUid[] = [...this.#parents[i]!];
      collectEntities(e.attrs, refs);
      collectEntities((e as { tags?: unknown }).tags, refs);
      this.#edges.push(this.indicesOf(refs));
    });
    this.#mark = new Uint32Array(this.size);
    this.#stack = new Int32Array(this.size);
    this.#visited = new Int32Array(this.size);
  }

  /** Index of a static entity, or -1. */
  lookup(type: string, id: string): number {
    return this.#index.get(type)?.get(id) ?? -1;
  }

  /** Direct parents of a static entity. */
  parentsOf(index: number): readonly EntityUid[] {
    return this.#parents[index]!;
  }

  /** Static indices of the uids that are static entities, deduplicated. */
  indicesOf(uids: readonly EntityUid[]): Int32Array {
    const found = new Set<number>();
    for (const u of uids) {
      const i = this.lookup(u.type, u.id);
      if (i >= 0) found.add(i);
    }
    return Int32Array.from(found);
  }

  /** Everything reachable from `seeds` (themselves included), computed once per slice. */
  closure(seeds: Int32Array): Int32Array {
    this.begin();
    for (const s of seeds) this.visit(s);
    return this.#visited.slice(0, this.#count);
  }

  /** Starts a new marking. */
  begin(): void {
    this.#count = 0;
    if (++this.#epoch === 0xffffffff) {
      this.#mark.fill(0);
      this.#epoch = 1;
    }
  }

  /** Marks a static entity and everything it reaches. */
  visit(start: number): void {
    if (start < 0 || this.#mark[start] === this.#epoch) return;
    const mark = this.#mark;
    const stack = this.#stack;
    const epoch = this.#epoch;
    mark[start] = epoch;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const i = stack[--top]!;
      this.#visited[this.#count++] = i;
      const edges = this.#edges[i]!;
      for (let k = 0; k < edges.length; k++) {
        const j = edges[k]!;
        if (mark[j] !== epoch) {
          mark[j] = epoch;
          stack[top++] = j;
        }
      }
    }
  }

  /** Marks a uid if it is a static entity. */
  visitUid(uid: EntityUid): void {
    const i = this.lookup(uid.type, uid.id);
    if (i >= 0) this.visit(i);
  }

  /** Appends the JSON of every entity marked since `begin`, to hand to Cedar. */
  appendMarked(out: EntityJson[]): void {
    for (let k = 0; k < this.#count; k++) out.push(this.#json[this.#visited[k]!]!);
  }
}
