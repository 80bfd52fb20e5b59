import type { Entity, EntityUid, Value } from "../../src/model/entity.js";
import type { Operand, PatternElement, ResourceFilter } from "../../src/model/resource-filter.js";

/**
 * Evaluates a plan's filter over one resource, in memory, exactly as the filter language is
 * documented (src/model/resource-filter.ts); written apart from the engine so a test can hold
 * the plan against Check. `descends(uid, ancestor)` answers the strict, transitive ancestry.
 */
export function matchesFilter(f: ResourceFilter, resource: Entity, descends: (uid: EntityUid, ancestor: EntityUid) => boolean): boolean {
  const read = (o: Operand): Value | undefined => {
    switch (o.kind) {
      case "resource":
        return { kind: "entity", uid: resource.uid };
      case "value":
        return o.value;
      case "attribute": {
        let v: Value | undefined = resource.attrs[o.path[0]!];
        for (const name of o.path.slice(1)) v = v?.kind === "record" ? v.fields[name] : undefined;
        return v;
      }
    }
  };
  const eval_ = (x: ResourceFilter): boolean => matchesFilter(x, resource, descends);
  switch (f.op) {
    case "and":
      return f.args.every(eval_);
    case "or":
      return f.args.some(eval_);
    case "not":
      return !eval_(f.arg);
    case "has":
      return read({ kind: "attribute", path: f.path }) !== undefined;
    case "in": {
      const v = read(f.left);
      return v?.kind === "entity" && descends(v.uid, f.ancestor);
    }
    case "contains": {
      const set = read(f.set);
      const element = read(f.element);
      return set?.kind === "set" && element !== undefined && set.values.some((x) => equal(x, element));
    }
    case "like": {
      const v = read(f.left);
      return v?.kind === "string" && likeRegex(f.pattern).test(v.value);
    }
    default: {
      const l = read(f.left);
      const r = read(f.right);
      if (l === undefined || r === undefined) return false;
      switch (f.op) {
        case "==":
          return equal(l, r);
        case "!=":
          return !equal(l, r);
        default:
          if (l.kind !== "long" || r.kind !== "long") return false;
          return f.op === "<" ? l.value < r.value : f.op === "<=" ? l.value <= r.value : f.op === ">" ? l.value > r.value : l.value >= r.value;
      }
    }
  }
}

function equal(a: Value, b: Value): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "entity":
      return a.uid.type === (b as typeof a).uid.type && a.uid.id === (b as typeof a).uid.id;
    case "set": {
      const bs = (b as typeof a).values;
      return a.values.every((x) => bs.some((y) => equal(x, y))) && bs.every((y) => a.values.some((x) => equal(x, y)));
    }
    case "record": {
      const bf = (b as typeof a).fields;
      const keys = Object.keys(a.fields);
      return keys.length === Object.keys(bf).length && keys.every((k) => bf[k] !== undefined && equal(a.fields[k]!, bf[k]!));
    }
    case "extension":
      return a.fn === (b as typeof a).fn && a.arg === (b as typeof a).arg;
    default:
      return a.value === (b as typeof a).value;
  }
}

function likeRegex(pattern: readonly PatternElement[]): RegExp {
  const body = pattern.map((p) => ("literal" in p ? p.literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : "[\\s\\S]*")).join("");
  return new RegExp(`^${body}$`, "u");
}
