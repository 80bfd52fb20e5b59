import { addLong, CedarError, ExtValue, type Long, mulLong, negLong, normLong, subLong } from "./values.js";

/** An `ipaddr`: address bits, family and prefix length, compared without normalising. */
export class IpAddr extends ExtValue {
  readonly typeName = "ipaddr";
  constructor(
    readonly v6: boolean,
    readonly addr: bigint,
    readonly prefix: number,
  ) {
    super();
  }
  equals(o: ExtValue): boolean {
    return o instanceof IpAddr && o.v6 === this.v6 && o.addr === this.addr && o.prefix === this.prefix;
  }
  get bits(): number {
    return this.v6 ? 128 : 32;
  }
  /** The first `n` bits of the address. */
  network(n: number): bigint {
    return this.addr >> BigInt(this.bits - n);
  }
  isInRange(range: IpAddr): boolean {
    return this.v6 === range.v6 && this.prefix >= range.prefix && this.network(range.prefix) === range.network(range.prefix);
  }
  /** True when the whole range lies inside `net/len`. */
  within(net: bigint, len: number): boolean {
    return this.prefix >= len && this.network(len) === net;
  }
}

const V4 = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
const HEX = /^[0-9a-fA-F]{1,4}$/;

function parseV4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (m === null) return undefined;
  let out = 0n;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return undefined;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function groups(s: string): bigint[] | undefined {
  if (s === "") return [];
  const out: bigint[] = [];
  for (const g of s.split(":")) {
    if (!HEX.test(g)) return undefined;
    out.push(BigInt(`0x${g}`));
  }
  return out;
}

function parseV6(s: string): bigint | undefined {
  const at = s.indexOf("::");
  let all: bigint[];
  if (at < 0) {
    const g = groups(s);
    if (g === undefined || g.length !== 8) return undefined;
    all = g;
  } else {
    if (s.indexOf("::", at + 1) >= 0) return undefined;
    const head = groups(s.slice(0, at));
    const tail = groups(s.slice(at + 2));
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    all = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  }
  let out = 0n;
  for (const g of all) out = (out << 16n) | g;
  return out;
}

/** `ip("…")`: IPv4 or IPv6 with an optional prefix; no embedded IPv4, zones or leading zeros. */
export function parseIp(s: string): IpAddr {
  const bad = () => new CedarError(`invalid IP address: ${JSON.stringify(s)}`);
  if (s.includes(":") && s.includes(".")) throw bad();
  const slash = s.indexOf("/");
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const v6 = addrText.includes(":");
  const addr = v6 ? parseV6(addrText) : parseV4(addrText);
  if (addr === undefined) throw bad();
  const bits = v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) throw bad();
    prefix = Number(p);
    if (prefix > bits) throw bad();
  }
  return new IpAddr(v6, addr, prefix);
}

/** An extension value that is one long underneath; equal when of the same class and long. */
abstract class LongBacked extends ExtValue {
  constructor(protected readonly value: Long) {
    super();
  }
  equals(o: ExtValue): boolean {
    return o.constructor === this.constructor && (o as LongBacked).value === this.value;
  }
}

/** A `decimal`: the value times 10^4 as a long. */
export class Decimal extends LongBacked {
  readonly typeName = "decimal";
  get scaled(): Long {
    return this.value;
  }
}

export function parseDecimal(s: string): Decimal {
  const m = /^(-?)([0-9]+)\.([0-9]{1,4})$/.exec(s);
  if (m === null) throw new CedarError(`invalid decimal: ${JSON.stringify(s)}`);
  const v = BigInt(m[2]!) * 10000n + BigInt(m[3]!.padEnd(4, "0"));
  return new Decimal(normLong(m[1] === "-" ? -v : v, `decimal out of range: ${JSON.stringify(s)}`));
}

/** A `datetime`: milliseconds since the Unix epoch. */
export class Datetime extends LongBacked {
  readonly typeName = "datetime";
  get ms(): Long {
    return this.value;
  }
}

/** A `duration` in milliseconds. */
export class Duration extends LongBacked {
  readonly typeName = "duration";
  get ms(): Long {
    return this.value;
  }
}

const DATETIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{3}))?(?:(Z)|([+-])([0-9]{2})([0-9]{2})))?$/;

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseDatetime(s: string): Datetime {
  const m = DATETIME.exec(s);
  const bad = () => new CedarError(`invalid datetime: ${JSON.stringify(s)}`);
  if (m === null) throw bad();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && leap(y) ? 29 : MONTH_DAYS[mo - 1]!)) throw bad();
  let ms = daysFromCivil(y, mo, d) * 86400000;
  if (m[4] !== undefined) {
    // A time needs a zone: `Z` or an offset.
    if (m[8] === undefined && m[9] === undefined) throw bad();
    const [h, mi, sec] = [Number(m[4]), Number(m[5]), Number(m[6])];
    if (h > 23 || mi > 59 || sec > 59) throw bad();
    ms += ((h * 60 + mi) * 60 + sec) * 1000 + (m[7] === undefined ? 0 : Number(m[7]));
    if (m[9] !== undefined) {
      const [oh, om] = [Number(m[10]), Number(m[11])];
      if (oh > 23 || om > 59) throw bad();
      const off = (oh * 60 + om) * 60000;
      ms += m[9] === "+" ? -off : off;
    }
  }
  return new Datetime(ms);
}

