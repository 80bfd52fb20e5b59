import { Gauge, type Registry } from "prom-client";

/** How long the worst lag stays in the gauge. */
const WINDOW_MS = 10_000;

/** When the process counts as too slow to answer, and for how long it must be quick again. */
export interface EventLoopSettings {
  /** Lag above which readiness turns false; 0 turns the check off. */
  readonly maxLagMs: number;
  /** How long lag must stay under the limit before readiness returns. */
  readonly recoverMs: number;
  /** How often the loop is sampled. */
  readonly sampleMs?: number;
}

/**
 * Measures event-loop lag — how late a timer fires — because every front door (gRPC, ext_authz,
 * AuthZEN, health) runs on this one loop: a lagging loop answers nothing in time. Exposes
 * `verdict_event_loop_lag_seconds` (the worst lag of the last 10 s, so a scrape every 15 s
 * still sees a short stall) and `stalled`, which is
 * true from a sample over the limit until the loop has stayed under it for `recoverMs`, so a
 * load balancer takes the replica out while it cannot answer and brings it back once it can.
 * While the loop is actually blocked nothing answers at all (readiness probes time out); the
 * flag covers the aftermath and repeated stalls.
 */
export class EventLoopMonitor {
  readonly #settings: Required<EventLoopSettings>;
  readonly #gauge: Gauge;
  #timer: NodeJS.Timeout | undefined;
  #expected = 0;
  #stalledUntil = 0;
  #worst = { lag: 0, at: 0 };

  constructor(settings: EventLoopSettings, registry: Registry) {
    this.#settings = { sampleMs: 100, ...settings };
    this.#gauge = new Gauge({ name: "verdict_event_loop_lag_seconds", help: "How late the event loop ran a timer at the last sample; every front door waits this long.", registers: [registry] });
  }

  /** Whether readiness should be false now. */
  get stalled(): boolean {
    return this.#settings.maxLagMs > 0 && performance.now() < this.#stalledUntil;
  }

  start(): void {
    const { sampleMs } = this.#settings;
    this.#expected = performance.now() + sampleMs;
    this.#timer = setInterval(() => this.#sample(performance.now()), sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(now: number): void {
    const lag = Math.max(0, now - this.#expected);
    this.#expected = now + this.#settings.sampleMs;
    if (lag >= this.#worst.lag || now - this.#worst.at > WINDOW_MS) this.#worst = { lag, at: now };
    this.#gauge.set(this.#worst.lag / 1000);
    if (this.#settings.maxLagMs > 0 && lag > this.#settings.maxLagMs) this.#stalledUntil = now + this.#settings.recoverMs;
  }
}
