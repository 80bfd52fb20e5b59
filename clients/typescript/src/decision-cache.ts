/** A cached answer and the bundle revision that decided it. */
interface Entry<T> {
  readonly value: T;
  readonly expires: number;
}

/**
 * An optional client-side cache of decisions. Every entry belongs to the bundle revision the
 * server reported with it; a response with another revision empties the cache, so a new bundle
 * never answers from an old revision's decisions once this client has seen it. It cannot see a
 * revision change before its next call to the server: `ttlMs` bounds how long a decision may
 * outlive the bundle that made it. Errors are never cached.
 */
export class ClientDecisionCache<T> {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<T>>();
  #revision: string | undefined;

  constructor(maxEntries: number, ttlMs: number, now: () => number = Date.now) {
    this.#max = maxEntries;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The cached answer for `key`, if fresh. */
  get(key: string): T | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Least recently used goes first: re-insert at the end.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.value;
  }

  /** Records a revision the server reported; another one than before empties the cache. */
  observeRevision(revision: string): void {
    if (revision !== this.#revision) {
      this.#entries.clear();
      this.#revision = revision;
    }
  }

  /** Stores an answer decided under `revision`. */
  set(key: string, value: T, revision: string): void {
    this.observeRevision(revision);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs });
  }

  get size(): number {
    return this.#entries.size;
  }

  get revision(): string | undefined {
    return this.#revision;
  }
}
