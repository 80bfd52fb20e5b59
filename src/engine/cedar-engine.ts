import type { EntityJson, Schema, SchemaJson } from "@cedar-policy/cedar-wasm/nodejs";
import { CedarRuntime, WasmRuntimeError } from "./cedar-runtime.js";
import { parseExactJson } from "./exact-json.js";
import { CompiledPolicies, type EvaluationOptions } from "./compiled-policies.js";
import { maxNestingDepth } from "./nesting-scan.js";
import { catalogPolicies, diagnosticFrom, type PolicyEntry } from "./policy-catalog.js";
import { CompileError, type Diagnostic, type PolicySources, type SourceFile } from "./policy-sources.js";
import { ActionHierarchy } from "./policy-scope.js";
import { schemaHints } from "./schema-hints.js";

/** Engine settings. */
export interface EngineOptions extends EvaluationOptions {
  /**
   * Deepest bracket nesting accepted in policy text. cedar-wasm overflows its stack near 140
   * levels and the trap corrupts the instance, so text deeper than this never reaches it.
   */
  readonly maxPolicyNesting: number;
}

/** Defaults: strict evaluation, nesting well under the wasm stack's limit. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { strict: true, maxPolicyNesting: 64 };

/**
 * Compiles bundle sources into a `CompiledPolicies`: splits and names policies, validates
 * them against the schema (strict mode), checks static entities, preparses, and self-tests.
 * The only entry into Cedar for bundles; it reads no files and knows no transport.
 */
export class CedarEngine {
  readonly runtime: CedarRuntime;
  readonly options: EngineOptions;

  constructor(runtime: CedarRuntime, options: EngineOptions = DEFAULT_ENGINE_OPTIONS) {
    this.runtime = runtime;
    this.options = options;
  }

  /** Cedar's language and SDK versions, for status reports. */
  version(): string {
    return this.runtime.cedar.getCedarVersion();
  }

  /** Compiles sources or throws `CompileError` with every diagnostic found. */
  compile(sources: PolicySources): CompiledPolicies {
    const diagnostics: Diagnostic[] = [];
    for (const f of [...sources.policyFiles, ...(sources.schema ? [sources.schema] : []), ...(sources.entities ? [sources.entities] : [])]) {
      const depth = maxNestingDepth(f.text);
      if (depth > this.options.maxPolicyNesting) {
        diagnostics.push({ file: f.path, message: `brackets nest ${depth} deep; the limit is ${this.options.maxPolicyNesting}` });
      }
    }
    if (diagnostics.length > 0) throw new CompileError(diagnostics);
    try {
      return this.#compileChecked(sources, diagnostics);
    } catch (err) {
      if (!CedarRuntime.isTrap(err)) throw err;
      // The parser trapped; the instance is unusable until replaced.
      this.runtime.recycle();
      throw new CompileError([{ file: "(bundle)", message: `the Cedar parser crashed on this bundle (${(err as Error).message}); it was refused` }]);
    }
  }

