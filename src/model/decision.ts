/** Outcome of evaluating one request against one bundle revision. */
export type DecisionKind = "allow" | "deny";

/** An error Cedar met while evaluating one policy. */
export interface EvaluationError {
  readonly policyId: string;
  readonly message: string;
}

/** What the engine decided; cacheable because it depends only on revision + request. */
export interface Evaluation {
  readonly decision: DecisionKind;
  readonly determiningPolicies: readonly string[];
  readonly errors: readonly EvaluationError[];
}

/** Where a decision came from. */
export type CacheStatus = "miss" | "hit_local" | "hit_shared" | "bypass";

/** A decision as answered to a caller. */
export interface DecisionResult extends Evaluation {
  readonly decisionId: string;
  readonly bundleRevision: string;
  readonly cache: CacheStatus;
  readonly requestId: string;
}
