import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Activation } from "../bundle/active-bundle.js";
import type { Shadow } from "../bundle/shadow-bundle.js";
import type { DecisionEvent, DecisionObserver } from "../decision/decision-observer.js";
import type { ErrorCode, VerdictError } from "../errors.js";
import type { PlanObserver } from "../decision/plan-service.js";
import type { Divergence } from "../impact/divergence.js";
import type { ShadowMetrics } from "../impact/shadow-evaluator.js";
import type { Api } from "../model/authz-request.js";
import type { PlanKind } from "../model/resource-filter.js";

/** Buckets from 50 µs to 1 s: decisions are sub-millisecond, the tail is what matters. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** HTTP methods kept as label values; anything else is "OTHER", so the label stays bounded. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]);
/** Errors a caller caused; server-side faults are counted by decision errors, not here. */
const CLIENT_ERRORS: ReadonlySet<ErrorCode> = new Set(["invalid_argument", "limit_exceeded"]);

/** Memoizes a label child by its label values (joined; no value contains a NUL). */
function children<A extends string[], C>(make: (...labels: A) => C): (...labels: A) => C {
  const made = new Map<string, C>();
  return (...labels: A) => {
    const key = labels.join("\0");
    let child = made.get(key);
    if (child === undefined) made.set(key, (child = make(...labels)));
    return child;
  };
}

/**
 * Verdict's Prometheus metrics, in a registry of its own (no process-wide default registry).
 * Every label is bounded: api, decision, tier, result, and the active revision.
 */
