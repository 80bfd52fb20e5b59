import { LRUCache } from "lru-cache";
import type { Config } from "../../config/config-spec.js";
import type { DecisionEvent, DecisionObserver, RequestOrigin } from "../../decision/decision-observer.js";
import { type EntityUid, formatUid } from "../../model/entity.js";
import { BloomFilter } from "./bloom-filter.js";
import { HyperLogLog } from "./hyper-log-log.js";
import type { Anomaly, AnomalyKind, AnomalyReport, AnomalySource, ShadowApi } from "./anomaly-report.js";

/** The settings the detectors read. */
export type AnomalySettings = Config["anomalies"];

/** Where signals are counted. */
export interface AnomalyMetrics {
  anomaly(kind: AnomalyKind): void;
  deprecatedRoute(route: string): void;
  anomalySkipped(): void;
}

/** A decision as queued for the detectors: references only, formatted off the answering path. */
interface Pending {
  readonly principal: EntityUid;
  readonly resource: EntityUid;
  readonly action: EntityUid;
  readonly deny: boolean;
  readonly decisionId: string;
  readonly origin: RequestOrigin | undefined;
}

/** One principal's or source's denies in the current window, and its baseline from past windows. */
interface Subject {
  window: number;
  denies: number;
  /** Exponentially weighted mean of denies per window. */
  baseline: number;
  burstFlagged: boolean;
  enumerationFlagged: boolean;
  /** Distinct resources denied this window (principals only, created at the first deny). */
  resources: HyperLogLog | undefined;
}

/** Recent signals kept for ListAnomalies. */
const RECENT = 200;
/** Routes and actions remembered for first-seen (bounded by the bundle in practice). */
const MAX_NAMES = 10_000;
/** Weight of the newest window in a baseline. */
const ALPHA = 0.3;

/**
 * Anomaly signals from the decision stream, with memory bounded whatever the traffic:
 * - deny bursts per principal and per gateway source: denies in a window above burstFactor times
 *   the subject's own baseline (and at least burstMinDenies);
 * - enumeration: one principal denied on at least enumerationThreshold distinct resources in a
 *   window, counted with a 256-byte HyperLogLog (OWASP API1, object-level authorization probing);
 * - first-seen principals (a Bloom filter), routes and actions after the warm-up;
 * - calls to routes marked `deprecated: true`.
 * Per-subject state lives in LRU maps of maxTracked entries. Decisions are queued (bounded;
 * beyond queueSize they are skipped and counted) and examined on a later turn of the event loop,
 * so the detectors never delay or change an answer.
 */
export class AnomalyDetector implements DecisionObserver, AnomalySource {
  readonly #settings: AnomalySettings;
  readonly #metrics: AnomalyMetrics;
  readonly #shadowApis: () => readonly ShadowApi[];
  readonly #onAnomaly: (anomaly: Anomaly) => void;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #principals: LRUCache<string, Subject>;
  readonly #sources: LRUCache<string, Subject>;
  readonly #seenPrincipals: BloomFilter;
  readonly #seenNames = new Set<string>();
  readonly #deprecated = new Map<string, { count: number; window: number }>();
  readonly #counts = new Map<AnomalyKind, number>();
  #recent: Anomaly[] = [];
  #queue: Pending[] = [];
  #scheduled = false;
  #skipped = 0;

  constructor(settings: AnomalySettings, metrics: AnomalyMetrics, shadowApis: () => readonly ShadowApi[], onAnomaly: (anomaly: Anomaly) => void, now: () => number = Date.now) {
    this.#settings = settings;
    this.#metrics = metrics;
    this.#shadowApis = shadowApis;
    this.#onAnomaly = onAnomaly;
    this.#now = now;
    this.#startedAt = now();
    this.#principals = new LRUCache({ max: settings.maxTracked });
    this.#sources = new LRUCache({ max: settings.maxTracked });
    this.#seenPrincipals = new BloomFilter(settings.maxSeen);
  }

  decided(event: DecisionEvent): void {
    if (this.#queue.length >= this.#settings.queueSize) {
      this.#skipped++;
      this.#metrics.anomalySkipped();
      return;
    }
    const { request, result } = event;
    this.#queue.push({ principal: request.principal.uid, resource: request.resource.uid, action: request.action, deny: result.decision === "deny", decisionId: result.decisionId, origin: event.origin });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  refused(): void {
    // Refusals are counted by the metrics; they carry no decided principal.
  }

