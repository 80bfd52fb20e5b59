import { LRUCache } from "lru-cache";
import type { DecisionCache, Resolved } from "../decision/decision-cache.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Evaluation } from "../model/decision.js";
import type { CacheMetrics } from "./cache-metrics.js";
import { requestDigest, sharedCacheKey } from "./cache-key.js";
import { EvaluationInterner } from "./evaluation-interner.js";
import type { SharedCache } from "./shared-cache.js";

type Evaluate = () => Evaluation | Promise<Evaluation>;

/** Bounds of the in-process tier. */
export interface LocalCacheSettings {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly namespace: string;
  /** Process settings that change decisions (e.g. "strict"), so replicas that differ never share entries. */
  readonly variant: string;
}

/**
 * L1 (in-process LRU) in front of an optional L2 (Redis) in front of the engine. An L1 hit is
 * answered synchronously; a miss consults L2 once per key however many identical requests
 * arrive meanwhile (single flight), and an L2 write never delays the answer. A request the
 * engine refuses or traps on is never cached; Cedar's per-policy evaluation errors are part of
 * a deterministic answer and are cached with it. Keys start with the bundle's content scope,
 * so a new revision can never read a decision of an old one.
 */
export class TieredDecisionCache implements DecisionCache {
  readonly #local: LRUCache<string, Evaluation>;
  readonly #shared: SharedCache | undefined;
  readonly #metrics: CacheMetrics;
  readonly #namespace: string;
  readonly #variant: string;
  readonly #inflight = new Map<string, Promise<Resolved>>();
  readonly #scopes = new Map<string, number>();
  readonly #evaluations = new EvaluationInterner();

  constructor(settings: LocalCacheSettings, shared: SharedCache | undefined, metrics: CacheMetrics) {
    // A decision answered through a fingerprinting front door is held under two keys.
    this.#local = new LRUCache({ max: settings.maxEntries * 2, ttl: settings.ttlMs, ttlAutopurge: false });
    this.#shared = shared;
    this.#metrics = metrics;
    this.#namespace = settings.namespace;
    this.#variant = settings.variant;
  }

  resolve(scope: string, req: AuthzRequest, evaluate: Evaluate): Resolved | Promise<Resolved> {
    const digest = requestDigest(req, this.#variant);
    const key = `${this.#scopeId(scope)}=${digest.toString("base64")}`;
    const local = this.#local.get(key);
    if (local !== undefined) {
      this.#metrics.lookup("local", "hit");
      return { evaluation: local, cache: "hit_local" };
    }
    this.#metrics.lookup("local", "miss");
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    const resolved = this.#shared === undefined ? this.#evaluate(key, undefined, evaluate) : this.#viaShared(this.#shared, key, sharedCacheKey(this.#namespace, scope, digest), evaluate);
    // Only an answer that takes time (Redis, a worker) can have identical requests join it.
    if (!(resolved instanceof Promise)) return resolved;
    const flight = resolved.finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, flight);
    return flight;
  }

  recall(scope: string, fingerprint: string): Evaluation | undefined {
    const found = this.#local.get(`${this.#scopeId(scope)}#${fingerprint}`);
    if (found !== undefined) this.#metrics.lookup("local", "hit");
    return found;
  }

  remember(scope: string, fingerprint: string, evaluation: Evaluation): void {
    this.#local.set(`${this.#scopeId(scope)}#${fingerprint}`, evaluation);
  }

  /** Entries in the local tier, for status and tests. */
  get localSize(): number {
    return this.#local.size;
  }

  async #viaShared(shared: SharedCache, key: string, sharedKey: string, evaluate: Evaluate): Promise<Resolved> {
    const found = await shared.get(sharedKey);
    if (typeof found === "object") {
      this.#metrics.lookup("shared", "hit");
      const evaluation = this.#evaluations.intern(found.hit);
      this.#local.set(key, evaluation);
      return { evaluation, cache: "hit_shared" };
    }
    this.#metrics.lookup("shared", found);
    return this.#evaluate(key, sharedKey, evaluate);
  }

  /**
   * Evaluates and remembers. A throw (refusal, engine trap) propagates and nothing is stored.
   * The shared write also follows a lookup that errored: one timed-out GET must not keep a
   * decision out of Redis, and the write itself gives up at once while the breaker is open.
   */
  #evaluate(key: string, sharedKey: string | undefined, evaluate: Evaluate): Resolved | Promise<Resolved> {
    const evaluation = evaluate();
    return evaluation instanceof Promise ? evaluation.then((e) => this.#store(key, sharedKey, e)) : this.#store(key, sharedKey, evaluation);
  }

  #store(key: string, sharedKey: string | undefined, fresh: Evaluation): Resolved {
    const evaluation = this.#evaluations.intern(fresh);
    this.#local.set(key, evaluation);
    // After the answer: the write runs on a later tick and its outcome is not awaited.
    if (sharedKey !== undefined) setImmediate(() => this.#shared?.set(sharedKey, evaluation));
    return { evaluation, cache: "miss" };
  }

  /**
   * Local keys name the bundle scope by a number given on first sight: the long scope text is
   * then not repeated in every key (a scope is never given two numbers, nor two scopes one).
   */
  #scopeId(scope: string): number {
    let id = this.#scopes.get(scope);
    if (id === undefined) {
      id = this.#scopes.size;
      this.#scopes.set(scope, id);
    }
    return id;
  }
}
