/** One kind of request no route matched. */
export interface UnmatchedRoute {
  readonly method: string;
  /** The normalized path with numbers, uuids and opaque ids replaced by placeholders. */
  readonly template: string;
  readonly count: number;
  /** When it was last seen (ms since the epoch). */
  readonly lastSeen: number;
  /** When it was first seen (ms since the epoch). */
  readonly firstSeen: number;
  /** The most frequent callers (client addresses), most calls first; at most MAX_CALLERS. */
  readonly callers: readonly string[];
}

/** Callers kept per entry: a space-saving top-k, so a flood of addresses cannot grow an entry. */
const MAX_CALLERS = 5;
type Entry = { method: string; template: string; count: number; lastSeen: number; firstSeen: number; callers: Map<string, number> };

/** Counts a caller; when the entry is full, the least frequent is replaced and its count inherited (space-saving). */
function countCaller(callers: Map<string, number>, caller: string): void {
  const n = callers.get(caller);
  if (n !== undefined) return void callers.set(caller, n + 1);
  if (callers.size < MAX_CALLERS) return void callers.set(caller, 1);
  let min: [string, number] | undefined;
  for (const e of callers) if (min === undefined || e[1] < min[1]) min = e;
  callers.delete(min![0]);
  callers.set(caller, min![1] + 1);
}

/**
 * The methods and path templates of requests that matched no route, with counts: a bounded
 * inventory that shows operators the API surface their route table (and policies) miss — the
 * shadow APIs. Meant for the admin API (ListUnmatchedRoutes).
 */
export class UnmatchedInventory {
  readonly #max: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, Entry>();
  #dropped = 0;

  /** `max` bounds the distinct entries kept, whatever clients send. */
  constructor(max = 1000, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  /** Counts one request (and its caller); a new entry beyond the bound is only counted as dropped. */
  record(method: string, template: string, caller?: string): void {
    const key = `${method} ${template}`;
    let entry = this.#seen.get(key);
    if (entry !== undefined) {
      entry.count++;
      entry.lastSeen = this.#now();
    } else if (this.#seen.size < this.#max) {
      const now = this.#now();
      this.#seen.set(key, (entry = { method, template, count: 1, lastSeen: now, firstSeen: now, callers: new Map() }));
    } else this.#dropped++;
    if (entry !== undefined && caller !== undefined && caller !== "") countCaller(entry.callers, caller);
  }

  /** Entries, most frequent first. */
  list(): UnmatchedRoute[] {
    return [...this.#seen.values()]
      .map((e) => ({ ...e, callers: [...e.callers].sort((a, b) => b[1] - a[1]).map(([c]) => c) }))
      .sort((a, b) => b.count - a.count || a.template.localeCompare(b.template));
  }

  /** Requests whose entry was not kept because the inventory was full. */
  get dropped(): number {
    return this.#dropped;
  }
}
