import type { BundleAnalysis } from "../engine/authoring/bundle-analysis.js";
import { factsOf, LINT_RULES, type LintFinding } from "./lint-rules.js";

/** The annotation that silences rules for one policy (or one schema declaration). */
export const LINT_ALLOW = "lint_allow";

/** Runs every rule; findings silenced with `@lint_allow("rule-id, …")` are left out. */
export function lintBundle(a: BundleAnalysis): LintFinding[] {
  const facts = factsOf(a);
  const ids = new Set(LINT_RULES.map((r) => r.id));
  const allowed = (annotations: Readonly<Record<string, string>> | undefined) => new Set((annotations?.[LINT_ALLOW] ?? "").split(/[\s,]+/).filter((x) => x !== ""));
  const findings = LINT_RULES.flatMap((rule) => rule.check(a, facts)).filter((f) => !allowed(f.policy?.json.annotations ?? f.annotations).has(f.rule));
  // A misspelt rule id would silently silence nothing.
  for (const p of a.policies) {
    for (const id of allowed(p.json.annotations)) {
      if (!ids.has(id)) findings.push({ rule: "unknown-lint-rule", file: p.file, line: p.line, policy: p, message: `@${LINT_ALLOW} names "${id}", which is not a lint rule`, fix: `use one of: ${[...ids].join(", ")}` });
    }
  }
  return findings.sort((x, y) => x.file.localeCompare(y.file) || (x.line ?? 0) - (y.line ?? 0) || x.rule.localeCompare(y.rule));
}

/** `file:line [policy] rule: message` and the fix on the next line. */
export function formatFinding(f: LintFinding): string {
  const place = f.line === undefined ? f.file : `${f.file}:${f.line}`;
  return `${place}${f.policy ? ` [${f.policy.id}]` : ""} ${f.rule}: ${f.message}\n    fix: ${f.fix}`;
}
