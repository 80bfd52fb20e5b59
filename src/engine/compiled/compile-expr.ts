import type { EntityStore } from "./entity-store.js";
import { CONSTRUCTORS, EXTENSION_FUNCTIONS, orderKey } from "./extensions.js";
import {
  addLong,
  CedarError,
  CedarRecord,
  CedarSet,
  type CValue,
  isLong,
  type Long,
  mulLong,
  negLong,
  setHas,
  subLong,
  typeName,
  Uid,
  valueEquals,
} from "./values.js";

/** What an expression reads: the request and its entities. */
export interface Env {
  readonly principal: Uid;
  readonly action: Uid;
  readonly resource: Uid;
  readonly context: CedarRecord;
  readonly store: EntityStore;
}

export type Eval = (env: Env) => CValue;

/** A construct the compiler does not handle; the policy is decided by cedar-wasm instead. */
export class Unsupported extends Error {}

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A policy literal (`Value` in the JSON form) as a value; integers JSON cannot carry exactly are unsupported. */
export function literal(v: Json): CValue {
  switch (typeof v) {
    case "boolean":
    case "string":
      return v;
    case "number":
      if (!Number.isSafeInteger(v)) throw new Unsupported(`integer literal ${v} is beyond what the JSON form carries exactly`);
      return v === 0 ? 0 : v;
    default:
      if (Array.isArray(v)) return new CedarSet(v.map(literal));
      if (!isObj(v)) throw new Unsupported(`literal ${JSON.stringify(v)}`);
      if ("__entity" in v) return uidOf(v["__entity"]);
      if ("__extn" in v) {
        const x = v["__extn"] as Obj;
        const make = CONSTRUCTORS[String(x["fn"])];
        if (make === undefined || typeof x["arg"] !== "string") throw new Unsupported(`extension literal ${JSON.stringify(v)}`);
        return make(x["arg"]);
      }
      return new CedarRecord(new Map(Object.entries(v).map(([k, x]) => [k, literal(x)])));
  }
}

/** `{type, id}` or `{__entity: {type, id}}` as a uid. */
export function uidOf(v: Json): Uid {
  const o = isObj(v) && "__entity" in v ? v["__entity"] : v;
  if (!isObj(o) || typeof o["type"] !== "string" || typeof o["id"] !== "string") throw new Unsupported(`entity reference ${JSON.stringify(v)}`);
  return new Uid(o["type"], o["id"]);
}

const fail = (msg: string): never => {
  throw new CedarError(msg);
};
const bool = (v: CValue, what: string): boolean => (typeof v === "boolean" ? v : fail(`${what}: expected bool, got ${typeName(v)}`));
const long = (v: CValue, what: string): Long => (isLong(v) ? v : fail(`${what}: expected long, got ${typeName(v)}`));
const set = (v: CValue, what: string): CedarSet => (v instanceof CedarSet ? v : fail(`${what}: expected set, got ${typeName(v)}`));
const entity = (v: CValue, what: string): Uid => (v instanceof Uid ? v : fail(`${what}: expected entity, got ${typeName(v)}`));
const str = (v: CValue, what: string): string => (typeof v === "string" ? v : fail(`${what}: expected string, got ${typeName(v)}`));

function attrOf(env: Env, v: CValue, attr: string): CValue {
  if (v instanceof Uid) {
    const e = env.store.get(v);
    if (e === undefined) return fail(`entity ${v.type}::${JSON.stringify(v.id)} does not exist`);
    const x = e.attrs.get(attr);
    return x === undefined ? fail(`${v.type}::${JSON.stringify(v.id)} has no attribute ${JSON.stringify(attr)}`) : x;
  }
  if (v instanceof CedarRecord) {
    const x = v.fields.get(attr);
    return x === undefined ? fail(`record has no attribute ${JSON.stringify(attr)}`) : x;
  }
  return fail(`cannot read attribute ${JSON.stringify(attr)} of ${typeName(v)}`);
}

function hasAttr(env: Env, v: CValue, attr: string): boolean {
  if (v instanceof Uid) return env.store.get(v)?.attrs.has(attr) ?? false;
  if (v instanceof CedarRecord) return v.fields.has(attr);
  return fail(`cannot test attribute ${JSON.stringify(attr)} of ${typeName(v)}`);
}

function inOp(env: Env, l: CValue, r: CValue): boolean {
  const a = entity(l, "in");
  if (r instanceof Uid) return env.store.isIn(a, r);
  const items = set(r, "in").items;
  let found = false;
  for (const x of items) if (env.store.isIn(a, entity(x, "in")) && !found) found = true;
  return found;
}

