import { createHash } from "node:crypto";
import { formatUid, type Value } from "../model/entity.js";

/** Keys that look like credentials are never logged, whatever the configuration says. */
const CREDENTIAL_KEY = /authorization|token|jwt|password|passwd|secret|cookie|api[-_]?key/i;
const list = (s: string) => new Set(s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));

/** How a kept value, a record of kept fields and a masked value are written. */
export interface ValueForm {
  value(v: Value): unknown;
  record(fields: Record<string, unknown>): unknown;
  masked(digest: string): unknown;
}

/**
 * The decision log's rules for request data, shared by everything that writes or shows it:
 * `drop` paths and credential-like keys are left out, `mask` paths are replaced by a SHA-256
 * digest (the same digest in every form, so masked values can still be correlated).
 */
export class LogMasking {
  readonly #mask: ReadonlySet<string>;
  readonly #drop: ReadonlySet<string>;

  /** `mask` and `drop` are comma-separated paths such as `context.email,principal.attrs.ssn`. */
  constructor(settings: { readonly mask: string; readonly drop: string }) {
    this.#mask = list(settings.mask);
    this.#drop = list(settings.drop);
  }

  /** A loggable copy of the record at `path`, in `form`. */
  record(fields: Readonly<Record<string, Value>>, path: string, form: ValueForm): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      const p = `${path}.${key}`;
      if (this.#drop.has(p) || CREDENTIAL_KEY.test(key)) continue;
      const v = fields[key]!;
      if (this.#mask.has(p)) out[key] = form.masked(createHash("sha256").update(JSON.stringify(plainValue(v))).digest("hex").slice(0, 32));
      else out[key] = v.kind === "record" ? form.record(this.record(v.fields, p, form)) : form.value(v);
    }
    return out;
  }
}

/** A value as plain JSON (entities and extensions as Cedar prints them), for readers of the log. */
export function plainValue(v: Value): unknown {
  switch (v.kind) {
    case "bool":
    case "long":
    case "string":
      return v.value;
    case "set":
      return v.values.map(plainValue);
    case "record":
      return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, plainValue(x)]));
    case "entity":
      return formatUid(v.uid);
    case "extension":
      return `${v.fn}(${JSON.stringify(v.arg)})`;
  }
}
