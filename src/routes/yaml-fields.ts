import { type Document, isNode, LineCounter, parseDocument } from "yaml";

/** A `routes.yaml` problem with its line. */
export class RouteTableError extends Error {
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(line === undefined ? `routes.yaml: ${message}` : `routes.yaml:${line}: ${message}`);
    this.line = line;
  }
}

/** A field's place in the document: keys and list indexes from the root. */
export type FieldPath = readonly (string | number)[];

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Typed reads of a parsed YAML document whose every failure names the field and its line, so
 * an author fixing `routes.yaml` is pointed at the exact place.
 */
export class YamlFields {
  readonly #doc: Document;
  readonly #lines: LineCounter;
  /** The document as plain data. */
  readonly root: unknown;

  constructor(text: string) {
    this.#lines = new LineCounter();
    this.#doc = parseDocument(text, { lineCounter: this.#lines, uniqueKeys: true });
    const e = this.#doc.errors[0];
    if (e !== undefined) throw new RouteTableError(e.message.split("\n")[0]!, e.linePos?.[0].line);
    this.root = this.#doc.toJS();
  }

  /** Throws a RouteTableError naming the field and its line (or the nearest enclosing one). */
  fail(path: FieldPath, message: string): never {
    throw new RouteTableError(`${path.length === 0 ? "document" : path.join(".")}: ${message}`, this.#lineOf(path));
  }

  /** The value at `path` in plain data. */
  get(path: FieldPath): unknown {
    let v: unknown = this.root;
    for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined;
    return v;
  }

  map(path: FieldPath, optional = false): Record<string, unknown> {
    const v = this.get(path);
    if (v === undefined && optional) return {};
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.fail(path, "must be a mapping");
    return v as Record<string, unknown>;
  }

  list(path: FieldPath): unknown[] {
    const v = this.get(path);
    if (v === undefined) return [];
    return Array.isArray(v) ? v : this.fail(path, "must be a list");
  }

  str(path: FieldPath): string {
    const v = this.get(path);
    return typeof v === "string" && v !== "" ? v : this.fail(path, "must be a non-empty string");
  }

  optStr(path: FieldPath, fallback: string): string {
    return this.get(path) === undefined ? fallback : this.str(path);
  }

  typeName(path: FieldPath): string {
    const v = this.str(path);
    return TYPE_NAME.test(v) ? v : this.fail(path, "must be a Cedar entity type name such as App::User");
  }

  /** Refuses keys the schema of this part does not know: a typo must not silently do nothing. */
  only(path: FieldPath, keys: readonly string[]): void {
    for (const k of Object.keys(this.map(path, true))) if (!keys.includes(k)) this.fail([...path, k], `unknown field (expected one of ${keys.join(", ")})`);
  }

  #lineOf(path: FieldPath): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.#doc.contents : this.#doc.getIn(path.slice(0, n), true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      if (offset !== undefined) return this.#lines.linePos(offset).line;
    }
    return undefined;
  }
}
