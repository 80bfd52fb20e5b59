import type { PolicyTestResult } from "./run-policy-tests.js";

/** A policy as coverage sees it. */
export interface CoveredPolicy {
  readonly id: string;
  readonly effect: "permit" | "forbid";
  readonly file: string;
  readonly line: number;
}

/** Which policies a bundle's tests exercised. */
export interface PolicyCoverage {
  readonly total: number;
  /** Policies that determined the decision of at least one test. */
  readonly decided: readonly string[];
  /** Policies that determined no test's decision. */
  readonly neverExercised: readonly CoveredPolicy[];
  /** Forbids that made no test deny (a subset of `neverExercised`, named apart: an untested guardrail). */
  readonly forbidsNeverDenied: readonly CoveredPolicy[];
  /** decided / total, in percent (100 for a bundle without policies). */
  readonly percent: number;
}

/**
 * Coverage of a bundle by its tests: a policy counts when it is among the determining
 * policies of a test's decision (a permit that allowed, a forbid that denied), whatever the
 * test expected. Errors decide nothing and cover nothing.
 */
export function policyCoverage(policies: readonly CoveredPolicy[], results: readonly PolicyTestResult[]): PolicyCoverage {
  const decided = new Set<string>();
  for (const r of results) if (!("error" in r.actual)) for (const id of r.actual.determiningPolicies) decided.add(id);
  const neverExercised = policies.filter((p) => !decided.has(p.id));
  return {
    total: policies.length,
    decided: policies.filter((p) => decided.has(p.id)).map((p) => p.id),
    neverExercised,
    forbidsNeverDenied: neverExercised.filter((p) => p.effect === "forbid"),
    percent: policies.length === 0 ? 100 : Math.floor((1000 * (policies.length - neverExercised.length)) / policies.length) / 10,
  };
}

/** The coverage section of a text report. */
export function formatCoverage(c: PolicyCoverage): string {
  const lines = [`coverage: ${c.percent}% of policies decided at least one test (${c.total - c.neverExercised.length}/${c.total})`];
  const perm = c.neverExercised.filter((p) => p.effect === "permit");
  if (perm.length > 0) lines.push("  never exercised:", ...perm.map((p) => `    ${p.id} (${p.file}:${p.line})`));
  if (c.forbidsNeverDenied.length > 0) lines.push("  forbids that never denied a test:", ...c.forbidsNeverDenied.map((p) => `    ${p.id} (${p.file}:${p.line})`));
  return lines.join("\n");
}

/** Why a bundle falls short of `min` percent, or undefined when it does not. */
export function coverageShortfall(c: PolicyCoverage, min: number): string | undefined {
  if (c.percent >= min) return undefined;
  return `policy coverage ${c.percent}% is below the required ${min}%: add tests in which ${c.neverExercised.map((p) => `"${p.id}"`).join(", ")} decide${c.neverExercised.length === 1 ? "s" : ""} the outcome`;
}