  #compileChecked(sources: PolicySources, diagnostics: Diagnostic[]): CompiledPolicies {
    const cedar = this.runtime.cedar;
    const policies = catalogPolicies(cedar, sources.policyFiles, diagnostics);
    const schema = sources.schema ? this.#loadSchema(sources.schema, diagnostics) : undefined;
    if (schema !== undefined && diagnostics.length === 0) this.#validate(schema, policies, sources.policyFiles, diagnostics);
    const staticEntities = sources.entities ? this.#loadEntities(sources.entities, schema, diagnostics) : [];
    if (diagnostics.length > 0) throw new CompileError(diagnostics);
    const compiled = new CompiledPolicies(
      this.runtime,
      {
        policies,
        schema,
        staticEntities,
        defaultActionType: defaultActionType(cedar, schema, policies),
        hints: schemaHints(cedar, schema),
        actionHierarchy: actionHierarchy(cedar, schema),
        sources,
      },
      this.options,
    );
    this.#selfTest();
    return compiled;
  }

  #loadSchema(file: SourceFile & { format: "cedar" | "json" }, diagnostics: Diagnostic[]): Schema | undefined {
    let schema: Schema;
    if (file.format === "json") {
      try {
        schema = JSON.parse(file.text) as SchemaJson<string>;
      } catch (err) {
        diagnostics.push({ file: file.path, message: `invalid JSON: ${(err as Error).message}` });
        return undefined;
      }
    } else {
      schema = file.text;
    }
    const parsed = this.runtime.cedar.checkParseSchema(schema);
    if (parsed.type === "failure") {
      for (const e of parsed.errors) diagnostics.push(diagnosticFrom(e, file.path, file.text, 0));
      return undefined;
    }
    return schema;
  }

  #validate(schema: Schema, policies: readonly PolicyEntry[], files: readonly SourceFile[], diagnostics: Diagnostic[]): void {
    const staticPolicies: Record<string, string> = {};
    for (const p of policies) staticPolicies[p.id] = p.text;
    const answer = this.runtime.cedar.validate({ schema, policies: { staticPolicies }, validationSettings: { mode: "strict" } });
    if (answer.type === "failure") {
      for (const e of answer.errors) diagnostics.push({ file: "(schema)", message: e.message });
      return;
    }
    const byId = new Map(policies.map((p) => [p.id, p]));
    const textOf = new Map(files.map((f) => [f.path, f.text]));
    for (const v of answer.validationErrors) {
      const p = byId.get(v.policyId);
      if (p === undefined) diagnostics.push({ file: "(bundle)", policyId: v.policyId, message: v.error.message });
      else diagnostics.push(diagnosticFrom(v.error, p.file, textOf.get(p.file) ?? "", p.offset, p.id));
    }
  }

  #loadEntities(file: SourceFile, schema: Schema | undefined, diagnostics: Diagnostic[]): EntityJson[] {
    let entities: unknown;
    try {
      // Exactly: a long beyond ±(2^53−1) must reach Cedar as written, not rounded.
      entities = parseExactJson(file.text);
    } catch (err) {
      diagnostics.push({ file: file.path, message: err instanceof RangeError ? err.message : `invalid JSON: ${(err as Error).message}` });
      return [];
    }
    if (!Array.isArray(entities)) {
      diagnostics.push({ file: file.path, message: "must be a JSON array of entities ({uid, attrs, parents})" });
      return [];
    }
    const seen = new Set<string>();
    entities.forEach((e: { uid?: { type?: unknown; id?: unknown } }, i) => {
      const key = JSON.stringify([e?.uid?.type, e?.uid?.id]);
      if (seen.has(key)) diagnostics.push({ file: file.path, message: `entity [${i}] ${key} is defined twice` });
      seen.add(key);
    });
    const parsed = this.runtime.cedar.checkParseEntities({ entities: entities as EntityJson[], schema: schema ?? null });
    if (parsed.type === "failure") {
      for (const e of parsed.errors) diagnostics.push({ file: file.path, message: e.message });
    }
    return entities as EntityJson[];
  }

  /** Proves the instance still answers after compiling untrusted text. */
  #selfTest(): void {
    const cedar = this.runtime.cedar;
    cedar.preparsePolicySet("verdict-self-test", { staticPolicies: "permit(principal, action, resource);" });
    const answer = cedar.statefulIsAuthorized({
      principal: { type: "SelfTest", id: "p" },
      action: { type: "Action", id: "a" },
      resource: { type: "SelfTest", id: "r" },
      context: {},
      entities: [],
      preparsedPolicySetId: "verdict-self-test",
    });
    if (answer.type !== "success" || answer.response.decision !== "allow") {
      throw new WasmRuntimeError("Cedar self-test failed after compiling the bundle");
    }
  }
}

/** The schema's action groups, for slicing by action; undefined without a schema. */
function actionHierarchy(cedar: CedarRuntime["cedar"], schema: Schema | undefined): ActionHierarchy | undefined {
  if (schema === undefined) return undefined;
  const json = typeof schema === "string" ? cedar.schemaToJson(schema) : { type: "success" as const, json: schema };
  // A schema Cedar accepted converts; if it ever did not, slicing must not guess the groups.
  if (json.type !== "success") throw new CompileError([{ file: "(schema)", message: "the schema could not be read for action groups" }]);
  return ActionHierarchy.fromSchema(json.json);
}

/**
 * The action type for requests that leave it empty: `NS::Action` when the schema (or, with no
 * schema, the policies' action constraints) use exactly one namespace, else `Action`.
 */
function defaultActionType(cedar: CedarRuntime["cedar"], schema: Schema | undefined, policies: readonly PolicyEntry[]): string {
  let namespaces: string[] = [];
  if (schema !== undefined) {
    const json = typeof schema === "string" ? cedar.schemaToJson(schema) : { type: "success" as const, json: schema };
    if (json.type === "success") namespaces = Object.keys(json.json);
  } else {
    const found = new Set<string>();
    for (const p of policies) for (const m of p.text.matchAll(/([A-Za-z_][\w:]*)::Action::"/g)) found.add(m[1]!);
    namespaces = [...found];
  }
  return namespaces.length === 1 && namespaces[0] !== "" ? `${namespaces[0]}::Action` : "Action";
}