/** Glob match of Cedar's `like`; `*` matches any run of characters, newlines included. */
function like(s: string, pattern: readonly (string | null)[]): boolean {
  // pattern: literal characters, null for a wildcard. Classic two-pointer match with backtracking to the last star.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < pattern.length && pattern[pi] !== null && pattern[pi] === s[si]) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === null) {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else return false;
  }
  while (pi < pattern.length && pattern[pi] === null) pi++;
  return pi === pattern.length;
}

const BINARY: Readonly<Record<string, (env: Env, l: CValue, r: CValue) => CValue>> = {
  "==": (_e, l, r) => valueEquals(l, r),
  "!=": (_e, l, r) => !valueEquals(l, r),
  in: inOp,
  "+": (_e, l, r) => addLong(long(l, "+"), long(r, "+")),
  "-": (_e, l, r) => subLong(long(l, "-"), long(r, "-")),
  "*": (_e, l, r) => mulLong(long(l, "*"), long(r, "*")),
  "<": (_e, l, r) => compare(l, r, "<") < 0,
  "<=": (_e, l, r) => compare(l, r, "<=") <= 0,
  ">": (_e, l, r) => compare(l, r, ">") > 0,
  ">=": (_e, l, r) => compare(l, r, ">=") >= 0,
  contains: (_e, l, r) => setHas(set(l, "contains").items, r),
  containsAll: (_e, l, r) => {
    const a = set(l, "containsAll").items;
    for (const x of set(r, "containsAll").items) if (!setHas(a, x)) return false;
    return true;
  },
  containsAny: (_e, l, r) => {
    const a = set(l, "containsAny").items;
    for (const x of set(r, "containsAny").items) if (setHas(a, x)) return true;
    return false;
  },
  getTag: (env, l, r) => {
    const u = entity(l, "getTag");
    const k = str(r, "getTag");
    const e = env.store.get(u);
    if (e === undefined) return fail(`entity ${u.type}::${JSON.stringify(u.id)} does not exist`);
    const v = e.tags?.get(k);
    return v === undefined ? fail(`${u.type}::${JSON.stringify(u.id)} has no tag ${JSON.stringify(k)}`) : v;
  },
  hasTag: (env, l, r) => {
    const u = entity(l, "hasTag");
    const k = str(r, "hasTag");
    return env.store.get(u)?.tags?.has(k) ?? false;
  },
};

