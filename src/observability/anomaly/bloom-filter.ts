import { hash32 } from "./hash.js";

/**
 * A Bloom filter sized for `capacity` items at a 1% false-positive rate (about 1.2 bytes per
 * item): "have we seen this principal before?" in fixed memory. Past its capacity it answers
 * "seen" more often, so first-seen signals become rarer, never more frequent.
 */
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #size: number;
  readonly #hashes = 7;

  constructor(capacity: number) {
    this.#size = Math.max(64, Math.ceil((capacity * -Math.log(0.01)) / Math.LN2 ** 2));
    this.#bits = new Uint32Array(Math.ceil(this.#size / 32));
  }

  /** Adds `item`; returns whether it was (probably) there already. */
  add(item: string): boolean {
    const h1 = hash32(item);
    const h2 = hash32(item, 0x9747b28c) | 1;
    let present = true;
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const at = bit % this.#size;
      const word = at >>> 5;
      const mask = 1 << (at & 31);
      if ((this.#bits[word]! & mask) === 0) {
        present = false;
        this.#bits[word]! |= mask;
      }
    }
    return present;
  }
}
