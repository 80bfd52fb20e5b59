import { readFileSync } from "node:fs";
import { closest } from "fastest-levenshtein";
import { parse as parseYaml } from "yaml";
import { VerdictError } from "../errors.js";
import { type Config, CONFIG_SPEC, crossCheck } from "./config-spec.js";
import { isSetting, type Setting, type SpecTree } from "./setting.js";

/** Where settings come from, lowest precedence first after the defaults. */
export interface ConfigInputs {
  /** Path of a JSON or YAML config file. */
  readonly file?: string | undefined;
  /** Environment (normally `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags, by dotted path (`server.grpcAddr`). */
  readonly flags?: Readonly<Record<string, unknown>>;
}

/** A configuration that failed validation; lists every problem at once. */
export class ConfigError extends VerdictError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super("invalid_argument", `invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/** `server.grpcAddr` → `VERDICT_SERVER_GRPC_ADDR`. */
export function envNameOf(path: string): string {
  return `VERDICT_${path.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/\./g, "_").toUpperCase()}`;
}

/** Builds the configuration: defaults → file → environment → flags; validates all; freezes. */
export function loadConfig(inputs: ConfigInputs = {}): Config {
  const problems: string[] = [];
  const file = inputs.file === undefined ? {} : readConfigFile(inputs.file, problems);
  const env = inputs.env ?? {};
  const flags = inputs.flags ?? {};
  const build = (spec: SpecTree, fileSection: unknown, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const section = typeof fileSection === "object" && fileSection !== null ? (fileSection as Record<string, unknown>) : {};
    for (const key of Object.keys(section)) {
      if (!(key in spec)) problems.push(`${prefix}${key}: unknown setting in config file`);
    }
    for (const [key, node] of Object.entries(spec)) {
      const path = `${prefix}${key}`;
      if (!isSetting(node)) {
        out[key] = build(node, section[key], `${path}.`);
        continue;
      }
      let raw: unknown = node.default;
      let from = "default";
      if (section[key] !== undefined) [raw, from] = [section[key], "config file"];
      for (const name of [envNameOf(path), ...(node.envAliases ?? [])]) {
        knownEnv.set(name, path);
        // An empty variable means "unset", except for plain strings where empty is a value
        // (VERDICT_BUNDLES_STATE_DIR= turns persistence off).
        if (env[name] !== undefined && (env[name] !== "" || node.kind === "string")) [raw, from] = [env[name], name];
      }
      if (flags[path] !== undefined) [raw, from] = [flags[path], "flag"];
      out[key] = coerce(node, raw, path, from, problems);
    }
    return out;
  };
  const knownEnv = new Map<string, string>();
  const config = build(CONFIG_SPEC, file, "");
  problems.push(...unknownVariables(env, knownEnv));
  if (problems.length === 0) problems.push(...crossCheck(config as unknown as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config) as unknown as Config;
}

/** What Kubernetes sets in every pod for a Service named `verdict` (service links): not settings. */
const SERVICE_LINK = /^VERDICT_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$/;

/**
 * `VERDICT_*` variables that are not settings: a misspelt name would otherwise be ignored and
 * the default silently kept, so it stops the process naming the closest setting.
 */
function unknownVariables(env: Readonly<Record<string, string | undefined>>, known: ReadonlyMap<string, string>): string[] {
  const names = [...known.keys()];
  return Object.keys(env)
    .filter((name) => name.startsWith("VERDICT_") && !known.has(name) && !SERVICE_LINK.test(name))
    .sort()
    .map((name) => {
      const near = closest(name, names);
      return `${name}: no such setting; did you mean ${near} (${known.get(near)})? (\`verdict config --settings\` lists them all)`;
    });
}

function readConfigFile(path: string, problems: string[]): unknown {
  try {
    const text = readFileSync(path, "utf8");
    return path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    problems.push(`config file ${path}: ${(err as Error).message}`);
    return {};
  }
}

const ADDR = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function coerce(s: Setting<unknown>, raw: unknown, path: string, from: string, problems: string[]): unknown {
  const bad = (what: string) => {
    problems.push(`${path} ${what} (got ${JSON.stringify(raw)} from ${from})`);
    return s.default;
  };
  switch (s.kind) {
    case "optional-string":
      if (raw === undefined) return undefined;
      return typeof raw === "string" && raw !== "" ? raw : bad("must be a non-empty string");
    case "string":
      return typeof raw === "string" ? raw : bad("must be a string");
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      return bad("must be true or false");
    case "int": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return bad("must be a whole number");
      if (n < s.min! || n > s.max!) return bad(`must be between ${s.min} and ${s.max}`);
      return n;
    }
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return bad("must be a number");
      if (n < s.min! || n > s.max!) return bad(`must be between ${s.min} and ${s.max}`);
      return n;
    }
    case "addr": {
      const m = typeof raw === "string" ? ADDR.exec(raw) : null;
      if (m === null || Number(m[2]) > 65535) return bad("must be HOST:PORT (port 0 picks a free port)");
      return raw;
    }
    case "enum":
      return typeof raw === "string" && s.values!.includes(raw) ? raw : bad(`must be one of ${s.values!.join(", ")}`);
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