function compare(l: CValue, r: CValue, op: string): number {
  const a = orderKey(l, op);
  const b = orderKey(r, op);
  if (a.kind !== b.kind) fail(`${op}: cannot compare ${a.kind} with ${b.kind}`);
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

interface Compiled {
  readonly fn: Eval;
  /** Present when the expression reads nothing from the request and evaluated without error. */
  readonly constant?: { readonly value: CValue };
}

const constant = (value: CValue): Compiled => ({ fn: () => value, constant: { value } });

/**
 * Folds a node whose operands are constants. It is evaluated without a request: one that
 * errors, or that needs the entities (and so fails to read them), stays a run-time closure.
 */
function fold(parts: readonly Compiled[], fn: Eval): Compiled {
  if (!parts.every((p) => p.constant !== undefined)) return { fn };
  try {
    return constant(fn(undefined as unknown as Env));
  } catch {
    return { fn };
  }
}

/** Compiles one expression of a policy's JSON form into a closure. */
export function compileExpr(e: Json): Compiled {
  if (!isObj(e)) throw new Unsupported(`expression ${JSON.stringify(e)}`);
  const keys = Object.keys(e);
  if (keys.length !== 1) throw new Unsupported(`expression with keys ${keys.join(",")}`);
  const op = keys[0]!;
  const body = e[op] as Obj;
  switch (op) {
    case "Value":
      return constant(literal(body));
    case "Var":
      switch (body as unknown as string) {
        case "principal":
          return { fn: (env) => env.principal };
        case "action":
          return { fn: (env) => env.action };
        case "resource":
          return { fn: (env) => env.resource };
        case "context":
          return { fn: (env) => env.context };
      }
      throw new Unsupported(`variable ${JSON.stringify(body)}`);
    case "Slot":
      throw new Unsupported("template slots");
    case "!": {
      const a = compileExpr(body["arg"]);
      const f = a.fn;
      return fold([a], (env) => !bool(f(env), "!"));
    }
    case "neg": {
      const a = compileExpr(body["arg"]);
      const f = a.fn;
      return fold([a], (env) => negLong(long(f(env), "-")));
    }
    case "&&":
    case "||": {
      const l = compileExpr(body["left"]);
      const r = compileExpr(body["right"]);
      const [lf, rf] = [l.fn, r.fn];
      const fn: Eval =
        op === "&&" ? (env) => bool(lf(env), "&&") && bool(rf(env), "&&") : (env) => bool(lf(env), "||") || bool(rf(env), "||");
      return fold([l, r], fn);
    }
    case ".": {
      const l = compileExpr(body["left"]);
      const attr = body["attr"] as string;
      const lf = l.fn;
      return fold([l], (env) => attrOf(env, lf(env), attr));
    }
    case "has": {
      const l = compileExpr(body["left"]);
      const path: string[] = Array.isArray(body["attr"]) ? (body["attr"] as string[]) : [body["attr"] as string];
      const lf = l.fn;
      const last = path.length - 1;
      // `e has a.b.c` is `e has a && e.a has b && e.a.b has c`.
      return fold([l], (env) => {
        let v = lf(env);
        for (let i = 0; i < last; i++) {
          if (!hasAttr(env, v, path[i]!)) return false;
          v = attrOf(env, v, path[i]!);
        }
        return hasAttr(env, v, path[last]!);
      });
    }
    case "like": {
      const l = compileExpr(body["left"]);
      const pattern: (string | null)[] = [];
      for (const p of body["pattern"] as Json[]) {
        if (p === "Wildcard") pattern.push(null);
        else if (isObj(p) && typeof p["Literal"] === "string") for (const ch of p["Literal"].split("")) pattern.push(ch);
        else throw new Unsupported(`like pattern element ${JSON.stringify(p)}`);
      }
      const lf = l.fn;
      return fold([l], (env) => like(str(lf(env), "like"), pattern));
    }
    case "is": {
      const l = compileExpr(body["left"]);
      const type = body["entity_type"] as string;
      const lf = l.fn;
      if (body["in"] === undefined) return fold([l], (env) => entity(lf(env), "is").type === type);
      const r = compileExpr(body["in"]);
      const rf = r.fn;
      return fold([l, r], (env) => {
        const u = entity(lf(env), "is");
        return u.type === type && inOp(env, u, rf(env));
      });
    }
    case "if-then-else": {
      const c = compileExpr(body["if"]);
      const t = compileExpr(body["then"]);
      const f = compileExpr(body["else"]);
      const [cf, tf, ff] = [c.fn, t.fn, f.fn];
      return fold([c, t, f], (env) => (bool(cf(env), "if") ? tf(env) : ff(env)));
    }
    case "Set": {
      const items = (body as unknown as Json[]).map(compileExpr);
      const fns = items.map((i) => i.fn);
      return fold(items, (env) => new CedarSet(fns.map((f) => f(env))));
    }
    case "Record": {
      const entries = Object.entries(body).map(([k, v]) => [k, compileExpr(v)] as const);
      return fold(
        entries.map(([, c]) => c),
        (env) => new CedarRecord(new Map(entries.map(([k, c]) => [k, c.fn(env)]))),
      );
    }
    case "isEmpty": {
      const a = compileExpr(body["arg"]);
      const f = a.fn;
      return fold([a], (env) => set(f(env), "isEmpty").items.length === 0);
    }
  }
  const binary = BINARY[op];
  if (binary !== undefined && isObj(body) && "left" in body && "right" in body) {
    const l = compileExpr(body["left"]);
    const r = compileExpr(body["right"]);
    const [lf, rf] = [l.fn, r.fn];
    return fold([l, r], (env) => binary(env, lf(env), rf(env)));
  }
  if (!Array.isArray(body)) throw new Unsupported(`operator ${op}`);
  const args = (body as Json[]).map(compileExpr);
  const fns = args.map((a) => a.fn);
  const make = CONSTRUCTORS[op];
  if (make !== undefined && args.length === 1) {
    const f = fns[0]!;
    return fold(args, (env) => make(str(f(env), op)));
  }
  const ext = EXTENSION_FUNCTIONS[op];
  if (ext === undefined || ext.arity !== args.length) throw new Unsupported(`extension function ${op}/${args.length}`);
  const call = ext.fn;
  return fold(args, (env) => call(fns.map((f) => f(env))) as CValue);
}
