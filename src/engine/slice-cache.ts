import { VerdictError } from "../errors.js";
import type { CedarRuntime } from "./cedar-runtime.js";

/** One preparsed subset of a bundle's policies. */
export interface Slice {
  /** Preparsed policy set id in the Cedar runtime. */
  readonly setId: string;
  /** Policy indices (into the bundle's policy list), ascending. */
  readonly policies: Int32Array;
  /** Static entities (graph indices) the policies' own entity literals reach. */
  readonly literalEntities: Int32Array;
  /** Runtime generation the set was preparsed into; stale after a recycle. */
  generation: number;
}

/** What a slice is made from: its policies' text by id, and the static entities their literals reach. */
export interface SliceBuilder {
  texts(policies: Int32Array): Record<string, string>;
  literalEntities(policies: Int32Array): Int32Array;
}

/**
 * The slices a bundle has used, preparsed, most recently used last. Bounded: an evicted
 * slice's set id is reused by the next new slice, so the Cedar runtime (which cannot drop a
 * preparsed set) holds at most `capacity` sets per bundle. After the runtime is recycled each
 * slice re-preparses lazily, on its next use.
 */
export class SliceCache {
  readonly #runtime: CedarRuntime;
  readonly #prefix: string;
  readonly #capacity: number;
  readonly #build: SliceBuilder;
  readonly #slices = new Map<string, Slice>();
  #nextSlot = 0;

  constructor(runtime: CedarRuntime, prefix: string, capacity: number, build: SliceBuilder) {
    this.#runtime = runtime;
    this.#prefix = prefix;
    this.#capacity = Math.max(1, capacity);
    this.#build = build;
  }

  /** Slices currently held. */
  get size(): number {
    return this.#slices.size;
  }

  /** The slice for `policies` (ascending indices; `key` names the set), preparsed and current. */
  get(key: string, policies: Int32Array): Slice {
    let slice = this.#slices.get(key);
    if (slice !== undefined) {
      this.#slices.delete(key);
      this.#slices.set(key, slice);
    } else {
      let setId: string;
      if (this.#slices.size >= this.#capacity) {
        const [oldest, evicted] = this.#slices.entries().next().value as [string, Slice];
        this.#slices.delete(oldest);
        setId = evicted.setId;
      } else {
        setId = `${this.#prefix}/${this.#nextSlot++}`;
      }
      slice = { setId, policies: policies.slice(), literalEntities: this.#build.literalEntities(policies), generation: -1 };
      this.#slices.set(key, slice);
    }
    if (slice.generation !== this.#runtime.generation) this.#preparse(slice);
    return slice;
  }

  /** Overwrites every set with an empty one, returning the runtime's memory; for a retired bundle. */
  release(): void {
    const generation = this.#runtime.generation;
    for (const s of this.#slices.values()) {
      if (s.generation === generation) this.#runtime.cedar.preparsePolicySet(s.setId, { staticPolicies: {} });
    }
    this.#slices.clear();
  }

  #preparse(slice: Slice): void {
    const texts = this.#build.texts(slice.policies);
    // Mark stale first: if preparsing throws, the slice must not be used as preparsed.
    slice.generation = -1;
    const answer = this.#runtime.cedar.preparsePolicySet(slice.setId, { staticPolicies: texts });
    if (answer.type === "failure") throw new VerdictError("internal", `preparse failed: ${answer.errors.map((e) => e.message).join("; ")}`);
    slice.generation = this.#runtime.generation;
  }
}
