import { randomUUID } from "node:crypto";
import type { ActiveBundle } from "../bundle/active-bundle.js";
import { toVerdictError, unavailable, VerdictError } from "../errors.js";
import type { Api, AuthzRequest } from "../model/authz-request.js";
import type { DecisionResult, Evaluation } from "../model/decision.js";
import type { DecisionCache } from "./decision-cache.js";
import type { DecisionObserver } from "./decision-observer.js";
import { applyEntityTrust, type UntrustedDataMode } from "./entity-trust.js";
import { guardRequest } from "./request-guard.js";
import type { RequestLimits } from "./request-limits.js";

/** Per-call facts that are not part of the question itself. */
export interface DecisionContext {
  readonly api: Api;
  /** Caller's correlation id; echoed and logged, never part of the cache key. */
  readonly requestId: string;
}

/** A batch item's outcome: a decision, or the error that refused that item alone. */
export type BatchItem = { readonly ok: true; readonly result: DecisionResult } | { readonly ok: false; readonly error: VerdictError };

const seconds = (startNs: bigint) => Number(process.hrtime.bigint() - startNs) / 1e9;

/**
 * The decision path every front door shares: active snapshot (read once) → limits → cache →
 * engine → metrics and log. It throws `VerdictError`s; transports choose their statuses.
 */
export class DecisionService {
  readonly #active: ActiveBundle;
  readonly #limits: RequestLimits;
  readonly #cache: DecisionCache;
  readonly #observer: DecisionObserver;
  readonly #untrustedData: UntrustedDataMode;

  constructor(active: ActiveBundle, limits: RequestLimits, cache: DecisionCache, observer: DecisionObserver, untrustedData: UntrustedDataMode = "refuse") {
    this.#untrustedData = untrustedData;
    this.#active = active;
    this.#limits = limits;
    this.#cache = cache;
    this.#observer = observer;
  }

  /** The limits in force, for front doors that check sizes before mapping. */
  get limits(): RequestLimits {
    return this.#limits;
  }

  /** Reports a request its front door refused before mapping it, so metrics count it too. */
  refuse(api: Api, error: VerdictError): void {
    this.#observer.refused(api, error);
  }

  /** Decides one request. */
  async decide(req: AuthzRequest, ctx: DecisionContext): Promise<DecisionResult> {
    const start = process.hrtime.bigint();
    try {
      const snapshot = this.#active.snapshot;
      if (snapshot === undefined) throw unavailable("no policy bundle is active yet");
      guardRequest(req, this.#limits);
      const trusted = applyEntityTrust(req, snapshot.trustedEntityTypes, this.#untrustedData);
      let evaluationSeconds: number | undefined;
      const evaluate = (): Evaluation => {
        const t = process.hrtime.bigint();
        try {
          return snapshot.policies.evaluate(trusted);
        } finally {
          evaluationSeconds = seconds(t);
        }
      };
      const { evaluation, cache } = await this.#cache.resolve(snapshot.cacheScope, trusted, evaluate);
      const result: DecisionResult = {
        ...evaluation,
        decisionId: randomUUID(),
        bundleRevision: snapshot.revision,
        cache,
        requestId: ctx.requestId,
      };
      this.#observer.decided({ api: ctx.api, request: req, result, durationSeconds: seconds(start), evaluationSeconds });
      return result;
    } catch (err) {
      const error = toVerdictError(err);
      this.#observer.refused(ctx.api, error);
      throw error;
    }
  }

  /** Decides several requests independently, results in order; one bad item fails alone. */
  async decideBatch(items: readonly { request: AuthzRequest | VerdictError; requestId: string }[], api: Api): Promise<BatchItem[]> {
    this.#observer.batch?.(items.length);
    return Promise.all(
      items.map(async ({ request, requestId }): Promise<BatchItem> => {
        if (request instanceof VerdictError) {
          this.#observer.refused(api, request);
          return { ok: false, error: request };
        }
        try {
          return { ok: true, result: await this.decide(request, { api, requestId }) };
        } catch (err) {
          return { ok: false, error: toVerdictError(err) };
        }
      }),
    );
  }
}
