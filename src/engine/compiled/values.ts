/**
 * Cedar values as the compiled evaluator holds them: `boolean`, `string`, long (`number` when a
 * safe integer, else `bigint`, so every long has one representation and `===` compares it),
 * `Uid`, `CedarSet`, `CedarRecord` and the extension classes of extensions.ts.
 */

/** An evaluation error: the policy that raised it does not apply and is reported by id. */
export class CedarError extends Error {}

/** A request Cedar refuses as a whole (bad extension literal, cycle, schema violation). */
export class Refusal extends Error {}

/** An entity reference; `key` identifies it in maps (`type` cannot contain NUL). */
export class Uid {
  readonly key: string;
  constructor(
    readonly type: string,
    readonly id: string,
  ) {
    this.key = `${type}\0${id}`;
  }
}

/** A Cedar set: elements in arrival order, possibly repeated; compared as a set. */
export class CedarSet {
  constructor(readonly items: readonly CValue[]) {}
}

/** A Cedar record; a Map so that keys such as `__proto__` are plain keys. */
export class CedarRecord {
  constructor(readonly fields: ReadonlyMap<string, CValue>) {}
}

/** Extension values share this shape: a kind name and structural equality. */
export abstract class ExtValue {
  abstract readonly typeName: string;
  abstract equals(other: ExtValue): boolean;
}

export type Long = number | bigint;
export type CValue = boolean | string | Long | Uid | CedarSet | CedarRecord | ExtValue;

export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;

/** A bigint as a long in its one representation; out of i64 is an overflow error. */
export function normLong(v: bigint, what = "integer overflow"): Long {
  if (v < I64_MIN || v > I64_MAX) throw new CedarError(what);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export const isLong = (v: CValue): v is Long => typeof v === "number" || typeof v === "bigint";

export function addLong(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normLong(BigInt(a) + BigInt(b), "integer overflow in +");
}

export function subLong(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return normLong(BigInt(a) - BigInt(b), "integer overflow in -");
}

export function mulLong(a: Long, b: Long): Long {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r === 0 ? 0 : r;
  }
  return normLong(BigInt(a) * BigInt(b), "integer overflow in *");
}

export function negLong(a: Long): Long {
  if (typeof a === "number") return a === 0 ? 0 : -a;
  return normLong(-a, "integer overflow in negation");
}

/** `<` on longs (mixed representations compare exactly). */

export function typeName(v: CValue): string {
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "string":
      return "string";
    case "number":
    case "bigint":
      return "long";
    default:
      if (v instanceof Uid) return `entity of type ${v.type}`;
      if (v instanceof CedarSet) return "set";
      if (v instanceof CedarRecord) return "record";
      return v.typeName;
  }
}

/** Cedar's structural equality: different types are unequal, never an error. */
export function valueEquals(a: CValue, b: CValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof Uid) return b instanceof Uid && a.key === b.key;
  if (a instanceof CedarSet) {
    if (!(b instanceof CedarSet)) return false;
    return subset(a.items, b.items) && subset(b.items, a.items);
  }
  if (a instanceof CedarRecord) {
    if (!(b instanceof CedarRecord) || a.fields.size !== b.fields.size) return false;
    for (const [k, v] of a.fields) {
      const w = b.fields.get(k);
      if (w === undefined || !valueEquals(v, w)) return false;
    }
    return true;
  }
  return b instanceof ExtValue && a.typeName === b.typeName && a.equals(b);
}

export function setHas(items: readonly CValue[], v: CValue): boolean {
  for (const x of items) if (valueEquals(x, v)) return true;
  return false;
}

export function subset(a: readonly CValue[], b: readonly CValue[]): boolean {
  for (const x of a) if (!setHas(b, x)) return false;
  return true;
}
