import { compileExpr, type Env, type Eval, Unsupported, uidOf } from "./compile-expr.js";
import { CedarError, type CValue, typeName, type Uid } from "./values.js";

/** What a policy's scope constrains one variable to, for the scope index. */
export interface ScopeKey {
  /** Entity the variable must equal or descend from; undefined for no such constraint. */
  readonly entity?: Uid;
}

/** One policy compiled: its scope test and its conditions. */
export interface CompiledPolicy {
  readonly id: string;
  readonly forbid: boolean;
  /** True if the policy is satisfied; throws `CedarError` when it errors. */
  readonly applies: (env: Env) => boolean;
  readonly principal: ScopeKey;
  readonly resource: ScopeKey;
}

type Json = Record<string, unknown>;

function scopeTest(c: Json, pick: (env: Env) => Uid, what: string): { test?: (env: Env) => boolean; key: ScopeKey } {
  switch (c["op"]) {
    case "All":
      return { key: {} };
    case "==": {
      if ("slot" in c) throw new Unsupported(`${what} slot`);
      const e = uidOf(c["entity"]);
      return { test: (env) => pick(env).key === e.key, key: { entity: e } };
    }
    case "in": {
      if ("slot" in c) throw new Unsupported(`${what} slot`);
      if (Array.isArray(c["entities"])) {
        const es = (c["entities"] as unknown[]).map(uidOf);
        return { test: (env) => es.some((e) => env.store.isIn(pick(env), e)), key: {} };
      }
      const e = uidOf(c["entity"]);
      return { test: (env) => env.store.isIn(pick(env), e), key: { entity: e } };
    }
    case "is": {
      const type = c["entity_type"] as string;
      const inner = c["in"] as Json | undefined;
      if (inner === undefined) return { test: (env) => pick(env).type === type, key: {} };
      if ("slot" in inner) throw new Unsupported(`${what} slot`);
      const e = uidOf(inner["entity"]);
      return { test: (env) => pick(env).type === type && env.store.isIn(pick(env), e), key: { entity: e } };
    }
  }
  throw new Unsupported(`${what} constraint ${JSON.stringify(c)}`);
}

const truth = (v: CValue, clause: string): boolean => {
  if (typeof v !== "boolean") throw new CedarError(`${clause} condition is ${typeName(v)}, not bool`);
  return v;
};

/** Compiles a policy's JSON form (from cedar-wasm); throws `Unsupported` for what it cannot. */
export function compilePolicy(id: string, json: unknown): CompiledPolicy {
  const p = json as Json;
  const principal = scopeTest(p["principal"] as Json, (env) => env.principal, "principal");
  const action = scopeTest(p["action"] as Json, (env) => env.action, "action");
  const resource = scopeTest(p["resource"] as Json, (env) => env.resource, "resource");
  const tests = [principal.test, action.test, resource.test].filter((t): t is (env: Env) => boolean => t !== undefined);
  const clauses: { when: boolean; body: Eval }[] = [];
  for (const c of p["conditions"] as Json[]) {
    if (c["kind"] !== "when" && c["kind"] !== "unless") throw new Unsupported(`condition kind ${String(c["kind"])}`);
    clauses.push({ when: c["kind"] === "when", body: compileExpr(c["body"]).fn });
  }
  // Scope first, then conditions in source order, as Cedar evaluates them.
  const applies = (env: Env): boolean => {
    for (const t of tests) if (!t(env)) return false;
    for (const c of clauses) {
      if (truth(c.body(env), c.when ? "when" : "unless") !== c.when) return false;
    }
    return true;
  };
  const effect = p["effect"];
  if (effect !== "permit" && effect !== "forbid") throw new Unsupported(`effect ${String(effect)}`);
  return { id, forbid: effect === "forbid", applies, principal: principal.key, resource: resource.key };
}
