import { createHmac, randomBytes } from "node:crypto";
import { formatUid, type Value } from "../model/entity.js";
import { valueToJson } from "../model/request-json.js";

/**
 * Keys that look like credentials are never logged, whatever the configuration says, at any
 * depth (records inside sets inside records, entity attributes and tags). Matched anywhere in
 * the key, ignoring case and separators: `Authorization`, `set-cookie`, `x_api_key`,
 * `clientSecret`, `refresh.token`, `PassWord`, `private key`…
 */
const CREDENTIAL_KEY = /authori[sz]ation|auth_?header|bearer|token|jwt|passw|passphrase|passcode|(^|_)pass($|_)|pwd|secret|cookie|api_?key|access_?key|private_?key|credential|session_?(id|key|token)/;
const normalizedKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]+/g, "_");

/** Whether a key names credential-like data (always dropped). */
export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(normalizedKey(key));
}

const list = (s: string) => new Set(s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));

/** How a kept value, a record of kept fields, a set of kept values and a masked value are written. */
export interface ValueForm {
  value(v: Value): unknown;
  record(fields: Record<string, unknown>): unknown;
  set(values: unknown[]): unknown;
  masked(digest: string): unknown;
}

/** Cedar's typed JSON value forms (as in a request), for copies of a whole request. */
export const TYPED_VALUES: ValueForm = {
  value: valueToJson,
  record: (fields) => ({ record: { fields } }),
  set: (values) => ({ set: { values } }),
  masked: (digest) => ({ string: `hmac-sha256:${digest}` }),
};

/** The masking settings (`decisionLog.*`). */
export interface MaskingSettings {
  readonly mask: string;
  readonly drop: string;
  /** Key of the HMAC that replaces masked values; the same on every replica of a deployment. */
  readonly maskSecret?: string | undefined;
  /** With no `maskSecret`: make a random key at start (digests then correlate within one process only). */
  readonly maskRandomKey?: boolean | undefined;
}

/**
 * The decision log's rules for request data, shared by everything that writes or shows it:
 * `drop` paths and credential-like keys are left out, `mask` paths are replaced by a keyed
 * digest (HMAC-SHA256 under `maskSecret`): equal values give equal digests within a
 * deployment, so they still correlate, but without the key a dictionary of likely values
 * (e-mails, SSNs) cannot recover them. Paths inside sets are the set's own path
 * (`context.sessions.cookie` names the `cookie` of every record in the set).
 */
export class LogMasking {
  readonly #mask: ReadonlySet<string>;
  readonly #drop: ReadonlySet<string>;
  readonly #key: Buffer | undefined;

  /** Throws when paths are to be masked and no key is configured (nor a random one asked for). */
  constructor(settings: MaskingSettings) {
    this.#mask = list(settings.mask);
    this.#drop = list(settings.drop);
    if (settings.maskSecret !== undefined && settings.maskSecret !== "") this.#key = Buffer.from(settings.maskSecret, "utf8");
    else if (settings.maskRandomKey === true) this.#key = randomBytes(32);
    else if (this.#mask.size > 0) throw new Error(MISSING_KEY);
  }

  /** A loggable copy of the record at `path`, in `form`. */
  record(fields: Readonly<Record<string, Value>>, path: string, form: ValueForm): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      const p = `${path}.${key}`;
      if (this.#drop.has(p) || isCredentialKey(key)) continue;
      const v = fields[key]!;
      out[key] = this.#mask.has(p) ? form.masked(this.digest(v)) : this.#value(v, p, form);
    }
    return out;
  }

  /** The keyed digest of a value (hex, 128 bits), as `mask` paths are written. */
  digest(v: Value): string {
    if (this.#key === undefined) throw new Error(MISSING_KEY);
    return createHmac("sha256", this.#key).update(JSON.stringify(plainValue(v))).digest("hex").slice(0, 32);
  }

  #value(v: Value, path: string, form: ValueForm): unknown {
    switch (v.kind) {
      case "record":
        return form.record(this.record(v.fields, path, form));
      case "set":
        return form.set(v.values.map((x) => this.#value(x, path, form)));
      default:
        return form.value(v);
    }
  }
}

const MISSING_KEY = "decisionLog.mask needs decisionLog.maskSecret (VERDICT_DECISION_LOG_MASK_SECRET), or decisionLog.maskRandomKey=true";

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
