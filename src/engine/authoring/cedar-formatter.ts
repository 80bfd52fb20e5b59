import type { CedarRuntime } from "../cedar-runtime.js";
import { diagnosticFrom } from "../policy-catalog.js";
import type { Diagnostic, SourceFile } from "../policy-sources.js";

/** A policy file in Cedar's canonical layout, or why it could not be formatted. */
export type FormatResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Formats one `.cedar` file with Cedar's own formatter (the one `cedar format` uses): comments
 * and annotations are kept. The result is parsed again and must be the same policies, in the
 * same order, as the input; if it is not, nothing is formatted (a formatter must never change
 * what a policy means).
 */
export function formatCedar(runtime: CedarRuntime, file: SourceFile): FormatResult {
  const cedar = runtime.cedar;
  const answer = cedar.formatPolicies({ policyText: file.text });
  if (answer.type === "failure") return { ok: false, diagnostics: answer.errors.map((e) => diagnosticFrom(e, file.path, file.text, 0)) };
  const before = policiesAsJson(runtime, file.text);
  const after = policiesAsJson(runtime, answer.formatted_policy);
  if (before === undefined || after === undefined || before !== after) {
    return { ok: false, diagnostics: [{ file: file.path, message: "Cedar's formatter changed what the policies mean; the file was left as it is" }] };
  }
  return { ok: true, text: answer.formatted_policy };
}

/** Every policy of a file as Cedar's JSON, joined: equal strings mean equal policies. */
function policiesAsJson(runtime: CedarRuntime, text: string): string | undefined {
  const parts = runtime.cedar.policySetTextToParts(text);
  if (parts.type === "failure") return undefined;
  const out: unknown[] = [];
  for (const [p, json] of [...parts.policies.map((p) => [p, runtime.cedar.policyToJson(p)] as const), ...parts.policy_templates.map((t) => [t, runtime.cedar.templateToJson(t)] as const)]) {
    void p;
    if (json.type === "failure") return undefined;
    out.push(json.json);
  }
  return JSON.stringify(out);
}