export class Metrics implements DecisionObserver, PlanObserver, ShadowMetrics {
  readonly registry = new Registry();
  readonly #decisions = new Counter({ name: "verdict_decisions_total", help: "Decisions answered, by front door and outcome.", labelNames: ["api", "decision"], registers: [this.registry] });
  readonly #checkDuration = new Histogram({ name: "verdict_check_duration_seconds", help: "Time from a request entering the decision path to its answer.", labelNames: ["api"], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #evaluationDuration = new Histogram({ name: "verdict_evaluation_duration_seconds", help: "Time spent in the Cedar engine (cache misses only).", buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #invalid = new Counter({ name: "verdict_invalid_requests_total", help: "Requests refused as malformed or over a limit.", labelNames: ["api"], registers: [this.registry] });
  readonly #failed = new Counter({ name: "verdict_failed_requests_total", help: "Requests that could not be decided for a server-side reason (no bundle, engine fault).", labelNames: ["api", "code"], registers: [this.registry] });
  readonly #refused = new Counter({ name: "verdict_refused_requests_total", help: "Requests refused instead of decided, by front door and reason (the error code: invalid_argument, limit_exceeded, unavailable, internal...).", labelNames: ["api", "reason"], registers: [this.registry] });
  readonly #cache = new Counter({ name: "verdict_cache_requests_total", help: "Decision cache lookups by tier and result.", labelNames: ["tier", "result"], registers: [this.registry] });
  readonly #bundleInfo = new Gauge({ name: "verdict_bundle_info", help: "The active bundle revision (value 1).", labelNames: ["revision", "name"], registers: [this.registry] });
  readonly #activations = new Counter({ name: "verdict_bundle_activations_total", help: "Bundle activations by result.", labelNames: ["result"], registers: [this.registry] });
  readonly #policyCount = new Gauge({ name: "verdict_bundle_policies", help: "Policies in the active bundle.", registers: [this.registry] });
  readonly #activatedAt = new Gauge({ name: "verdict_bundle_activated_timestamp_seconds", help: "When the active bundle was activated (Unix time); age = time() - this.", registers: [this.registry] });
  readonly #redisConfigured = new Gauge({ name: "verdict_redis_configured", help: "1 when a shared Redis is configured (redis.url), so verdict_redis_up == 0 means it is down.", registers: [this.registry] });
  readonly #redisUp = new Gauge({ name: "verdict_redis_up", help: "1 when the shared Redis answers, 0 when it does not or is not configured.", registers: [this.registry] });
  readonly #redisLatency = new Histogram({ name: "verdict_redis_command_duration_seconds", help: "Redis command latency.", buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #breaker = new Gauge({ name: "verdict_redis_breaker_open", help: "1 while the Redis circuit breaker is open (Redis bypassed).", registers: [this.registry] });
  readonly #macFailures = new Counter({ name: "verdict_cache_mac_failures_total", help: "Shared cache values whose MAC did not verify (treated as misses).", registers: [this.registry] });
  readonly #logWritten = new Counter({ name: "verdict_decision_logs_written_total", help: "Decision log lines handed to the sink.", registers: [this.registry] });
  readonly #logDropped = new Counter({ name: "verdict_decision_logs_dropped_total", help: "Decision log lines dropped because the sink could not keep up.", registers: [this.registry] });
  readonly #logSampled = new Counter({ name: "verdict_decision_logs_sampled_out_total", help: "ALLOW decisions not logged because of sampling.", registers: [this.registry] });
  readonly #unmatched = new Counter({ name: "verdict_unmatched_requests_total", help: "Gateway requests that matched no route (denied), by method.", labelNames: ["method"], registers: [this.registry] });
  readonly #plans = new Counter({ name: "verdict_plans_total", help: "Resource query plans answered, by kind (always_allowed, always_denied, conditional).", labelNames: ["kind"], registers: [this.registry] });
  readonly #planDuration = new Histogram({ name: "verdict_plan_duration_seconds", help: "Time to answer a resource query plan.", buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #batchSize = new Histogram({ name: "verdict_batch_size", help: "Checks per BatchCheck.", buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [this.registry] });
  readonly #shadowInfo = new Gauge({ name: "verdict_shadow_bundle_info", help: "The bundle evaluated in shadow (value 1); absent when there is none.", labelNames: ["revision", "name"], registers: [this.registry] });
  readonly #shadowEvaluations = new Counter({ name: "verdict_shadow_evaluations_total", help: "Decided requests also evaluated against the shadow bundle.", registers: [this.registry] });
  readonly #shadowDivergences = new Counter({ name: "verdict_shadow_divergences_total", help: "Shadow evaluations whose answer differs from the one sent, by kind (allow_to_deny, deny_to_allow, error).", labelNames: ["kind"], registers: [this.registry] });
  readonly #shadowDropped = new Counter({ name: "verdict_shadow_dropped_total", help: "Sampled requests not evaluated against the shadow because its queue was full.", registers: [this.registry] });

  readonly #engineBundles = new Counter({ name: "verdict_engine_compiled_bundles_total", help: "Bundles compiled, by the evaluator that answers them (compiled, wasm).", labelNames: ["evaluator"], registers: [this.registry] });
  readonly #engineFallbackPolicies = new Counter({ name: "verdict_engine_fallback_policies_total", help: "Policies of compiled bundles left to cedar-wasm (see the activation log for which and why).", registers: [this.registry] });
  readonly #engineWasmFallbacks = new Counter({ name: "verdict_engine_wasm_fallbacks_total", help: "Requests decided by cedar-wasm because they reached a policy the compiler left to it.", registers: [this.registry] });
  readonly #engineCrossChecks = new Counter({ name: "verdict_engine_cross_checks_total", help: "Compiled decisions re-decided by cedar-wasm (engine.crossCheckRate).", registers: [this.registry] });
  readonly #engineDivergences = new Counter({ name: "verdict_engine_divergences_total", help: "Cross-checked requests on which the compiled evaluator and cedar-wasm disagreed.", registers: [this.registry] });

