import type { EntityUid, Value } from "../model/entity.js";
import type { Operand, PatternElement, Plan, ResourceFilter } from "../model/resource-filter.js";

/** Binds one value as a query parameter and returns its placeholder. */
export type BindParam = (value: string | number | boolean) => string;

/** How a resource filter maps onto the application's table. Column names are the caller's, never a request's. */
export interface SqlFilterOptions {
  /**
   * Attribute path (names joined with ".", e.g. "owner", "meta.level") → column. An
   * entity-valued attribute's column holds the entity's id (its type is the schema's); a
   * set-valued one is an array. A NULL column is an absent attribute.
   */
  readonly columns: Readonly<Record<string, string>>;
  /** The column holding the resource's own id; needed when the filter compares the resource itself. */
  readonly idColumn?: string;
  /** `dollar` ($1, $2… as PostgreSQL), the default, or `question` (? as MySQL and SQLite). */
  readonly placeholders?: "dollar" | "question";
  /**
   * SQL that holds when the entity whose id is `entitySql` descends from `ancestor` (through
   * parents, transitively). Needed when the filter has `in`; see `closureTableAncestry`.
   */
  readonly ancestry?: (entitySql: string, ancestor: EntityUid, param: BindParam) => string;
  /** SQL that holds when the array `setSql` contains `elementSql`; default PostgreSQL's `elementSql = ANY(setSql)`. */
  readonly contains?: (setSql: string, elementSql: string) => string;
}

/** A WHERE clause with its parameters, in placeholder order. */
export interface SqlFilter {
  readonly where: string;
  readonly params: (string | number | boolean)[];
}

/** A trusted identifier: a column or table name, possibly qualified or double-quoted. */
const IDENTIFIER = /^(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*))*$/;

/**
 * The documented join convention for ancestry: a closure table per entity type, with one row
 * per (descendant, ancestor) pair, transitively, in columns `descendant_id`, `ancestor_type`,
 * `ancestor_id`. It must include memberships the bundle's own entities define (a project's
 * tenant), since Check sees those too.
 */
export function closureTableAncestry(table: string): NonNullable<SqlFilterOptions["ancestry"]> {
  identifier(table, "closure table");
  return (entitySql, ancestor, param) =>
    `${entitySql} IN (SELECT descendant_id FROM ${table} WHERE ancestor_type = ${param(ancestor.type)} AND ancestor_id = ${param(ancestor.id)})`;
}

/**
 * Translates a plan into a parameterised WHERE clause: values only ever travel as parameters,
 * columns come only from `options.columns`. Always allowed is `TRUE`, always denied `FALSE`.
 * Throws an Error naming what is missing (an attribute without a column, `in` without an
 * ancestry mapping) rather than produce a clause that means something else.
 *
 * SQL's NULL is three-valued where the filter is not: a test on an absent attribute is false
 * in the filter, so under a `not` each such test is guarded with `IS NOT NULL` (elsewhere
 * NULL already behaves as false in a WHERE clause).
 */
export function toSqlFilter(plan: Plan, options: SqlFilterOptions): SqlFilter {
  for (const [path, column] of Object.entries(options.columns)) identifier(column, `column for ${path}`);
  if (options.idColumn !== undefined) identifier(options.idColumn, "idColumn");
  if (plan.kind !== "conditional") return { where: plan.kind === "always_allowed" ? "TRUE" : "FALSE", params: [] };
  const params: (string | number | boolean)[] = [];
  const param: BindParam = (value) => {
    params.push(value);
    return options.placeholders === "question" ? "?" : `$${params.length}`;
  };
  return { where: new SqlWriter(options, param).filter(plan.filter, false), params };
}

class SqlWriter {
  readonly #options: SqlFilterOptions;
  readonly #param: BindParam;

  constructor(options: SqlFilterOptions, param: BindParam) {
    this.#options = options;
    this.#param = param;
  }

  /** `negated`: under an odd number of `not`s, where NULL must read as false explicitly. */
  filter(f: ResourceFilter, negated: boolean): string {
    switch (f.op) {
      case "and":
      case "or":
        return `(${f.args.map((a) => this.filter(a, negated)).join(f.op === "and" ? " AND " : " OR ")})`;
      case "not":
        return `NOT (${this.filter(f.arg, !negated)})`;
      case "has":
        return `${this.#column(f.path)} IS NOT NULL`;
      case "in": {
        const ancestry = this.#options.ancestry;
        if (ancestry === undefined) throw new Error("the filter tests ancestry (in): give an ancestry mapping (e.g. closureTableAncestry)");
        const entity = this.#operand(f.left);
        return this.#guard([f.left], `(${ancestry(entity, f.ancestor, this.#param)})`, negated);
      }
      case "contains": {
        const set = this.#operand(f.set);
        const element = this.#operand(f.element);
        const sql = this.#options.contains?.(set, element) ?? `${element} = ANY(${set})`;
        return this.#guard([f.set, f.element], sql, negated);
      }
      case "like":
        return this.#guard([f.left], `${this.#operand(f.left)} LIKE ${this.#param(likePattern(f.pattern))} ESCAPE '!'`, negated);
      default: {
        const left = this.#operand(f.left);
        const right = this.#operand(f.right);
        return this.#guard([f.left, f.right], `${left} ${f.op === "==" ? "=" : f.op === "!=" ? "<>" : f.op} ${right}`, negated);
      }
    }
  }

  /** Under negation, a test reads false when one of its columns is NULL, as the filter does. */
  #guard(operands: readonly Operand[], sql: string, negated: boolean): string {
    const nullable = operands.filter((o) => o.kind === "attribute").map((o) => `${this.#operand(o)} IS NOT NULL`);
    // No parentheses needed: AND binds tighter than OR, and a negated test sits inside NOT (…).
    return negated && nullable.length > 0 ? `${nullable.join(" AND ")} AND ${sql}` : sql;
  }

  #operand(o: Operand): string {
    switch (o.kind) {
      case "resource":
        if (this.#options.idColumn === undefined) throw new Error("the filter compares the resource itself: give idColumn");
        return this.#options.idColumn;
      case "attribute":
        return this.#column(o.path);
      case "value":
        return this.#param(scalar(o.value));
    }
  }

  #column(path: readonly string[]): string {
    const column = this.#options.columns[path.join(".")];
    if (column === undefined) throw new Error(`no column for resource attribute ${JSON.stringify(path.join("."))}: add it to the column mapping`);
    return column;
  }
}

/** The parameter for a literal: an entity travels as its id, the column's type being the schema's. */
function scalar(v: Value): string | number | boolean {
  switch (v.kind) {
    case "bool":
    case "long":
    case "string":
      return v.value;
    case "entity":
      return v.uid.id;
    default:
      throw new Error(`a ${v.kind} value cannot be bound as one SQL parameter`);
  }
}

/** A Cedar pattern as a LIKE pattern with `!` as the escape character (the same in every SQL dialect). */
function likePattern(pattern: readonly PatternElement[]): string {
  return pattern.map((p) => ("literal" in p ? p.literal.replace(/[!%_]/g, "!$&") : "%")).join("");
}

function identifier(name: string, what: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`${what}: ${JSON.stringify(name)} is not a column or table name`);
}
