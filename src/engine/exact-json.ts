import { parse, stringify } from "lossless-json";
import { I64_MAX, I64_MIN } from "./compiled/values.js";

/**
 * JSON that keeps Cedar's longs exact. Cedar's longs are 64-bit; a JS number is exact only
 * within ±(2^53−1), so `JSON.parse` silently rounds a bundle's `9007199254740993`, and
 * `JSON.stringify` refuses a `bigint` outright. Here an integer beyond the safe range is read
 * as a `bigint` and written back as its exact digits.
 */

/** A number token Cedar would refuse (it reads whole numbers only), kept so it can be named. */
class NotALong {
  constructor(
    readonly text: string,
    readonly why: string,
  ) {}
}

const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint | NotALong {
  if (!INTEGER.test(text)) return new NotALong(text, "is not a whole number (Cedar's longs are 64-bit integers)");
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(text);
  return big < I64_MIN || big > I64_MAX ? new NotALong(text, "is outside Cedar's 64-bit long range") : big;
}

/**
 * Parses JSON text exactly: integers beyond ±(2^53−1) become `bigint`, duplicate keys with
 * different values are an error (Cedar refuses them too), and a number that is not a whole
 * number (`1.5`, `1e3`) is an error naming its path, because Cedar would refuse it.
 */
export function parseExactJson(text: string): unknown {
  const value = parse(text, null, parseNumber);
  const bad = findNotALong(value, "");
  if (bad !== undefined) throw new RangeError(`${bad.path || "(top)"}: ${bad.text}`);
  return value;
}

function findNotALong(node: unknown, path: string): { path: string; text: string } | undefined {
  if (node instanceof NotALong) return { path, text: `${node.text} ${node.why}` };
  if (node === null || typeof node !== "object") return undefined;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = findNotALong(node[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(node)) {
    const found = findNotALong(value, /^[A-Za-z_]\w*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * `JSON.stringify` that writes a `bigint` as its exact digits. The native one runs first (it
 * is several times faster); only a value holding a `bigint`, which it refuses, takes the
 * lossless path. Any other failure (a cycle) is rethrown as it was.
 */
export function stringifyExactJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
    return stringify(value);
  }
}

/** The `JSON` that cedar-wasm's glue code is given: exact in what it sends to Cedar. */
export const EXACT_JSON: Pick<typeof JSON, "parse" | "stringify"> = Object.freeze({
  parse: JSON.parse,
  stringify: stringifyExactJson as typeof JSON.stringify,
});
