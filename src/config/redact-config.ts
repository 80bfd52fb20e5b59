/** Placeholder printed instead of a secret's value. */
export const REDACTED = "(set, hidden)";

/** Settings holding a secret value (not a file path): `admin.token`, `cache.macSecret`, … */
const SECRET_KEY = /(^|[a-z])(token|secret|password|passphrase)$/i;

/**
 * A copy of the configuration safe to print or log: secret settings show only that they are
 * set, and a password inside a URL (`redis://:pw@host`) is hidden. Matched by name, so a
 * secret added later is hidden without being listed here.
 */
export function redactConfig(config: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === "object" && value !== null) out[key] = redactConfig(value);
    else if (typeof value === "string" && SECRET_KEY.test(key)) out[key] = REDACTED;
    else if (typeof value === "string") out[key] = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
    else out[key] = value;
  }
  return out;
}
