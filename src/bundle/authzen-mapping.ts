import { BundleError } from "./bundle-error.js";
import type { BundleFiles } from "./bundle-files.js";
import { textOf } from "./bundle-layout.js";

/**
 * How a bundle names things for AuthZEN callers (`authzen.json`): AuthZEN subject and resource
 * types → Cedar entity types, action names → Cedar action ids (in the bundle's Action type).
 */
export interface AuthzenMapping {
  readonly types: ReadonlyMap<string, string>;
  /** Action name → action id; names not listed map to themselves. */
  readonly actions: ReadonlyMap<string, string>;
}

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Reads `authzen.json` if the bundle has one. */
export function readAuthzenMapping(files: BundleFiles): AuthzenMapping | undefined {
  if (!files.has("authzen.json")) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(textOf(files, "authzen.json"));
  } catch (err) {
    throw new BundleError(`authzen.json: invalid JSON: ${(err as Error).message}`);
  }
  const o = (raw ?? {}) as { types?: unknown; actions?: unknown };
  const table = (x: unknown, what: string, check: (v: string) => boolean): Map<string, string> => {
    if (x === undefined) return new Map();
    if (typeof x !== "object" || x === null || Array.isArray(x)) throw new BundleError(`authzen.json: "${what}" must be an object`);
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(x)) {
      if (typeof v !== "string" || !check(v)) throw new BundleError(`authzen.json: ${what}.${k} must be ${what === "types" ? "a Cedar entity type name" : "an action id"}`);
      out.set(k, v);
    }
    return out;
  };
  return { types: table(o.types, "types", (v) => TYPE_NAME.test(v)), actions: table(o.actions, "actions", (v) => v.length > 0) };
}
