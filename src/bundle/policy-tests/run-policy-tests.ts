import { applyEntityTrust } from "../../decision/entity-trust.js";
import { guardRequest } from "../../decision/request-guard.js";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "../../decision/request-limits.js";
import type { CompiledPolicies } from "../../engine/compiled-policies.js";
import type { Evaluation } from "../../model/decision.js";
import type { PolicyTestCase } from "./policy-test-case.js";

/** The outcome of one policy test. */
export interface PolicyTestResult {
  readonly test: PolicyTestCase;
  readonly passed: boolean;
  /** What came back, or why the request could not be decided. */
  readonly actual: Evaluation | { readonly error: string };
}

/** Runs tests against compiled policies, exactly as the decision path would decide them. */
export function runPolicyTests(
  policies: CompiledPolicies,
  tests: readonly PolicyTestCase[],
  limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
  trustedEntityTypes: ReadonlySet<string> = new Set(),
): PolicyTestResult[] {
  return tests.map((test) => {
    let actual: Evaluation;
    try {
      guardRequest(test.request, limits);
      actual = policies.evaluate(applyEntityTrust(test.request, trustedEntityTypes, "refuse"));
    } catch (err) {
      return { test, passed: false, actual: { error: (err as Error).message } };
    }
    const want = test.expect.determiningPolicies;
    const samePolicies = want === undefined || sameSet(want, actual.determiningPolicies);
    return { test, passed: actual.decision === test.expect.decision && samePolicies, actual };
  });
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join("\0") === [...b].sort().join("\0");
