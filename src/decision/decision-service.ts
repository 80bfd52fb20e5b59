import { randomUUID } from "node:crypto";
import { setImmediate } from "node:timers/promises";
import type { ActiveBundle } from "../bundle/active-bundle.js";
import type { BundleSnapshot } from "../bundle/bundle-snapshot.js";
import { toVerdictError, unavailable, VerdictError } from "../errors.js";
import type { Api, AuthzRequest } from "../model/authz-request.js";
import type { EvaluationPool } from "../engine/evaluation-pool.js";
import type { CacheStatus, DecisionResult, Evaluation } from "../model/decision.js";
import type { TraceCarrier } from "../model/trace-carrier.js";
import type { DecisionCache } from "./decision-cache.js";
import type { DecisionObserver, RequestOrigin } from "./decision-observer.js";
import { applyEntityTrust, type UntrustedDataMode } from "./entity-trust.js";
import { guardRequest } from "./request-guard.js";
import { batchTooLarge, type RequestLimits } from "./request-limits.js";

/** Per-call facts that are not part of the question itself. */
export interface DecisionContext {
  readonly api: Api;
  /** Caller's correlation id; echoed and logged, never part of the cache key. */
  readonly requestId: string;
  /** The caller's trace context (tracing on only); passed to observers, never decided on. */
  readonly trace?: TraceCarrier | undefined;
  /** The gateway's route and client, for observers (anomaly detection); never decided on. */
  readonly origin?: RequestOrigin | undefined;
}

/** A request as a front door received it: a fingerprint of its encoding, and how to decode it. */
export interface EncodedQuestion {
  /** Equal fingerprints stand for equal questions; undefined: the door vouches for none. */
  readonly fingerprint: string | undefined;
  /** The correlation id the door read beside the fingerprint (used when the cache answers). */
  readonly requestId: string;
  /**
   * A refusal the encoding already shows (e.g. far too many entities), checked on a miss before
   * decoding builds the request. A hit needs none: its question was decided within the limits.
   */
  precheck?(): VerdictError | undefined;
  /** Decodes and maps; `exact()`: the fingerprint stands for exactly this request. */
  decode(): { readonly request: AuthzRequest; readonly requestId: string; exact(): boolean };
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
  readonly #pool: EvaluationPool | undefined;

  /** With a `pool`, evaluations run on its worker threads once they have the bundle. */
  constructor(active: ActiveBundle, limits: RequestLimits, cache: DecisionCache, observer: DecisionObserver, untrustedData: UntrustedDataMode = "refuse", pool?: EvaluationPool) {
    this.#untrustedData = untrustedData;
    this.#pool = pool;
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
      return (await this.#decide(this.#snapshot(), req, ctx, start)).result;
    } catch (err) {
      throw this.#refused(ctx.api, err);
    }
  }

  /**
   * Decides a request a front door knows by a fingerprint of its encoding. A repeat is
   * answered from the in-process cache without decoding; otherwise, or when an observer reads
   * the request, `decode` builds it (and may throw the error that refuses it). A decision is
   * remembered under the fingerprint only when `decode` says the fingerprint stands for
   * exactly that request (`exact`): equal fingerprints must mean equal questions.
   */
  async decideEncoded(encoded: EncodedQuestion, ctx: Omit<DecisionContext, "requestId">): Promise<DecisionResult> {
    const { api } = ctx;
    const start = process.hrtime.bigint();
    try {
      const snapshot = this.#snapshot();
      const { fingerprint } = encoded;
      const known = fingerprint === undefined ? undefined : this.#cache.recall?.(snapshot.cacheScope, fingerprint);
      if (known === undefined) {
        const early = encoded.precheck?.();
        if (early !== undefined) throw early;
        const { request, requestId, exact } = encoded.decode();
        const { result, evaluation } = await this.#decide(snapshot, request, { ...ctx, requestId }, start);
        if (fingerprint !== undefined && this.#cache.remember !== undefined && exact()) this.#cache.remember(snapshot.cacheScope, fingerprint, evaluation);
        return result;
      }
      const result = this.#result(known, snapshot, "hit_local", { ...ctx, requestId: encoded.requestId });
      let request: AuthzRequest | undefined;
      this.#observer.decided({
        api,
        get request() {
          return (request ??= encoded.decode().request);
        },
        result,
        durationSeconds: seconds(start),
        evaluationSeconds: undefined,
        trace: ctx.trace,
        origin: ctx.origin,
      });
      return result;
    } catch (err) {
      throw this.#refused(api, err);
    }
  }

  #snapshot(): BundleSnapshot {
    const snapshot = this.#active.snapshot;
    if (snapshot === undefined) throw unavailable("no policy bundle is active yet");
    return snapshot;
  }

  /** Limits, entity trust, cache or engine, then observers; one snapshot throughout. */
  async #decide(snapshot: BundleSnapshot, req: AuthzRequest, ctx: DecisionContext, start: bigint): Promise<{ result: DecisionResult; evaluation: Evaluation }> {
    guardRequest(req, this.#limits);
    const trusted = applyEntityTrust(req, snapshot.trustedEntityTypes, this.#untrustedData);
    let evaluationSeconds: number | undefined;
    const evaluate = (): Evaluation | Promise<Evaluation> => {
      const t = process.hrtime.bigint();
      const done = () => (evaluationSeconds = seconds(t));
      const pooled = this.#pool?.evaluate(snapshot.policies, trusted);
      if (pooled !== undefined) return pooled.finally(done);
      try {
        return snapshot.policies.evaluate(trusted);
      } finally {
        done();
      }
    };
    const { evaluation, cache } = await this.#cache.resolve(snapshot.cacheScope, trusted, evaluate);
    const result = this.#result(evaluation, snapshot, cache, ctx);
    this.#observer.decided({ api: ctx.api, request: req, result, durationSeconds: seconds(start), evaluationSeconds, trace: ctx.trace, origin: ctx.origin });
    return { result, evaluation };
  }

  #result(evaluation: Evaluation, snapshot: BundleSnapshot, cache: CacheStatus, ctx: DecisionContext): DecisionResult {
    const { decision, determiningPolicies, errors } = evaluation;
    return { decision, determiningPolicies, errors, decisionId: randomUUID(), bundleRevision: snapshot.revision, cache, requestId: ctx.requestId };
  }

  #refused(api: Api, err: unknown): VerdictError {
    const error = toVerdictError(err);
    this.#observer.refused(api, error);
    return error;
  }

  /**
   * Decides several requests independently, results in order; one bad item fails alone. A
   * batch over `maxBatchEntities` is refused whole. Each item starts in its own turn of the
   * event loop, so other callers' requests are served between a batch's items.
   */
  async decideBatch(items: readonly { request: AuthzRequest | VerdictError; requestId: string }[], api: Api, trace?: TraceCarrier): Promise<BatchItem[]> {
    this.#observer.batch?.(items.length);
    const tooLarge = batchTooLarge(items.map(({ request }) => (request instanceof VerdictError ? 0 : request.entities.length)), this.#limits);
    if (tooLarge !== undefined) throw this.#refused(api, tooLarge);
    const pending: Promise<BatchItem>[] = [];
    for (const { request, requestId } of items) {
      await setImmediate();
      if (request instanceof VerdictError) {
        this.#observer.refused(api, request);
        pending.push(Promise.resolve({ ok: false, error: request }));
        continue;
      }
      pending.push(this.decide(request, { api, requestId, trace }).then((result): BatchItem => ({ ok: true, result }), (err: unknown): BatchItem => ({ ok: false, error: toVerdictError(err) })));
    }
    return Promise.all(pending);
  }
}
