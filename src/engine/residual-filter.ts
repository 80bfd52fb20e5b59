import type { CedarValueJson, Expr, PatternElem } from "@cedar-policy/cedar-wasm/nodejs";
import { VerdictError } from "../errors.js";
import type { EntityUid, Value } from "../model/entity.js";
import type { ComparisonOp, Operand, PatternElement } from "../model/resource-filter.js";
import type { Cond, FilterBuilder } from "./filter-builder.js";
import type { AttrType, RecordType } from "./schema-hints.js";

/**
 * A boolean residual split three ways, because Cedar's conditions can also error: `t` when it
 * evaluates to true, `f` when to false, `e` when it errors. Exactly one holds for a resource.
 * A permit applies when `t`; a forbid when `t`, or (strict mode) `t` or `e`.
 */
export interface Tri {
  readonly t: Cond;
  readonly f: Cond;
  readonly e: Cond;
}

/** What converting one policy's residual needs to know. */
export interface ResidualContext {
  readonly policyId: string;
  readonly resourceType: string;
  /** The resource type's declared attributes; undefined without a schema. */
  readonly shape: RecordType | undefined;
  /** The entity itself and every ancestor of it (for `principal in resource.members`). */
  readonly selfAndAncestors: (uid: EntityUid) => readonly EntityUid[];
  /** Whether a residual part that does not involve the resource errors when evaluated. */
  readonly errors: (expr: Expr) => boolean;
  readonly build: FilterBuilder;
}

/** A non-boolean part of a residual. */
type Term =
  | { readonly kind: "value"; readonly value: Value }
  | { readonly kind: "resource" }
  /** `type` is undefined when unknown (no schema, open record); `err` is when reading it errors (absent). */
  | { readonly kind: "attribute"; readonly path: readonly string[]; readonly type: AttrType | undefined; readonly err: Cond }
  | { readonly kind: "error" };

const EXTENSION_CONSTRUCTORS = new Set(["ip", "decimal", "datetime", "duration"]);
const FLIPPED: Record<string, ComparisonOp> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };
const ERROR: Tri = { t: false, f: false, e: true };

/** Splits a policy's residual condition (with the resource unknown) into a `Tri` of resource filters. */
export function residualCondition(expr: Expr, ctx: ResidualContext): Tri {
  return new ResidualReader(ctx).condition(expr);
}

class ResidualReader {
  readonly #ctx: ResidualContext;
  readonly #b: FilterBuilder;

  constructor(ctx: ResidualContext) {
    this.#ctx = ctx;
    this.#b = ctx.build;
  }

