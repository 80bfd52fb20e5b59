/** One kind of request no route matched. */
export interface UnmatchedRoute {
  readonly method: string;
  /** The normalized path with numbers, uuids and opaque ids replaced by placeholders. */
  readonly template: string;
  readonly count: number;
  /** When it was last seen (ms since the epoch). */
  readonly lastSeen: number;
}

/**
 * The methods and path templates of requests that matched no route, with counts: a bounded
 * inventory that shows operators the API surface their route table (and policies) miss — the
 * shadow APIs. Meant for the admin API (ListUnmatchedRoutes).
 */
export class UnmatchedInventory {
  readonly #max: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, { method: string; template: string; count: number; lastSeen: number }>();
  #dropped = 0;

  /** `max` bounds the distinct entries kept, whatever clients send. */
  constructor(max = 1000, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  /** Counts one request; a new entry beyond the bound is only counted as dropped. */
  record(method: string, template: string): void {
    const key = `${method} ${template}`;
    const entry = this.#seen.get(key);
    if (entry !== undefined) {
      entry.count++;
      entry.lastSeen = this.#now();
    } else if (this.#seen.size < this.#max) this.#seen.set(key, { method, template, count: 1, lastSeen: this.#now() });
    else this.#dropped++;
  }

  /** Entries, most frequent first. */
  list(): UnmatchedRoute[] {
    return [...this.#seen.values()].map((e) => ({ ...e })).sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
  }

  /** Requests whose entry was not kept because the inventory was full. */
  get dropped(): number {
    return this.#dropped;
  }
}
