import type { Value } from "../../model/entity.js";
import { CONSTRUCTOR_OF_TYPE, CONSTRUCTORS } from "./extensions.js";
import type { SchemaModel, SType } from "./schema-types.js";
import { CedarError, CedarRecord, CedarSet, type CValue, normLong, Refusal, Uid } from "./values.js";

const refuse = (path: string, msg: string): never => {
  throw new Refusal(`${path}: ${msg}`);
};

function extension(fn: string, arg: string, path: string): CValue {
  const make = CONSTRUCTORS[fn];
  if (make === undefined) return refuse(path, `unknown extension function ${JSON.stringify(fn)}`);
  try {
    return make(arg);
  } catch (err) {
    if (err instanceof CedarError) return refuse(path, err.message);
    throw err;
  }
}

function longOf(n: number, path: string): CValue {
  if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
  // cedar-wasm reads a number through its shortest decimal form: 2**62 arrives as
  // 4611686018427388000, 1.5 and 1e+300 are not integers and are refused.
  const text = String(n);
  if (!/^-?[0-9]+$/.test(text)) return refuse(path, `${text} is not an integer`);
  try {
    return normLong(BigInt(text));
  } catch {
    return refuse(path, `${text} does not fit a 64-bit integer`);
  }
}

/**
 * Reads request values (the model) and bundle values (Cedar JSON) into evaluator values,
 * directed by the schema type when there is one, refusing exactly what Cedar refuses.
 */
export class ValueReader {
  constructor(readonly schema: SchemaModel | undefined) {}

  /** A model value; `type` is the schema's expectation (undefined: none). */
  model(v: Value, type: SType | undefined, path: string): CValue {
    if (type === undefined) {
      switch (v.kind) {
        case "bool":
        case "string":
          return v.value;
        case "long":
          return longOf(v.value as number, path);
        case "entity":
          return new Uid(v.uid.type, v.uid.id);
        case "extension":
          return extension(v.fn, v.arg, path);
        case "set":
          return new CedarSet(v.values.map((x, i) => this.model(x, undefined, `${path}[${i}]`)));
        case "record":
          return new CedarRecord(this.#fields(v.fields, undefined, path, (x, t, p) => this.model(x, t, p)));
      }
    }
    switch (type.kind) {
      case "Long":
        return v.kind === "long" ? longOf(v.value as number, path) : refuse(path, `expected a long, got ${v.kind}`);
      case "String":
        return v.kind === "string" ? v.value : refuse(path, `expected a string, got ${v.kind}`);
      case "Bool":
        return v.kind === "bool" ? v.value : refuse(path, `expected a boolean, got ${v.kind}`);
      case "Set":
        return v.kind === "set" ? new CedarSet(v.values.map((x, i) => this.model(x, type.element, `${path}[${i}]`))) : refuse(path, `expected a set, got ${v.kind}`);
      case "Record":
        return v.kind === "record"
          ? new CedarRecord(this.#fields(v.fields, type, path, (x, t, p) => this.model(x, t, p)))
          : refuse(path, `expected a record, got ${v.kind}`);
      case "Entity": {
        let uid: Uid | undefined;
        if (v.kind === "entity") uid = new Uid(v.uid.type, v.uid.id);
        else if (v.kind === "record") uid = uidFromFields(v.fields as Record<string, unknown>, (x) => (x as Value).kind === "string" ? (x as { value: string }).value : undefined);
        if (uid === undefined) return refuse(path, `expected an entity of type ${type.name}, got ${v.kind}`);
        return this.#checkUid(uid, type.name, path);
      }
      case "Ext": {
        const fn = CONSTRUCTOR_OF_TYPE[type.name]!;
        if (v.kind === "extension" && v.fn === fn) return extension(fn, v.arg, path);
        if (v.kind === "string") return extension(fn, v.value, path);
        return refuse(path, `expected ${type.name}, got ${v.kind}`);
      }
    }
  }

  /** A Cedar JSON value (a bundle's static entities, already accepted by Cedar). */
  json(v: unknown, type: SType | undefined, path: string): CValue {
    if (typeof v === "boolean" || typeof v === "string") {
      if (typeof v === "string" && type?.kind === "Ext") return extension(CONSTRUCTOR_OF_TYPE[type.name]!, v, path);
      return v;
    }
    if (typeof v === "number") return longOf(v, path);
    // Bundle JSON is read exactly: a long beyond 2^53 arrives as a bigint.
    if (typeof v === "bigint") return normLong(v, `${path}: ${v} is outside the 64-bit range`);
    if (Array.isArray(v)) return new CedarSet(v.map((x, i) => this.json(x, type?.kind === "Set" ? type.element : undefined, `${path}[${i}]`)));
    if (typeof v !== "object" || v === null) return refuse(path, "null is not a Cedar value");
    const o = v as Record<string, unknown>;
    if ("__entity" in o) {
      const e = o["__entity"] as Record<string, unknown>;
      return new Uid(String(e["type"]), String(e["id"]));
    }
    if ("__extn" in o) {
      const x = o["__extn"] as Record<string, unknown>;
      return extension(String(x["fn"]), String(x["arg"]), path);
    }
    if (type?.kind === "Entity") {
      const uid = uidFromFields(o, (x) => (typeof x === "string" ? x : undefined));
      if (uid !== undefined) return uid;
    }
    return new CedarRecord(this.#fields(o, type?.kind === "Record" ? type : undefined, path, (x, t, p) => this.json(x, t, p)));
  }

  /** A record's fields checked against a record type (declared, required, closed). */
  #fields<V>(fields: Readonly<Record<string, V>>, type: (SType & { kind: "Record" }) | undefined, path: string, read: (v: V, t: SType | undefined, p: string) => CValue): Map<string, CValue> {
    const out = new Map<string, CValue>();
    for (const k of Object.keys(fields)) {
      const attr = type?.attrs.get(k);
      if (type !== undefined && attr === undefined && !type.open) refuse(path, `attribute ${JSON.stringify(k)} is not declared in the schema`);
      out.set(k, read(fields[k]!, attr?.type, `${path}.${k}`));
    }
    if (type !== undefined) for (const [k, a] of type.attrs) if (a.required && !out.has(k)) refuse(path, `required attribute ${JSON.stringify(k)} is missing`);
    return out;
  }

  #checkUid(uid: Uid, expected: string, path: string): Uid {
    if (uid.type !== expected) refuse(path, `expected an entity of type ${expected}, got ${uid.type}`);
    this.checkEnum(uid, path);
    return uid;
  }

  /** An enumerated entity type accepts only its listed ids. */
  checkEnum(uid: Uid, path: string): void {
    const ids = this.schema?.entityTypes.get(uid.type)?.enumIds;
    if (ids !== undefined && !ids.has(uid.id)) refuse(path, `${JSON.stringify(uid.id)} is not a value of the enumerated type ${uid.type}`);
  }
}

function uidFromFields(fields: Record<string, unknown>, str: (x: unknown) => string | undefined): Uid | undefined {
  const keys = Object.keys(fields);
  if (keys.length !== 2 || !("type" in fields) || !("id" in fields)) return undefined;
  const type = str(fields["type"]);
  const id = str(fields["id"]);
  return type === undefined || id === undefined ? undefined : new Uid(type, id);
}
