import type { Expr, PolicyJson, Schema, SchemaJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarRuntime } from "../cedar-runtime.js";
import { catalogPolicies, diagnosticFrom, type PolicyEntry } from "../policy-catalog.js";
import { CompileError, type Diagnostic, type PolicySources, type SourceFile } from "../policy-sources.js";

/** Cedar's JSON form of a policy, for tools outside the engine that read policies. */
export type PolicyAst = PolicyJson;
/** Cedar's JSON form of a condition expression. */
export type ExprAst = Expr;
/** Cedar's JSON form of a schema (common types resolved). */
export type SchemaAst = SchemaJson<string>;

/** A policy as lint rules see it: Cedar's JSON form and where it is written. */
export type AnalysedPolicy = PolicyEntry;

/** One warning Cedar's validator gave for a policy. */
export interface ValidatorWarning extends Diagnostic {
  readonly policyId: string;
  /** `impossible-policy` when Cedar proved the policy can never apply, else `validator-warning`. */
  readonly kind: "impossible-policy" | "validator-warning";
}

/** What static analysis of a bundle knows, without Cedar types leaking past this folder. */
export interface BundleAnalysis {
  readonly policies: readonly AnalysedPolicy[];
  /** The schema as JSON, common types resolved; undefined when the bundle has none. */
  readonly schema?: SchemaAst;
  /** The schema file, to place findings about it. */
  readonly schemaFile?: SourceFile;
  /** Cedar's validator warnings (strict mode); empty without a schema. */
  readonly warnings: readonly ValidatorWarning[];
  /** True when Cedar's validator proves this policy can never apply under the schema. */
  isImpossible(policy: PolicyJson): boolean;
}

/**
 * Reads a bundle's policies and schema for authoring tools (lint, coverage): the policies'
 * JSON, the validator's warnings (which the compiler does not need and so does not keep), and a
 * probe that asks the validator whether a made-up policy could ever apply. Throws `CompileError`
 * when the bundle does not parse; `BundleLoader` reports that case in full.
 */
export function analyseBundle(runtime: CedarRuntime, sources: PolicySources): BundleAnalysis {
  const cedar = runtime.cedar;
  const diagnostics: Diagnostic[] = [];
  const policies = catalogPolicies(cedar, sources.policyFiles, diagnostics);
  if (diagnostics.length > 0) throw new CompileError(diagnostics);
  const schemaInput: Schema | undefined =
    sources.schema === undefined ? undefined : sources.schema.format === "json" ? (JSON.parse(sources.schema.text) as SchemaJson<string>) : sources.schema.text;
  if (schemaInput === undefined) return { policies, warnings: [], isImpossible: () => false };
  const asText = typeof schemaInput === "string" ? schemaInput : cedar.schemaToText(schemaInput);
  const schemaText = typeof asText === "string" ? asText : asText.type === "success" ? asText.text : undefined;
  const resolved = schemaText === undefined ? undefined : cedar.schemaToJsonWithResolvedTypes(schemaText);
  const schema = resolved?.type === "success" ? (resolved.json as SchemaJson<string>) : undefined;

  const staticPolicies: Record<string, PolicyJson> = {};
  for (const p of policies) staticPolicies[p.id] = p.json;
  const answer = cedar.validate({ schema: schemaInput, policies: { staticPolicies }, validationSettings: { mode: "strict" } });
  const warnings: ValidatorWarning[] = [];
  if (answer.type === "success") {
    const byId = new Map(policies.map((p) => [p.id, p]));
    const textOf = new Map(sources.policyFiles.map((f) => [f.path, f.text]));
    for (const w of answer.validationWarnings) {
      const p = byId.get(w.policyId);
      if (p === undefined) continue;
      const d = diagnosticFrom(w.error, p.file, textOf.get(p.file) ?? "", p.offset, p.id);
      warnings.push({ ...d, policyId: p.id, kind: /policy is impossible|unable to find an applicable action/.test(w.error.message) ? "impossible-policy" : "validator-warning" });
    }
  }
  const isImpossible = (policy: PolicyJson): boolean => {
    const probe = cedar.validate({ schema: schemaInput, policies: { staticPolicies: { probe: policy } }, validationSettings: { mode: "strict" } });
    return probe.type === "success" && probe.validationErrors.length === 0 && probe.validationWarnings.some((w) => /policy is impossible/.test(w.error.message));
  };
  return { policies, ...(schema === undefined ? {} : { schema }), schemaFile: sources.schema!, warnings, isImpossible };
}
