import type { BundleSnapshot } from "../bundle/bundle-snapshot.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import { applyEntityTrust, type UntrustedDataMode } from "./entity-trust.js";
import { guardRequest } from "./request-guard.js";
import type { RequestLimits } from "./request-limits.js";

/**
 * Decides a request against any snapshot as the decision path would (limits, entity trust,
 * engine) but beside it: no decision cache is read or written and no observer hears of it. For
 * comparing one bundle with another (what-if reports, shadow evaluation).
 */
export class UncachedEvaluator {
  readonly #limits: RequestLimits;
  readonly #untrustedData: UntrustedDataMode;

  constructor(limits: RequestLimits, untrustedData: UntrustedDataMode) {
    this.#limits = limits;
    this.#untrustedData = untrustedData;
  }

  /** Throws the `VerdictError` the decision path would refuse the request with. */
  evaluate(snapshot: BundleSnapshot, request: AuthzRequest): Evaluation {
    guardRequest(request, this.#limits);
    return snapshot.policies.evaluate(applyEntityTrust(request, snapshot.trustedEntityTypes, this.#untrustedData));
  }
}
