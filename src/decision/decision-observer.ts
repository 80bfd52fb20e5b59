import type { VerdictError } from "../errors.js";
import type { Api, AuthzRequest } from "../model/authz-request.js";
import type { DecisionResult } from "../model/decision.js";
import type { TraceCarrier } from "../model/trace-carrier.js";

/** One decision as metrics and the decision log see it. */
export interface DecisionEvent {
  readonly api: Api;
  readonly request: AuthzRequest;
  readonly result: DecisionResult;
  /** Seconds from the decision path's start to its answer. */
  readonly durationSeconds: number;
  /** Seconds spent in the engine; undefined when the cache answered. */
  readonly evaluationSeconds: number | undefined;
  /** The caller's trace context, when tracing is on and the caller sent one. */
  readonly trace?: TraceCarrier | undefined;
  /** Where the request came from, when its front door knows (the gateway's route and client). */
  readonly origin?: RequestOrigin | undefined;
}

/** What a gateway front door knows about a request beyond the question: its route and client. */
export interface RequestOrigin {
  /** The matched route, `METHOD /path/{template}`. */
  readonly route: string;
  /** The route is marked `deprecated: true`. */
  readonly deprecated: boolean;
  /** The client address the gateway reported. */
  readonly source: string;
}

/** Receives every decision and every refusal; must never throw or block. */
export interface DecisionObserver {
  decided(event: DecisionEvent): void;
  refused(api: Api, error: VerdictError): void;
  /** A batch of `size` checks arrived (its items are reported one by one as well). */
  batch?(size: number): void;
}

/** Fans events out to several observers, isolating each from the others' faults. */
export class DecisionObservers implements DecisionObserver {
  readonly #observers: readonly DecisionObserver[];

  constructor(observers: readonly DecisionObserver[]) {
    this.#observers = observers;
  }

  decided(event: DecisionEvent): void {
    for (const o of this.#observers) {
      try {
        o.decided(event);
      } catch {
        // Observing a decision must never change or fail it.
      }
    }
  }

  refused(api: Api, error: VerdictError): void {
    for (const o of this.#observers) {
      try {
        o.refused(api, error);
      } catch {
        // As above.
      }
    }
  }

  batch(size: number): void {
    for (const o of this.#observers) {
      try {
        o.batch?.(size);
      } catch {
        // As above.
      }
    }
  }
}
