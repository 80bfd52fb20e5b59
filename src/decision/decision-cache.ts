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
  resolve(scope: string, req: AuthzRequest, evaluate: () => Evaluation): Resolved | Promise<Resolved>;
}

/** The cache when caching is off: every decision is evaluated. */
export class NoDecisionCache implements DecisionCache {
  resolve(_scope: string, _req: AuthzRequest, evaluate: () => Evaluation): Resolved {
    return { evaluation: evaluate(), cache: "bypass" };
  }
}
