import { create } from "@bufbuild/protobuf";
import { type Entity, EntitySchema, type EntityUid, EntityUidSchema, type Value, ValueSchema } from "./gen/verdict/v1/authorization_pb.js";

const UID = Symbol("verdict.uid");
const EXTENSION = Symbol("verdict.extension");

/** An entity reference, e.g. `uid("App::User", "alice")`. */
export interface Uid {
  readonly [UID]: true;
  readonly type: string;
  readonly id: string;
}

/** A Cedar extension value (ip, decimal, datetime, duration). */
export interface ExtensionValue {
  readonly [EXTENSION]: true;
  readonly fn: string;
  readonly arg: string;
}

/**
 * A request value written as plain data: string, boolean, a safe integer or bigint (Cedar
 * Long), an array or Set (Cedar Set), a plain object (Cedar Record), a `uid(…)` (an entity
 * reference) or an extension (`ip(…)`, `decimal(…)`, `datetime(…)`, `duration(…)`).
 */
export type PlainValue = string | boolean | number | bigint | Uid | ExtensionValue | readonly PlainValue[] | ReadonlySet<PlainValue> | { readonly [key: string]: PlainValue };

/** An entity with its data: attributes, parents and tags. */
export interface EntityInput {
  readonly uid: Uid;
  readonly attrs?: Readonly<Record<string, PlainValue>>;
  readonly parents?: readonly Uid[];
  readonly tags?: Readonly<Record<string, PlainValue>>;
}

/** An entity reference. */
export function uid(type: string, id: string): Uid {
  if (type === "" || id === "") throw new TypeError("an entity type and id must not be empty");
  return { [UID]: true, type, id };
}

/** An entity with attributes, parents and tags, e.g. `entity("App::User", "alice", { attrs: { dept: "eng" } })`. */
export function entity(type: string, id: string, data: Omit<EntityInput, "uid"> = {}): EntityInput {
  return { uid: uid(type, id), ...data };
}

const extension = (fn: string) => (arg: string): ExtensionValue => ({ [EXTENSION]: true, fn, arg });
/** `ip("10.0.0.1")`, `ip("10.0.0.0/8")`. */
export const ip = extension("ip");
/** `decimal("1.25")`. */
export const decimal = extension("decimal");
/** `datetime("2026-01-01T00:00:00Z")`. */
export const datetime = extension("datetime");
/** `duration("1h30m")`. */
export const duration = extension("duration");

/** True for a `uid(…)`. */
export function isUid(x: unknown): x is Uid {
  return typeof x === "object" && x !== null && (x as Uid)[UID] === true;
}

/** The wire form of a uid. */
export function toEntityUid(u: Uid): EntityUid {
  return create(EntityUidSchema, { type: u.type, id: u.id });
}

/** The wire form of a plain value; throws a TypeError naming the path of a value Cedar cannot hold. */
export function toValue(x: PlainValue, path = "value"): Value {
  if (typeof x === "string") return create(ValueSchema, { kind: { case: "string", value: x } });
  if (typeof x === "boolean") return create(ValueSchema, { kind: { case: "bool", value: x } });
  if (typeof x === "bigint") return create(ValueSchema, { kind: { case: "long", value: x } });
  if (typeof x === "number") {
    if (!Number.isSafeInteger(x)) throw new TypeError(`${path}: ${x} is not a safe integer (Cedar has no floats: use decimal("…"))`);
    return create(ValueSchema, { kind: { case: "long", value: BigInt(x) } });
  }
  if (isUid(x)) return create(ValueSchema, { kind: { case: "entity", value: toEntityUid(x) } });
  if ((x as ExtensionValue)[EXTENSION] === true) {
    const e = x as ExtensionValue;
    return create(ValueSchema, { kind: { case: "extension", value: { fn: e.fn, arg: e.arg } } });
  }
  if (Array.isArray(x) || x instanceof Set) {
    return create(ValueSchema, { kind: { case: "set", value: { values: [...(x as Iterable<PlainValue>)].map((v, i) => toValue(v, `${path}[${i}]`)) } } });
  }
  if (typeof x === "object" && x !== null) return create(ValueSchema, { kind: { case: "record", value: { fields: toFields(x as Record<string, PlainValue>, path) } } });
  throw new TypeError(`${path}: ${typeof x} is not a Cedar value`);
}

/** A map of plain values in wire form. */
export function toFields(record: Readonly<Record<string, PlainValue>>, path: string): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [k, v] of Object.entries(record)) out[k] = toValue(v, `${path}.${k}`);
  return out;
}

/** The wire form of an entity (a bare uid is an entity without data). */
export function toEntity(e: EntityInput | Uid, path: string): Entity {
  const input: EntityInput = isUid(e) ? { uid: e } : e;
  return create(EntitySchema, {
    uid: toEntityUid(input.uid),
    attrs: toFields(input.attrs ?? {}, `${path}.attrs`),
    parents: (input.parents ?? []).map(toEntityUid),
    tags: toFields(input.tags ?? {}, `${path}.tags`),
  });
}
