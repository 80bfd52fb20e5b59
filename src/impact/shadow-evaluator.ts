import type { BundleSnapshot } from "../bundle/bundle-snapshot.js";
import type { ShadowBundle } from "../bundle/shadow-bundle.js";
import type { DecisionEvent, DecisionObserver } from "../decision/decision-observer.js";
import type { UncachedEvaluator } from "../decision/uncached-evaluator.js";
import type { AuthzRequest } from "../model/authz-request.js";
import { formatUid } from "../model/entity.js";
import type { Logger } from "../observability/logger.js";
import { type Divergence, divergenceOf, type Outcome } from "./divergence.js";

/** Longest stretch of shadow evaluations before the event loop takes requests again. */
const SLICE_MS = 1;

/** What shadow evaluation reports, for metrics. */
export interface ShadowMetrics {
  shadowEvaluated(): void;
  shadowDiverged(kind: Divergence): void;
  /** A sampled request found the queue full and was not evaluated. */
  shadowDropped(): void;
}

/** The `shadow` settings. */
export interface ShadowSettings {
  readonly sampleRate: number;
  readonly queueSize: number;
  readonly maxLogLinesPerSecond: number;
}

/**
 * Evaluates a fraction of decided requests against the shadow bundle, after their answer is
 * sent. On the decision path it costs a sampling draw and one slot in a bounded ring; the
 * evaluations run later on a timer, in slices of about SLICE_MS between which requests that
 * arrived meanwhile go first, with no decision cache; a full ring drops (counted) rather than
 * waits. Each answer that
 * the shadow would have given differently is counted by kind and logged with both decisions.
 */
export class ShadowEvaluator implements DecisionObserver {
  readonly #shadow: ShadowBundle;
  readonly #evaluator: UncachedEvaluator;
  readonly #settings: ShadowSettings;
  readonly #metrics: ShadowMetrics;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #events: (DecisionEvent | undefined)[];
  readonly #snapshots: (BundleSnapshot | undefined)[];
  #head = 0;
  #queued = 0;
  #scheduled = false;
  #logSecond = 0;
  #loggedThisSecond = 0;

  constructor(shadow: ShadowBundle, evaluator: UncachedEvaluator, settings: ShadowSettings, metrics: ShadowMetrics, log: Logger, random: () => number = Math.random) {
    this.#shadow = shadow;
    this.#evaluator = evaluator;
    this.#settings = settings;
    this.#metrics = metrics;
    this.#log = log;
    this.#random = random;
    this.#events = new Array<DecisionEvent | undefined>(settings.queueSize).fill(undefined);
    this.#snapshots = new Array<BundleSnapshot | undefined>(settings.queueSize).fill(undefined);
  }

  decided(event: DecisionEvent): void {
    const shadow = this.#shadow.current;
    if (shadow === undefined) return;
    if (this.#settings.sampleRate < 1 && this.#random() >= this.#settings.sampleRate) return;
    const capacity = this.#events.length;
    if (this.#queued === capacity) {
      this.#metrics.shadowDropped();
      return;
    }
    const tail = (this.#head + this.#queued) % capacity;
    this.#events[tail] = event;
    this.#snapshots[tail] = shadow.snapshot;
    this.#queued++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(this.#drain, 0);
    }
  }

  refused(): void {
    // Only decided requests are compared.
  }

  /**
   * Runs on a timer, not an immediate: the answers just decided (and their trailers) are
   * written first. Each run evaluates for about SLICE_MS, then lets the event loop take new
   * requests before the next run.
   */
  readonly #drain = (): void => {
    const until = performance.now() + SLICE_MS;
    do {
      const event = this.#events[this.#head]!;
      const snapshot = this.#snapshots[this.#head]!;
      this.#events[this.#head] = undefined;
      this.#snapshots[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#events.length;
      this.#queued--;
      // A shadow that ended (promoted or replaced) has nothing left to learn from.
      if (this.#shadow.current?.snapshot === snapshot) this.#compare(event, snapshot);
    } while (this.#queued > 0 && performance.now() < until);
    if (this.#queued > 0) setTimeout(this.#drain, 0);
    else this.#scheduled = false;
  };

  #compare(event: DecisionEvent, snapshot: BundleSnapshot): void {
    let request: AuthzRequest | undefined;
    let shadow: Outcome;
    try {
      request = event.request;
      shadow = this.#evaluator.evaluate(snapshot, request);
    } catch (err) {
      shadow = { error: (err as Error).message };
    }
    this.#metrics.shadowEvaluated();
    const kind = divergenceOf(event.result, shadow);
    if (kind === undefined) return;
    this.#metrics.shadowDiverged(kind);
    if (this.#mayLog()) {
      const { result } = event;
      this.#log.info(
        {
          kind,
          api: event.api,
          decision_id: result.decisionId,
          request_id: result.requestId,
          ...(request === undefined ? {} : { principal: formatUid(request.principal.uid), action: formatUid(request.action), resource: formatUid(request.resource.uid) }),
          active: { revision: result.bundleRevision, decision: result.decision, determining_policies: result.determiningPolicies },
          shadow: { revision: snapshot.revision, ...("error" in shadow ? { error: shadow.error } : { decision: shadow.decision, determining_policies: shadow.determiningPolicies }) },
        },
        "shadow divergence",
      );
    }
  }

  /** At most maxLogLinesPerSecond lines a second, so a badly diverging shadow cannot flood the log. */
  #mayLog(): boolean {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.#logSecond) {
      this.#logSecond = second;
      this.#loggedThisSecond = 0;
    }
    if (this.#loggedThisSecond >= this.#settings.maxLogLinesPerSecond) return false;
    this.#loggedThisSecond++;
    return true;
  }
}