const UNITS: readonly [string, bigint][] = [
  ["d", 86400000n],
  ["h", 3600000n],
  ["m", 60000n],
  ["s", 1000n],
  ["ms", 1n],
];
const DURATION = /^(-?)(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;

export function parseDuration(s: string): Duration {
  const m = DURATION.exec(s);
  if (m === null || m.slice(2).every((x) => x === undefined)) throw new CedarError(`invalid duration: ${JSON.stringify(s)}`);
  let total = 0n;
  UNITS.forEach(([, factor], i) => {
    const part = m[i + 2];
    if (part !== undefined) total += BigInt(part) * factor;
  });
  return new Duration(normLong(m[1] === "-" ? -total : total, `duration out of range: ${JSON.stringify(s)}`));
}

const DAY = 86400000;

// `%` on doubles is exact, so these stay exact on safe integers.
function floorDiv(a: Long, b: number): Long {
  if (typeof a === "number") {
    let r = a % b;
    if (r < 0) r += b;
    return (a - r) / b;
  }
  const B = BigInt(b);
  const q = a / B;
  return normLong(a % B !== 0n && a < 0n ? q - 1n : q);
}

function truncDiv(a: Long, b: number): Long {
  if (typeof a === "number") return (a - (a % b)) / b + 0;
  return normLong(a / BigInt(b));
}

/** Constructors, by the name an EST or `__extn` uses. */
export const CONSTRUCTORS: Readonly<Record<string, (s: string) => ExtValue>> = {
  ip: parseIp,
  decimal: parseDecimal,
  datetime: parseDatetime,
  duration: parseDuration,
};

/** Schema extension type name → constructor, for type-directed parsing. */
export const CONSTRUCTOR_OF_TYPE: Readonly<Record<string, string>> = { ipaddr: "ip", decimal: "decimal", datetime: "datetime", duration: "duration" };

type Method = (args: unknown[]) => unknown;
const arg = <T>(v: unknown, cls: abstract new (...a: never[]) => T, fn: string): T => {
  if (!(v instanceof cls)) throw new CedarError(`${fn}: wrong argument type`);
  return v;
};
const ip = (v: unknown, fn: string) => arg(v, IpAddr, fn);
const dec = (v: unknown, fn: string) => arg(v, Decimal, fn);
const dt = (v: unknown, fn: string) => arg(v, Datetime, fn);
const dur = (v: unknown, fn: string) => arg(v, Duration, fn);
const lt = (a: Long, b: Long) => a < b;

/** Every extension function and method Cedar 4.13 has, with its arity. */
export const EXTENSION_FUNCTIONS: Readonly<Record<string, { arity: number; fn: Method }>> = {
  isIpv4: { arity: 1, fn: ([a]) => !ip(a, "isIpv4").v6 },
  isIpv6: { arity: 1, fn: ([a]) => ip(a, "isIpv6").v6 },
  isLoopback: { arity: 1, fn: ([a]) => (ip(a, "isLoopback").v6 ? ip(a, "").within(1n, 128) : ip(a, "").within(127n, 8)) },
  isMulticast: { arity: 1, fn: ([a]) => (ip(a, "isMulticast").v6 ? ip(a, "").within(0xffn, 8) : ip(a, "").within(0xen, 4)) },
  isInRange: { arity: 2, fn: ([a, b]) => ip(a, "isInRange").isInRange(ip(b, "isInRange")) },
  lessThan: { arity: 2, fn: ([a, b]) => lt(dec(a, "lessThan").scaled, dec(b, "lessThan").scaled) },
  lessThanOrEqual: { arity: 2, fn: ([a, b]) => !lt(dec(b, "lessThanOrEqual").scaled, dec(a, "lessThanOrEqual").scaled) },
  greaterThan: { arity: 2, fn: ([a, b]) => lt(dec(b, "greaterThan").scaled, dec(a, "greaterThan").scaled) },
  greaterThanOrEqual: { arity: 2, fn: ([a, b]) => !lt(dec(a, "greaterThanOrEqual").scaled, dec(b, "greaterThanOrEqual").scaled) },
  offset: { arity: 2, fn: ([a, b]) => new Datetime(addLong(dt(a, "offset").ms, dur(b, "offset").ms)) },
  durationSince: { arity: 2, fn: ([a, b]) => new Duration(subLong(dt(a, "durationSince").ms, dt(b, "durationSince").ms)) },
  toDate: { arity: 1, fn: ([a]) => new Datetime(mulLong(floorDiv(dt(a, "toDate").ms, DAY), DAY)) },
  toTime: {
    arity: 1,
    fn: ([a]) => {
      const ms = dt(a, "toTime").ms;
      return new Duration(subLong(ms, mulLong(floorDiv(ms, DAY), DAY)));
    },
  },
  toDays: { arity: 1, fn: ([a]) => truncDiv(dur(a, "toDays").ms, DAY) },
  toHours: { arity: 1, fn: ([a]) => truncDiv(dur(a, "toHours").ms, 3600000) },
  toMinutes: { arity: 1, fn: ([a]) => truncDiv(dur(a, "toMinutes").ms, 60000) },
  toSeconds: { arity: 1, fn: ([a]) => truncDiv(dur(a, "toSeconds").ms, 1000) },
  toMilliseconds: { arity: 1, fn: ([a]) => dur(a, "toMilliseconds").ms },
};

/** `<`-family ordering: longs, datetimes and durations; anything else is a type error. */
export function orderKey(v: unknown, op: string): { kind: string; key: Long } {
  if (typeof v === "number" || typeof v === "bigint") return { kind: "long", key: v };
  if (v instanceof Datetime) return { kind: "datetime", key: v.ms };
  if (v instanceof Duration) return { kind: "duration", key: v.ms };
  throw new CedarError(`${op}: operands must be longs, datetimes or durations`);
}

export { negLong };