  condition(expr: Expr): Tri {
    const b = this.#b;
    const [op, body] = only(expr);
    const node = body as Record<string, Expr> & { attr: string | string[]; pattern: PatternElem[]; entity_type: string; in?: Expr };
    switch (op) {
      case "&&": {
        const l = this.condition(node["left"]!);
        const r = this.condition(node["right"]!);
        return { t: b.and(l.t, r.t), f: b.or(l.f, b.and(l.t, r.f)), e: b.or(l.e, b.and(l.t, r.e)) };
      }
      case "||": {
        const l = this.condition(node["left"]!);
        const r = this.condition(node["right"]!);
        return { t: b.or(l.t, b.and(l.f, r.t)), f: b.and(l.f, r.f), e: b.or(l.e, b.and(l.f, r.e)) };
      }
      case "!": {
        const a = this.condition(node["arg"]!);
        return { t: a.f, f: a.t, e: a.e };
      }
      case "if-then-else": {
        const c = this.condition(node["if"]!);
        const x = this.condition(node["then"]!);
        const y = this.condition(node["else"]!);
        return {
          t: b.or(b.and(c.t, x.t), b.and(c.f, y.t)),
          f: b.or(b.and(c.t, x.f), b.and(c.f, y.f)),
          e: b.or(c.e, b.and(c.t, x.e), b.and(c.f, y.e)),
        };
      }
    }
    if (!mentionsResource(expr)) {
      const term = this.#term(expr);
      if (term.kind === "value" && term.value.kind === "bool") return constant(term.value.value);
      // An error, or a non-boolean where Cedar needs a boolean (a type error).
      return ERROR;
    }
    switch (op) {
      case "==":
      case "!=":
        return this.#equality(op, this.#term(node["left"]!), this.#term(node["right"]!));
      case "<":
      case "<=":
      case ">":
      case ">=":
        return this.#ordering(op, this.#term(node["left"]!), this.#term(node["right"]!));
      case "in":
        return this.#ancestry(this.#term(node["left"]!), this.#term(node["right"]!));
      case "contains":
      case "containsAll":
      case "containsAny":
        return this.#containment(op, this.#term(node["left"]!), this.#term(node["right"]!));
      case "has":
        return this.#has(this.#term(node["left"]!), typeof node.attr === "string" ? [node.attr] : node.attr);
      case "like":
        return this.#like(this.#term(node["left"]!), node.pattern);
      case "is":
        return this.#is(this.#term(node["left"]!), node.entity_type, node.in);
      case ".":
      case "unknown": {
        // A boolean attribute used as a condition (`when { resource.published }`).
        const term = this.#term(expr);
        if (term.kind !== "attribute") return ERROR;
        this.#requireType(term, (t) => t.kind === "primitive" && t.name === "Bool", "used as a condition");
        return this.#atom(this.#compare("==", term, { kind: "value", value: { kind: "bool", value: true } }), term.err);
      }
      default:
        throw this.#unsupported(describe(op));
    }
  }

  /** A non-boolean part: a literal, the resource, one of its attributes, or an error. */
  #term(expr: Expr): Term {
    if (!mentionsResource(expr)) {
      const value = this.#literal(expr);
      if (value !== undefined) return { kind: "value", value };
      if (isErrorCall(expr) || this.#ctx.errors(expr)) return { kind: "error" };
      // Cedar evaluates every part it can; one left over that does not error is not understood.
      throw this.#unsupported("a part of the condition that Cedar left unevaluated although it does not depend on the resource");
    }
    const [op, body] = only(expr);
    if (op === "unknown") return { kind: "resource" };
    if (op === ".") {
      const node = body as { left: Expr; attr: string };
      return this.#attribute(this.#term(node.left), node.attr);
    }
    throw this.#unsupported(describe(op));
  }

