import { Counter, Gauge, type Registry } from "prom-client";
import { ANOMALY_KINDS, type AnomalyKind } from "./anomaly/anomaly-report.js";

/** Why a remote sink lost a decision: its buffer was full, every retry failed, or the receiver refused it (a 4xx). */
export type ShipDropReason = "buffer_full" | "retries_exhausted" | "rejected";

/**
 * Metrics of decision-log shipping and the anomaly detectors, in Verdict's registry. Labels stay
 * bounded: `sink` is a configured sink's name, `kind` one of ANOMALY_KINDS, `route` a route of
 * the active bundle marked deprecated (a bounded set the bundle author writes).
 */
export class SignalMetrics {
  readonly #shipped: Counter<"sink">;
  readonly #shipDropped: Counter<"sink" | "reason">;
  readonly #shipSampled: Counter<"sink">;
  readonly #backlog: Gauge<"sink">;
  readonly #retries: Counter<"sink">;
  readonly #anomalies: Counter<"kind">;
  readonly #deprecated: Counter<"route">;
  readonly #skipped: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#shipped = new Counter({ name: "verdict_decision_logs_shipped_total", help: "Decision log lines a remote sink acknowledged.", labelNames: ["sink"], registers });
    this.#shipDropped = new Counter({ name: "verdict_decision_logs_ship_dropped_total", help: "Decision log lines a remote sink lost: buffer full, retries exhausted, or rejected (4xx).", labelNames: ["sink", "reason"], registers });
    this.#shipSampled = new Counter({ name: "verdict_decision_logs_ship_sampled_out_total", help: "ALLOW decisions not shipped because of sampling.", labelNames: ["sink"], registers });
    this.#backlog = new Gauge({ name: "verdict_decision_logs_ship_backlog", help: "Decision log lines waiting to be shipped (buffered or in flight).", labelNames: ["sink"], registers });
    this.#retries = new Counter({ name: "verdict_decision_logs_ship_retries_total", help: "Batch POSTs retried after a failure (connection error, timeout, 5xx or 429).", labelNames: ["sink"], registers });
    this.#anomalies = new Counter({ name: "verdict_anomalies_total", help: "Anomaly signals raised from the decision stream, by kind.", labelNames: ["kind"], registers });
    this.#deprecated = new Counter({ name: "verdict_deprecated_route_calls_total", help: "Decided gateway requests on routes marked deprecated in routes.yaml.", labelNames: ["route"], registers });
    this.#skipped = new Counter({ name: "verdict_anomaly_skipped_total", help: "Decisions the anomaly detectors skipped because their queue was full.", registers });
    // Every kind is exposed from the start, so a rate over it is defined before the first signal.
    for (const kind of ANOMALY_KINDS) this.#anomalies.inc({ kind }, 0);
  }

  /** Exposes a sink's series before its first event. */
  sink(sink: string): void {
    this.#shipped.inc({ sink }, 0);
    this.#shipSampled.inc({ sink }, 0);
    this.#retries.inc({ sink }, 0);
    for (const reason of ["buffer_full", "retries_exhausted", "rejected"] as const) this.#shipDropped.inc({ sink, reason }, 0);
    this.#backlog.set({ sink }, 0);
  }

  shipped(sink: string, lines: number): void {
    this.#shipped.inc({ sink }, lines);
  }

  shipDropped(sink: string, reason: ShipDropReason, lines: number): void {
    this.#shipDropped.inc({ sink, reason }, lines);
  }

  shipSampledOut(sink: string): void {
    this.#shipSampled.inc({ sink });
  }

  shipRetried(sink: string): void {
    this.#retries.inc({ sink });
  }

  backlog(sink: string, lines: number): void {
    this.#backlog.set({ sink }, lines);
  }

  anomaly(kind: AnomalyKind): void {
    this.#anomalies.inc({ kind });
  }

  deprecatedRoute(route: string): void {
    this.#deprecated.inc({ route });
  }

  anomalySkipped(): void {
    this.#skipped.inc();
  }
}
