/**
 * The methods and path templates of requests that matched no route, with counts: a bounded
 * inventory that shows operators the API surface their route table (and policies) miss.
 */
export class UnmatchedInventory {
  readonly #max: number;
  readonly #seen = new Map<string, number>();

  constructor(max = 1000) {
    this.#max = max;
  }

  /** Counts one `METHOD /template`; new entries beyond the bound are not kept. */
  record(entry: string): void {
    const n = this.#seen.get(entry);
    if (n !== undefined) this.#seen.set(entry, n + 1);
    else if (this.#seen.size < this.#max) this.#seen.set(entry, 1);
  }

  /** Entries, most frequent first. */
  list(): { route: string; count: number }[] {
    return [...this.#seen].map(([route, count]) => ({ route, count })).sort((a, b) => b.count - a.count);
  }
}