  /** `left.attr`, where left is the resource or a record-valued attribute of it. */
  #attribute(left: Term, attr: string): Term {
    if (left.kind === "error") return left;
    if (left.kind === "resource") return this.#step([], this.#ctx.shape, false, attr);
    if (left.kind === "attribute") {
      const where = pathText([...left.path, attr]);
      if (left.type?.kind === "record") return this.#step(left.path, left.type, left.err, attr);
      if (left.type?.kind === "entity") throw this.#unsupported(`${where} (an attribute of the entity that ${pathText(left.path)} refers to: a join)`);
      if (left.type === undefined) throw this.#unsupported(`${where} (without a declared type, a record cannot be told from an entity reference)`);
      throw this.#unsupported(where);
    }
    throw this.#unsupported(`an attribute of a literal value (.${attr})`);
  }

  #step(base: readonly string[], shape: RecordType | undefined, baseErr: Cond, attr: string): Term {
    const b = this.#b;
    const path = [...base, attr];
    const declared = shape?.attributes.get(attr);
    const surelyPresent = declared !== undefined && !shape!.optional.has(attr);
    const err = surelyPresent ? baseErr : b.or(baseErr, b.not(b.leaf({ op: "has", path })));
    return { kind: "attribute", path, type: declared, err };
  }

  #equality(op: "==" | "!=", left: Term, right: Term): Tri {
    if (left.kind === "error" || right.kind === "error") return ERROR;
    if (left.kind === "value" && right.kind !== "value") [left, right] = [right, left];
    const err = this.#b.or(errOf(left), errOf(right));
    for (const t of [left, right]) {
      if (t.kind === "value") this.#requireComparable(t.value, `${op} with a literal`);
      if (t.kind === "attribute" && (t.type?.kind === "set" || t.type?.kind === "record" || t.type?.kind === "extension")) {
        throw this.#unsupported(`${pathText(t.path)} ${op} … (a ${t.type.kind} compared whole)`);
      }
    }
    const same = this.#sameWhenComparable(left, right);
    if (same !== undefined) return this.#folded(op === "==" ? same : !same, err);
    return this.#atom(this.#compare(op, left, right), err);
  }

  /**
   * Folds what the types decide: the resource against an entity of another type, an attribute
   * against a literal of another kind (Cedar's `==` is then false, not an error).
   */
  #sameWhenComparable(left: Term, right: Term): boolean | undefined {
    if (left.kind === "resource" && right.kind === "resource") return true;
    const typeOf = (t: Term): string | undefined =>
      t.kind === "resource" ? `entity ${this.#ctx.resourceType}` : t.kind === "value" ? valueType(t.value) : t.kind === "attribute" && t.type !== undefined ? attrTypeName(t.type) : undefined;
    const a = typeOf(left);
    const c = typeOf(right);
    return a !== undefined && c !== undefined && a !== c ? false : undefined;
  }

  #ordering(op: ComparisonOp, left: Term, right: Term): Tri {
    if (left.kind === "error" || right.kind === "error") return ERROR;
    if (left.kind === "value" && right.kind !== "value") {
      [left, right] = [right, left];
      op = FLIPPED[op]!;
    }
    for (const t of [left, right]) {
      if (t.kind === "value" && t.value.kind !== "long") {
        throw this.#unsupported(`${op} with a ${t.value.kind === "extension" ? `${t.value.fn} value` : t.value.kind} (only longs are ordered in a filter)`);
      }
      if (t.kind === "resource") throw this.#unsupported(`${op} on the resource itself`);
      if (t.kind === "attribute") this.#requireType(t, (x) => x.kind === "primitive" && x.name === "Long", `compared with ${op}`);
    }
    return this.#atom(this.#compare(op, left, right), this.#b.or(errOf(left), errOf(right)));
  }

  #ancestry(left: Term, right: Term): Tri {
    const b = this.#b;
    if (left.kind === "error" || right.kind === "error") return ERROR;
    const err = b.or(errOf(left), errOf(right));
    if (left.kind === "value") {
      // A known entity (say the principal) `in` something of the resource's: it is in X exactly
      // when X is the entity itself or one of its ancestors, which are known.
      if (left.value.kind !== "entity") throw this.#unsupported("`in` with a non-entity on the left");
      const candidates = this.#ctx.selfAndAncestors(left.value.uid).map((uid): Term => ({ kind: "value", value: { kind: "entity", uid } }));
      if (right.kind === "attribute" && right.type?.kind === "set") {
        return this.#any(candidates.map((c) => this.#containment("contains", right, c)), err);
      }
      if (right.kind === "resource" || (right.kind === "attribute" && right.type?.kind === "entity")) {
        return this.#any(candidates.map((c) => this.#equality("==", right, c)), err);
      }
      throw this.#unsupported(`\`${formatUidOf(left.value)} in ${termText(right)}\` (the right side's type is not declared as an entity or a set of entities)`);
    }
    if (left.kind === "attribute") this.#requireType(left, (t) => t.kind === "entity", "used with `in`");
    if (right.kind !== "value") throw this.#unsupported(`\`${termText(left)} in ${termText(right)}\` (ancestry against another attribute)`);
    const ancestors = right.value.kind === "set" ? right.value.values : [right.value];
    const leaves = ancestors.map((a): Cond => {
      if (a.kind !== "entity") throw this.#unsupported("`in` with a non-entity on the right");
      // Cedar's `in` is "is, or descends from"; the filter's `in` is the descent alone.
      return b.or(this.#equality("==", left, { kind: "value", value: a }).t, b.leaf({ op: "in", left: operand(left), ancestor: a.uid }));
    });
    return this.#atom(b.or(...leaves), err);
  }

  #containment(op: "contains" | "containsAll" | "containsAny", left: Term, right: Term): Tri {
    const b = this.#b;
    if (left.kind === "error" || right.kind === "error") return ERROR;
    const err = b.or(errOf(left), errOf(right));
    if (op === "containsAny" && left.kind === "value") [left, right] = [right, left];
    if (left.kind === "value") {
      // A literal set containing a resource attribute: one of the literal's elements equals it.
      if (op !== "contains" || left.value.kind !== "set") throw this.#unsupported(`${op} with a literal set on the left and ${termText(right)}`);
      return this.#any(left.value.values.map((v) => this.#equality("==", right, { kind: "value", value: v })), err);
    }
    if (left.kind !== "attribute") throw this.#unsupported(`${op} on the resource itself`);
    this.#requireType(left, (t) => t.kind === "set", `used with ${op}`);
    if (right.kind !== "value") throw this.#unsupported(`${pathText(left.path)}.${op}(${termText(right)}) (a set against another attribute)`);
    const elements = op === "contains" ? [right.value] : right.value.kind === "set" ? right.value.values : undefined;
    if (elements === undefined) throw this.#unsupported(`${op} with a non-set argument`);
    const leaves = elements.map((v): Cond => {
      this.#requireComparable(v, `${op} with`);
      return b.leaf({ op: "contains", set: operand(left), element: { kind: "value", value: v } });
    });
    return this.#atom(op === "containsAll" ? b.and(...leaves) : b.or(...leaves), err);
  }

  #has(left: Term, names: readonly string[]): Tri {
    const b = this.#b;
    if (left.kind === "error") return ERROR;
    let base: readonly string[];
    let shape: RecordType | undefined;
    if (left.kind === "resource") {
      base = [];
      shape = this.#ctx.shape;
    } else if (left.kind === "attribute" && left.type?.kind === "record") {
      base = left.path;
      shape = left.type;
    } else if (left.kind === "attribute") {
      throw this.#unsupported(`${pathText(left.path)} has … (${left.type?.kind === "entity" ? "an attribute of a referenced entity: a join" : "without a declared record type"})`);
    } else {
      throw this.#unsupported("`has` on a literal value");
    }
    const parts: Cond[] = [];
    const path = [...base];
    for (const [i, name] of names.entries()) {
      path.push(name);
      const declared = shape?.attributes.get(name);
      if (shape !== undefined && !shape.open && declared === undefined) parts.push(false);
      else if (declared !== undefined && !shape!.optional.has(name)) parts.push(true);
      else parts.push(b.leaf({ op: "has", path: [...path] }));
      if (i < names.length - 1) {
        // `has a.b` also reads `a`: it must be known to be a record, or Cedar could error.
        if (declared?.kind !== "record") throw this.#unsupported(`has ${path.join(".")}.… (${pathText(path)} is not declared as a record)`);
        shape = declared;
      }
    }
    return this.#atom(b.and(...parts), errOf(left));
  }

  #like(left: Term, pattern: readonly PatternElem[]): Tri {
    if (left.kind === "error") return ERROR;
    if (left.kind !== "attribute") throw this.#unsupported("`like` on the resource itself");
    this.#requireType(left, (t) => t.kind === "primitive" && t.name === "String", "matched with `like`");
    const elements: PatternElement[] = [];
    for (const p of pattern) {
      const last = elements[elements.length - 1];
      if (p === "Wildcard") {
        if (last === undefined || !("wildcard" in last)) elements.push({ wildcard: true });
      } else if (last !== undefined && "literal" in last) {
        elements[elements.length - 1] = { literal: last.literal + p.Literal };
      } else {
        elements.push({ literal: p.Literal });
      }
    }
    return this.#atom(this.#b.leaf({ op: "like", left: operand(left), pattern: elements }), left.err);
  }

  #is(left: Term, type: string, within: Expr | undefined): Tri {
    if (left.kind === "error") return ERROR;
    if (left.kind !== "resource") throw this.#unsupported(`\`${termText(left)} is ${type}\``);
    if (type !== this.#ctx.resourceType) return constant(false);
    return within === undefined ? constant(true) : this.#ancestry(left, this.#term(within));
  }

  /** A comparison leaf; the resource or an attribute is on the left. */
  #compare(op: ComparisonOp, left: Term, right: Term): Cond {
    if (left.kind === "value") [left, right] = [right, left];
    return this.#b.leaf({ op, left: operand(left), right: operand(right) });
  }

  /** A condition that is true as `t` says, unless reading its operands errors. */
  #atom(t: Cond, err: Cond): Tri {
    const b = this.#b;
    return { t, f: b.and(b.not(t), b.not(err)), e: err };
  }

  #folded(value: boolean, err: Cond): Tri {
    const b = this.#b;
    const ok = b.not(err);
    return { t: value ? ok : false, f: value ? false : ok, e: err };
  }

  /** At least one of several conditions over the same operands. */
  #any(parts: readonly Tri[], err: Cond): Tri {
    return this.#atom(this.#b.or(...parts.map((p) => p.t)), err);
  }

  #literal(expr: Expr): Value | undefined {
    const [op, body] = only(expr);
    switch (op) {
      case "Value":
        return this.#value(body as CedarValueJson);
      case "Set": {
        const values = (body as Expr[]).map((e) => this.#literal(e));
        return values.every((v) => v !== undefined) ? { kind: "set", values: values as Value[] } : undefined;
      }
      case "Record": {
        const fields = Object.create(null) as Record<string, Value>;
        for (const [k, e] of Object.entries(body as Record<string, Expr>)) {
          const v = this.#literal(e);
          if (v === undefined) return undefined;
          fields[k] = v;
        }
        return { kind: "record", fields };
      }
      default: {
        // Cedar prints an extension value as its constructor call: ip("10.0.0.0/8").
        const args = body as Expr[];
        if (!EXTENSION_CONSTRUCTORS.has(op) || !Array.isArray(args) || args.length !== 1) return undefined;
        const arg = this.#literal(args[0]!);
        return arg?.kind === "string" ? { kind: "extension", fn: op, arg: arg.value } : undefined;
      }
    }
  }

  #value(v: CedarValueJson): Value {
    if (typeof v === "boolean") return { kind: "bool", value: v };
    if (typeof v === "string") return { kind: "string", value: v };
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw this.#unsupported(`the long literal ${v} (outside ±(2^53−1), not exact once read)`);
      return { kind: "long", value: v };
    }
    if (Array.isArray(v)) return { kind: "set", values: v.map((x) => this.#value(x)) };
    if (v === null) throw this.#unsupported("a null value");
    if ("__entity" in v) {
      const uid = (v as { __entity: EntityUid }).__entity;
      return { kind: "entity", uid: { type: uid.type, id: uid.id } };
    }
    if ("__extn" in v) {
      const x = v.__extn as { fn: string; arg?: unknown };
      if (typeof x.arg !== "string") throw this.#unsupported(`the extension value ${x.fn}(…)`);
      return { kind: "extension", fn: x.fn, arg: x.arg };
    }
    const fields = Object.create(null) as Record<string, Value>;
    for (const [k, x] of Object.entries(v)) fields[k] = this.#value(x);
    return { kind: "record", fields };
  }

  #requireComparable(v: Value, where: string): void {
    if (v.kind === "set" || v.kind === "record") throw this.#unsupported(`${where} a whole ${v.kind}`);
    if (v.kind === "extension") throw this.#unsupported(`${where} an extension value (${v.fn})`);
  }

  /** A type-sensitive operation needs the attribute's declared type: without it Cedar could error where a filter would not. */
  #requireType(t: Term & { kind: "attribute" }, ok: (type: AttrType) => boolean, use: string): void {
    if (t.type === undefined) throw this.#unsupported(`${pathText(t.path)} ${use} (its type is not declared by a schema)`);
    if (!ok(t.type)) throw this.#unsupported(`${pathText(t.path)} ${use} (declared as ${attrTypeName(t.type)})`);
  }

  #unsupported(construct: string): VerdictError {
    return new VerdictError(
      "failed_precondition",
      `policy "${this.#ctx.policyId}": ${construct} cannot be expressed as a resource filter for ${this.#ctx.resourceType}; Plan refuses rather than guess`,
    );
  }
}

