import { parse } from "yaml";
import { BundleError } from "./bundle-error.js";
import type { BundleFiles } from "./bundle-files.js";
import { textOf } from "./bundle-layout.js";

/** What an AuthZEN subject's or resource's `properties` become. */
export type PropertiesMode = "attributes" | "ignore";

/** One AuthZEN type's Cedar counterpart. */
export interface AuthzenType {
  readonly entityType: string;
  /**
   * `attributes` (default): each property is an attribute, typed through the schema.
   * `ignore`: the bundle's own data (entities.json, a directory) is authoritative for this type.
   */
  readonly properties: PropertiesMode;
}

/**
 * How a bundle names things for AuthZEN callers (`authzen.yaml` or `authzen.json`): AuthZEN
 * types → Cedar entity types, action names → Cedar action ids (in the bundle's Action type),
 * and where an action's `properties` go, since a Cedar action cannot carry request data.
 */
export interface AuthzenMapping {
  /** Types not listed are used as Cedar type names unchanged, with properties as attributes. */
  readonly types: ReadonlyMap<string, AuthzenType>;
  /** Action name → action id; names not listed map to themselves. */
  readonly actions: ReadonlyMap<string, string>;
  /** Context member that receives `action.properties`; unset: action properties are ignored. */
  readonly actionProperties: string | undefined;
}

/** The bundle files the mapping may be read from; a bundle holds at most one. */
export const AUTHZEN_MAPPING_FILES = ["authzen.yaml", "authzen.yml", "authzen.json"] as const;

const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;
/** Cedar's JSON form reads these record keys as escapes; a context member must not be one. */
const RESERVED_KEYS = new Set(["__entity", "__extn", "__expr"]);
const KEYS = new Set(["types", "actions", "actionProperties"]);

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** Reads the bundle's AuthZEN mapping, if it has one; any mistake rejects the bundle, naming it. */
export function readAuthzenMapping(files: BundleFiles): AuthzenMapping | undefined {
  const present = AUTHZEN_MAPPING_FILES.filter((f) => files.has(f));
  if (present.length === 0) return undefined;
  const file = present[0]!;
  const fail = (message: string) => new BundleError("bundle rejected", [{ file, message }]);
  if (present.length > 1) throw fail(`only one AuthZEN mapping file is allowed (found ${present.join(", ")})`);
  let raw: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both forms.
    raw = parse(textOf(files, file), { uniqueKeys: true, maxAliasCount: 0 });
  } catch (err) {
    throw fail(`not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isObj(raw)) throw fail("must be a mapping with types, actions and actionProperties");
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) throw fail(`unknown key "${key}" (expected ${[...KEYS].join(", ")})`);
  return {
    types: readTypes(raw["types"], fail),
    actions: readActions(raw["actions"], fail),
    actionProperties: readActionProperties(raw["actionProperties"], fail),
  };
}

function readTypes(x: unknown, fail: (m: string) => BundleError): Map<string, AuthzenType> {
  const out = new Map<string, AuthzenType>();
  if (x === undefined || x === null) return out;
  if (!isObj(x)) throw fail("types: must map AuthZEN types to Cedar entity types");
  for (const [name, v] of Object.entries(x)) {
    const spec = typeof v === "string" ? { entityType: v } : v;
    if (!isObj(spec)) throw fail(`types.${name}: must be a Cedar entity type name or {entityType, properties}`);
    for (const key of Object.keys(spec)) if (key !== "entityType" && key !== "properties") throw fail(`types.${name}: unknown key "${key}" (expected entityType, properties)`);
    const { entityType, properties = "attributes" } = spec;
    if (typeof entityType !== "string" || !TYPE_NAME.test(entityType)) throw fail(`types.${name}.entityType: must be a Cedar entity type name such as App::User`);
    if (properties !== "attributes" && properties !== "ignore") throw fail(`types.${name}.properties: must be "attributes" or "ignore"`);
    out.set(name, { entityType, properties });
  }
  return out;
}

function readActions(x: unknown, fail: (m: string) => BundleError): Map<string, string> {
  const out = new Map<string, string>();
  if (x === undefined || x === null) return out;
  if (!isObj(x)) throw fail("actions: must map AuthZEN action names to Cedar action ids");
  for (const [name, id] of Object.entries(x)) {
    if (typeof id !== "string" || id === "") throw fail(`actions.${name}: must be a non-empty Cedar action id`);
    out.set(name, id);
  }
  return out;
}

function readActionProperties(x: unknown, fail: (m: string) => BundleError): string | undefined {
  if (x === undefined || x === null) return undefined;
  if (typeof x !== "string" || x === "") throw fail("actionProperties: must be the name of a context member");
  if (RESERVED_KEYS.has(x)) throw fail(`actionProperties: "${x}" is reserved by Cedar's JSON format`);
  return x;
}
