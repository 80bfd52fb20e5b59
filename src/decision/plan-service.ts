import type { ActiveBundle } from "../bundle/active-bundle.js";
import { toVerdictError, unavailable, type VerdictError } from "../errors.js";
import type { Api } from "../model/authz-request.js";
import type { PlanRequest } from "../model/plan-request.js";
import type { PlanKind, PlanResult } from "../model/resource-filter.js";
import { applyEntityTrust, type UntrustedDataMode } from "./entity-trust.js";
import { guardPlanRequest } from "./request-guard.js";
import type { RequestLimits } from "./request-limits.js";

/** Receives every plan and every refusal; must never throw or block. */
export interface PlanObserver {
  planned(kind: PlanKind, durationSeconds: number): void;
  refused(api: Api, error: VerdictError): void;
}

/**
 * Resource query planning: active snapshot (read once) → the same limits and entity trust as
 * Check → the engine's plan. Plans are not cached: they are asked for per page of a listing,
 * not per API call, and their answer depends on the whole request. Throws `VerdictError`s.
 */
export class PlanService {
  readonly #active: ActiveBundle;
  readonly #limits: RequestLimits;
  readonly #observer: PlanObserver;
  readonly #untrustedData: UntrustedDataMode;

  constructor(active: ActiveBundle, limits: RequestLimits, observer: PlanObserver, untrustedData: UntrustedDataMode = "refuse") {
    this.#active = active;
    this.#limits = limits;
    this.#observer = observer;
    this.#untrustedData = untrustedData;
  }

  /** Plans one request against the active bundle. */
  plan(req: PlanRequest, requestId: string): PlanResult {
    const start = process.hrtime.bigint();
    try {
      const snapshot = this.#active.snapshot;
      if (snapshot === undefined) throw unavailable("no policy bundle is active yet");
      guardPlanRequest(req, this.#limits);
      const plan = snapshot.policies.plan(applyEntityTrust(req, snapshot.trustedEntityTypes, this.#untrustedData));
      this.#observer.planned(plan.kind, Number(process.hrtime.bigint() - start) / 1e9);
      return { ...plan, bundleRevision: snapshot.revision, requestId };
    } catch (err) {
      const error = toVerdictError(err);
      this.#observer.refused("plan", error);
      throw error;
    }
  }
}
