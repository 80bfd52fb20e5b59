import type { Env } from "./compile-expr.js";
import type { CompiledPolicy } from "./compiled-policy.js";

/**
 * Which policies a request can reach, by scope: each policy is filed under its resource scope
 * entity (`==`, `in`, `is … in`), else its principal scope entity, else under "always". A
 * request looks up its resource and principal and their ancestors. The result is a superset of
 * the policies whose scope matches (each still checks its whole scope), in bundle order.
 */
export class ScopeIndex {
  readonly #always: Int32Array;
  readonly #byResource = new Map<string, number[]>();
  readonly #byPrincipal = new Map<string, number[]>();
  readonly #all: Int32Array;
  readonly #mark: Uint8Array;

  constructor(policies: readonly CompiledPolicy[]) {
    const always: number[] = [];
    policies.forEach((p, i) => {
      const [map, key] = p.resource.entity !== undefined ? [this.#byResource, p.resource.entity.key] : p.principal.entity !== undefined ? [this.#byPrincipal, p.principal.entity.key] : [undefined, ""];
      if (map === undefined) always.push(i);
      else {
        const list = map.get(key);
        if (list === undefined) map.set(key, [i]);
        else list.push(i);
      }
    });
    this.#always = Int32Array.from(always);
    this.#all = Int32Array.from(policies.keys());
    this.#mark = new Uint8Array(policies.length);
  }

  candidates(env: Env): Int32Array {
    if (this.#byResource.size === 0 && this.#byPrincipal.size === 0) return this.#all;
    const found: number[] = [];
    const mark = this.#mark;
    const add = (list: readonly number[] | Int32Array | undefined) => {
      if (list === undefined) return;
      for (let k = 0; k < list.length; k++) {
        const i = list[k]!;
        if (mark[i] === 0) {
          mark[i] = 1;
          found.push(i);
        }
      }
    };
    add(this.#always);
    if (this.#byResource.size > 0) {
      add(this.#byResource.get(env.resource.key));
      for (const a of env.store.ancestors(env.resource)) add(this.#byResource.get(a));
    }
    if (this.#byPrincipal.size > 0) {
      add(this.#byPrincipal.get(env.principal.key));
      for (const a of env.store.ancestors(env.principal)) add(this.#byPrincipal.get(a));
    }
    for (const i of found) mark[i] = 0;
    const out = Int32Array.from(found);
    return out.sort();
  }
}