  // Label children resolved once per label set (bounded), not hashed again on every decision.
  readonly #decisionsBy = children((api: Api, decision: string) => this.#decisions.labels(api, decision));
  readonly #durationBy = children((api: Api) => this.#checkDuration.labels(api));
  readonly #cacheBy = children((tier: string, result: string) => this.#cache.labels(tier, result));

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#redisUp.set(0);
    this.#redisConfigured.set(0);
    this.#breaker.set(0);
    // Every kind is exposed from the start, so a rate over it is defined before the first divergence.
    for (const kind of ["allow_to_deny", "deny_to_allow", "error"] as const) this.#shadowDivergences.inc({ kind }, 0);
  }

  decided(event: DecisionEvent): void {
    this.#decisionsBy(event.api, event.result.decision).inc();
    this.#durationBy(event.api).observe(event.durationSeconds);
    if (event.evaluationSeconds !== undefined) this.#evaluationDuration.observe(event.evaluationSeconds);
  }

  refused(api: Api, error: VerdictError): void {
    this.#refused.inc({ api, reason: error.code });
    if (CLIENT_ERRORS.has(error.code)) this.#invalid.inc({ api });
    else this.#failed.inc({ api, code: error.code });
  }

  planned(kind: PlanKind, durationSeconds: number): void {
    this.#plans.inc({ kind });
    this.#planDuration.observe(durationSeconds);
  }

  /** A bundle became active. */
  activated(activation: Activation): void {
    this.#activations.inc({ result: "success" });
    this.#bundleInfo.reset();
    this.#bundleInfo.set({ revision: activation.snapshot.revision, name: activation.snapshot.name }, 1);
    this.#policyCount.set(activation.snapshot.policies.policies.length);
    this.#activatedAt.set(activation.activatedAt.getTime() / 1000);
  }

  engineCompiled(evaluator: "compiled" | "wasm", fallbackPolicies: number): void {
    this.#engineBundles.inc({ evaluator });
    this.#engineFallbackPolicies.inc(fallbackPolicies);
  }

  engineWasmFallback(): void {
    this.#engineWasmFallbacks.inc();
  }

  engineCrossChecked(): void {
    this.#engineCrossChecks.inc();
  }

  engineDivergence(): void {
    this.#engineDivergences.inc();
  }

  /** A bundle was refused; the active one keeps serving. */
  activationFailed(): void {
    this.#activations.inc({ result: "failure" });
  }

  /** A stored bundle record was refused: it went back in time ("stale") or failed its seal ("unsealed"). */
  activationRefused(result: "stale" | "unsealed"): void {
    this.#activations.inc({ result });
  }

  /** A decision cache lookup. */
  lookup(tier: "local" | "shared", result: "hit" | "miss" | "error"): void {
    this.#cacheBy(tier, result).inc();
  }

  /** Whether a Redis is configured at all. */
  redisConfigured(configured: boolean): void {
    this.#redisConfigured.set(configured ? 1 : 0);
  }

  redisUp(up: boolean): void {
    this.#redisUp.set(up ? 1 : 0);
  }

  redisLatency(seconds: number): void {
    this.#redisLatency.observe(seconds);
  }

  breakerState(state: "closed" | "open" | "half-open"): void {
    this.#breaker.set(state === "open" ? 1 : 0);
  }

  macFailure(): void {
    this.#macFailures.inc();
  }

  logWritten(): void {
    this.#logWritten.inc();
  }

  logDropped(): void {
    this.#logDropped.inc();
  }

  logSampledOut(): void {
    this.#logSampled.inc();
  }

  unmatched(method: string): void {
    this.#unmatched.inc({ method: METHODS.has(method.toUpperCase()) ? method.toUpperCase() : "OTHER" });
  }

  /** A shadow started, or ended (undefined). */
  shadowChanged(shadow: Shadow | undefined): void {
    this.#shadowInfo.reset();
    if (shadow !== undefined) this.#shadowInfo.set({ revision: shadow.snapshot.revision, name: shadow.snapshot.name }, 1);
  }

  shadowEvaluated(): void {
    this.#shadowEvaluations.inc();
  }

  shadowDiverged(kind: Divergence): void {
    this.#shadowDivergences.inc({ kind });
  }

  shadowDropped(): void {
    this.#shadowDropped.inc();
  }

  batch(size: number): void {
    this.#batchSize.observe(size);
  }

  /** The text exposition for /metrics. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