const constant = (v: boolean): Tri => ({ t: v, f: !v, e: false });

const errOf = (t: Term): Cond => (t.kind === "attribute" ? t.err : false);

function operand(t: Term): Operand {
  switch (t.kind) {
    case "resource":
      return { kind: "resource" };
    case "attribute":
      return { kind: "attribute", path: t.path };
    case "value":
      return { kind: "value", value: t.value };
    case "error":
      throw new VerdictError("internal", "an erroring term reached a filter");
  }
}

/** The one key of a Cedar JSON expression node, and its body. */
function only(expr: Expr): [string, unknown] {
  const keys = Object.keys(expr);
  if (keys.length !== 1) throw new VerdictError("internal", `unexpected residual node with keys ${JSON.stringify(keys)}`);
  return [keys[0]!, (expr as Record<string, unknown>)[keys[0]!]];
}

/** Whether the expression reads the unknown resource anywhere (walked by node kind, so record keys are never read as nodes). */
function mentionsResource(expr: Expr): boolean {
  const [op, body] = only(expr);
  switch (op) {
    case "unknown":
      return true;
    case "Value":
    case "Var":
    case "Slot":
      return false;
    case "Record":
      return Object.values(body as Record<string, Expr>).some(mentionsResource);
    default:
      // A Set or an extension call holds a list; an operator holds its operands by role.
      if (Array.isArray(body)) return (body as Expr[]).some(mentionsResource);
      return Object.entries(body as Record<string, unknown>).some(([role, x]) => OPERAND_ROLES.has(role) && mentionsResource(x as Expr));
  }
}