  /** Examines every queued decision (the event loop calls this; tests may too). */
  drain(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    const now = this.#now();
    const window = Math.floor(now / this.#settings.windowMs);
    const warm = now - this.#startedAt >= this.#settings.warmupMs;
    for (const d of queue) this.#examine(d, now, window, warm);
  }

  #examine(d: Pending, now: number, window: number, warm: boolean): void {
    const principal = formatUid(d.principal);
    const raise = (kind: AnomalyKind, subject: string, value: number, baseline: number) => this.#raise({ kind, subject, at: now, value, baseline, decisionId: d.decisionId });
    if (!this.#seenPrincipals.add(principal) && warm) raise("new_principal", principal, 1, 0);
    this.#firstSeen("new_action", formatUid(d.action), warm, raise);
    const origin = d.origin;
    if (origin !== undefined) {
      this.#firstSeen("new_route", origin.route, warm, raise);
      if (origin.deprecated) this.#deprecatedCall(origin.route, window, raise);
    }
    if (!d.deny) return;
    const p = this.#subject(this.#principals, principal, window);
    p.denies++;
    this.#checkBurst(p, "deny_burst_principal", principal, raise);
    (p.resources ??= new HyperLogLog()).add(formatUid(d.resource));
    // The distinct count is at most the denies, so the sketch is read only once that could matter.
    if (!p.enumerationFlagged && p.denies >= this.#settings.enumerationThreshold) {
      const distinct = Math.round(p.resources.count());
      if (distinct >= this.#settings.enumerationThreshold) {
        p.enumerationFlagged = true;
        raise("enumeration", principal, distinct, this.#settings.enumerationThreshold);
      }
    }
    if (origin !== undefined) {
      const s = this.#subject(this.#sources, origin.source, window);
      s.denies++;
      this.#checkBurst(s, "deny_burst_source", origin.source, raise);
    }
  }

  #firstSeen(kind: AnomalyKind, name: string, warm: boolean, raise: (kind: AnomalyKind, subject: string, value: number, baseline: number) => void): void {
    const key = `${kind}\0${name}`;
    if (this.#seenNames.has(key) || this.#seenNames.size >= MAX_NAMES) return;
    this.#seenNames.add(key);
    if (warm) raise(kind, name, 1, 0);
  }

  #deprecatedCall(route: string, window: number, raise: (kind: AnomalyKind, subject: string, value: number, baseline: number) => void): void {
    this.#metrics.deprecatedRoute(route);
    let d = this.#deprecated.get(route);
    if (d === undefined) {
      if (this.#deprecated.size >= MAX_NAMES) return;
      this.#deprecated.set(route, (d = { count: 0, window: -1 }));
    }
    d.count++;
    // One signal per route per window; every call is counted.
    if (d.window !== window) {
      d.window = window;
      raise("deprecated_route", route, d.count, 0);
    }
  }

  #checkBurst(s: Subject, kind: AnomalyKind, subject: string, raise: (kind: AnomalyKind, subject: string, value: number, baseline: number) => void): void {
    if (s.burstFlagged || s.denies < this.#settings.burstMinDenies || s.denies <= this.#settings.burstFactor * Math.max(s.baseline, 1)) return;
    s.burstFlagged = true;
    raise(kind, subject, s.denies, Math.round(s.baseline * 100) / 100);
  }

  /** The subject's state, rolled over to `window` (its baseline absorbs the windows that passed). */
  #subject(map: LRUCache<string, Subject>, key: string, window: number): Subject {
    let s = map.get(key);
    if (s === undefined) {
      s = { window, denies: 0, baseline: 0, burstFlagged: false, enumerationFlagged: false, resources: undefined };
      map.set(key, s);
    } else if (s.window !== window) {
      const gap = Math.min(window - s.window, 64);
      s.baseline = (s.baseline * (1 - ALPHA) + ALPHA * s.denies) * (1 - ALPHA) ** (gap - 1);
      s.window = window;
      s.denies = 0;
      s.burstFlagged = false;
      s.enumerationFlagged = false;
      s.resources?.clear();
    }
    return s;
  }

  #raise(anomaly: Anomaly): void {
    this.#counts.set(anomaly.kind, (this.#counts.get(anomaly.kind) ?? 0) + 1);
    this.#metrics.anomaly(anomaly.kind);
    this.#recent.push(anomaly);
    if (this.#recent.length > 2 * RECENT) this.#recent = this.#recent.slice(-RECENT);
    this.#onAnomaly(anomaly);
  }

  report(): AnomalyReport {
    this.drain();
    return {
      anomalies: this.#recent.slice(-RECENT).reverse(),
      counts: new Map(this.#counts),
      deprecatedRoutes: [...this.#deprecated].map(([route, d]) => ({ route, count: d.count })).sort((a, b) => b.count - a.count),
      shadowApis: this.#shadowApis(),
      skipped: this.#skipped,
      warmedUp: this.#now() - this.#startedAt >= this.#settings.warmupMs,
    };
  }
}
