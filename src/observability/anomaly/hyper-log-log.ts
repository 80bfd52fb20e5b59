import { hash32 } from "./hash.js";

/** 2^8 registers: 256 bytes per sketch, a standard error of about 6.5%. */
const P = 8;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

/**
 * A HyperLogLog count-distinct sketch in 256 bytes: how many different resources one principal
 * was denied on, whatever their number. Small counts use linear counting, so they are close to
 * exact where the enumeration threshold sits.
 */
export class HyperLogLog {
  readonly #registers = new Uint8Array(M);

  add(item: string): void {
    const h = hash32(item);
    const index = h >>> (32 - P);
    const rank = Math.clz32((h << P) | (1 << (P - 1))) + 1;
    if (rank > this.#registers[index]!) this.#registers[index] = rank;
  }

  /** The estimated number of distinct items added. */
  count(): number {
    let sum = 0;
    let zeros = 0;
    for (const r of this.#registers) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const estimate = (ALPHA * M * M) / sum;
    return estimate <= 2.5 * M && zeros > 0 ? M * Math.log(M / zeros) : estimate;
  }

  clear(): void {
    this.#registers.fill(0);
  }
}