/** The keys of an operator node that hold sub-expressions (others: attr, pattern, entity_type). */
const OPERAND_ROLES = new Set(["left", "right", "arg", "if", "then", "else", "in"]);

/** Cedar marks a part whose evaluation failed as a call of the `error` extension function. */
const isErrorCall = (expr: Expr): boolean => Object.keys(expr).length === 1 && "error" in expr;

const pathText = (path: readonly string[]): string => `resource.${path.join(".")}`;

function termText(t: Term): string {
  switch (t.kind) {
    case "resource":
      return "resource";
    case "attribute":
      return pathText(t.path);
    case "value":
      return t.value.kind;
    case "error":
      return "an error";
  }
}

const formatUidOf = (v: Value & { kind: "entity" }): string => `${v.uid.type}::${JSON.stringify(v.uid.id)}`;

/** A type name for equality folding: two operands whose names differ are never equal. */
function valueType(v: Value): string | undefined {
  switch (v.kind) {
    case "bool":
      return "Bool";
    case "long":
      return "Long";
    case "string":
      return "String";
    case "entity":
      return `entity ${v.uid.type}`;
    default:
      return undefined;
  }
}

function attrTypeName(t: AttrType): string {
  switch (t.kind) {
    case "primitive":
      return t.name;
    case "entity":
      return `entity ${t.type}`;
    case "extension":
      return t.fn;
    default:
      return t.kind;
  }
}

/** Names a Cedar operator or function for a refusal message. */
function describe(op: string): string {
  switch (op) {
    case "+":
    case "-":
    case "*":
    case "neg":
      return `arithmetic (${op === "neg" ? "unary -" : op}) on the resource's attributes`;
    case "getTag":
    case "hasTag":
      return `entity tags (${op})`;
    case "isEmpty":
      return "isEmpty() on the resource's attributes";
    case "Set":
    case "Record":
      return `a ${op.toLowerCase()} literal built from the resource's attributes`;
    case "Slot":
      return "a template slot";
    default:
      return `the extension function ${op}() on the resource's attributes`;
  }
}
