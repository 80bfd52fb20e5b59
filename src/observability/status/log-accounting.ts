import type { DecisionLogMetrics } from "../decision-log.js";

/** One sink's numbers: decisions = written + shipped + dropped + sampledOut + backlog. */
export interface SinkAccount {
  readonly name: string;
  /** stdout, a path, a URL without credentials, or off. */
  readonly destination: string;
  readonly written: number;
  readonly shipped: number;
  readonly dropped: number;
  readonly sampledOut: number;
  /** Lines waiting to leave the process (buffered or in flight). */
  readonly backlog: number;
  readonly lastError: string;
}

/**
 * Counts what the local decision log does with each decision, for GetStatus, and passes
 * every count on to the Prometheus counters (the two always agree).
 */
export class LogAccounting implements DecisionLogMetrics {
  readonly #next: DecisionLogMetrics;
  readonly #destination: string;
  #written = 0;
  #dropped = 0;
  #sampledOut = 0;

  constructor(next: DecisionLogMetrics, destination: string) {
    this.#next = next;
    this.#destination = destination;
  }

  logWritten(): void {
    this.#written++;
    this.#next.logWritten();
  }

  logDropped(): void {
    this.#dropped++;
    this.#next.logDropped();
  }

  logSampledOut(): void {
    this.#sampledOut++;
    this.#next.logSampledOut();
  }

  /** The local sink's account. */
  account(): SinkAccount {
    return { name: "local", destination: this.#destination, written: this.#written, shipped: 0, dropped: this.#dropped, sampledOut: this.#sampledOut, backlog: 0, lastError: "" };
  }
}
