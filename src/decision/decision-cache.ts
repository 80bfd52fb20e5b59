import type { AuthzRequest } from "../model/authz-request.js";
import type { CacheStatus, Evaluation } from "../model/decision.js";

/** An evaluation and where it came from. */
export interface Resolved {
  readonly evaluation: Evaluation;
  readonly cache: CacheStatus;
}

/**
 * What the decision path needs from a cache: answer from a tier, or call `evaluate` and
 * remember. `scope` identifies the bundle content, so a new revision never reads old entries.
 */
export interface DecisionCache {
  resolve(scope: string, req: AuthzRequest, evaluate: () => Evaluation | Promise<Evaluation>): Resolved | Promise<Resolved>;
  /**
   * The in-process tier by a front door's fingerprint of the request's encoding (equal
   * encodings are equal requests), so a repeat is answered without decoding it. Optional: a
   * cache without it makes every request take the full path.
   */
  recall?(scope: string, fingerprint: string): Evaluation | undefined;
  /** Remembers an evaluation under a fingerprint, for `recall`. */
  remember?(scope: string, fingerprint: string, evaluation: Evaluation): void;
}

/** The cache when caching is off: every decision is evaluated. */
export class NoDecisionCache implements DecisionCache {
  resolve(_scope: string, _req: AuthzRequest, evaluate: () => Evaluation | Promise<Evaluation>): Resolved | Promise<Resolved> {
    const evaluation = evaluate();
    return evaluation instanceof Promise ? evaluation.then((e) => ({ evaluation: e, cache: "bypass" })) : { evaluation, cache: "bypass" };
  }
}
