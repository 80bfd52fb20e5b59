import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Config } from "../../config/config-spec.js";
import type { ShipDropReason } from "../signal-metrics.js";
import type { SinkAccount } from "../status/log-accounting.js";

const gzip = promisify(gzipCallback);

/** The settings this sink reads. */
export type HttpSinkSettings = Config["logShipping"];

/** Where a remote sink reports what it did with each line. */
export interface ShippingMetrics {
  sink(name: string): void;
  shipped(sink: string, lines: number): void;
  shipDropped(sink: string, reason: ShipDropReason, lines: number): void;
  shipSampledOut(sink: string): void;
  shipRetried(sink: string): void;
  backlog(sink: string, lines: number): void;
}

/** A destination for finished (masked) decision log lines besides the local one. */
export interface LineSink {
  offer(line: Record<string, unknown>): void;
  sampledOut(): void;
  close(): Promise<void>;
}

/** The outcome of one POST. */
type Attempt = { ok: true } | { ok: false; retry: boolean; error: string };

const NAME = "http";
/** A URL with any user:password removed, for status and logs. */
const withoutCredentials = (url: string) => {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString();
};

/**
 * Ships decision log lines to an HTTP endpoint, OPA decision-log style: each POST is a gzip JSON
 * array of the same lines the local log writes (masked before they get here). Batches of at most
 * batchSize lines leave at most every flushMs; one batch is in flight at a time, so lines arrive
 * in order and memory is bounded by bufferLines (beyond it new lines are dropped and counted).
 * A failed POST (connection error, timeout, 408, 429, 5xx) is retried after a full-jitter
 * exponential backoff; other 4xx answers are final. Delivery is at least once: a POST that times
 * out after the receiver took it is sent again.
 *
 * Per sink, decisions = shipped + dropped + sampled out + backlog; after close, backlog is 0.
 */
export class HttpLogSink implements LineSink {
  readonly #settings: HttpSinkSettings & { url: string };
  readonly #metrics: ShippingMetrics;
  readonly #random: () => number;
  readonly #destination: string;
  #queue: string[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closing = false;
  #shipped = 0;
  #dropped = 0;
  #sampledOut = 0;
  #lastError = "";
  /** Ends a backoff wait early (at close). */
  #wake: (() => void) | undefined;

  constructor(settings: HttpSinkSettings & { url: string }, metrics: ShippingMetrics, random: () => number = Math.random) {
    this.#settings = settings;
    this.#metrics = metrics;
    this.#random = random;
    this.#destination = withoutCredentials(settings.url);
    metrics.sink(NAME);
  }

  offer(line: Record<string, unknown>): void {
    if (this.#closing || this.#queue.length + this.#inFlight >= this.#settings.bufferLines) {
      this.#drop("buffer_full", 1);
      return;
    }
    // The time the line was made, first, as in the local log (which pino stamps).
    this.#queue.push(`{"time":"${new Date().toISOString()}",${JSON.stringify(line).slice(1)}`);
    this.#metrics.backlog(NAME, this.backlog);
    if (this.#queue.length >= this.#settings.batchSize) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#settings.flushMs).unref();
  }

  sampledOut(): void {
    this.#sampledOut++;
    this.#metrics.shipSampledOut(NAME);
  }

  /** Lines buffered or in flight. */
  get backlog(): number {
    return this.#queue.length + this.#inFlight;
  }

  account(): SinkAccount {
    return { name: NAME, destination: this.#destination, written: 0, shipped: this.#shipped, dropped: this.#dropped, sampledOut: this.#sampledOut, backlog: this.backlog, lastError: this.#lastError };
  }

  /**
   * Sends what is buffered, one attempt per batch and no backoff, for at most timeoutMs in all;
   * what cannot go is dropped and counted. Called at shutdown.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sending;
    const deadline = Date.now() + this.#settings.timeoutMs;
    while (this.#queue.length > 0) {
      if (Date.now() >= deadline) {
        this.#lastError = "shutdown: the sink did not take the backlog in time";
        this.#drop("retries_exhausted", this.#queue.splice(0).length);
        break;
      }
      const batch = this.#take();
      const outcome = await this.#post(batch);
      this.#settle(batch.length, outcome.ok ? undefined : outcome);
    }
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending !== undefined || this.#closing) return;
    this.#sending = this.#drain().finally(() => {
      this.#sending = undefined;
      if (this.#queue.length > 0 && !this.#closing) this.#timer ??= setTimeout(() => this.#kick(), this.#queue.length >= this.#settings.batchSize ? 0 : this.#settings.flushMs).unref();
    });
  }

  /** Sends batches while full ones are waiting; the last partial one waits for its timer. */
  async #drain(): Promise<void> {
    do {
      const batch = this.#take();
      let outcome = await this.#post(batch);
      for (let retry = 0; !outcome.ok && outcome.retry && retry < this.#settings.maxRetries; retry++) {
        this.#lastError = outcome.error;
        this.#metrics.shipRetried(NAME);
        // At close the wait ends at once: the batch gets one last attempt, then its fate is counted.
        if (!this.#closing) {
          await new Promise<void>((resolve) => {
            const t = setTimeout((this.#wake = resolve), this.#backoff(retry));
            t.unref();
          });
          this.#wake = undefined;
        }
        outcome = await this.#post(batch);
        if (this.#closing) break;
      }
      this.#settle(batch.length, outcome.ok ? undefined : outcome);
    } while (this.#queue.length >= this.#settings.batchSize && !this.#closing);
  }

  /** Full jitter: uniform in [0, min(max, base·2^retry)]. */
  #backoff(retry: number): number {
    return this.#random() * Math.min(this.#settings.retryMaxMs, this.#settings.retryBaseMs * 2 ** retry);
  }

  #take(): string[] {
    const batch = this.#queue.splice(0, this.#settings.batchSize);
    this.#inFlight = batch.length;
    return batch;
  }

  #settle(lines: number, failure: { error: string; retry: boolean } | undefined): void {
    this.#inFlight = 0;
    if (failure === undefined) {
      this.#shipped += lines;
      this.#metrics.shipped(NAME, lines);
    } else {
      this.#lastError = failure.error;
      this.#drop(failure.retry ? "retries_exhausted" : "rejected", lines);
    }
    this.#metrics.backlog(NAME, this.backlog);
  }

  #drop(reason: ShipDropReason, lines: number): void {
    this.#dropped += lines;
    this.#metrics.shipDropped(NAME, reason, lines);
  }

  async #post(batch: readonly string[]): Promise<Attempt> {
    try {
      const body = await gzip(`[${batch.join(",")}]`);
      const headers: Record<string, string> = { "content-type": "application/json", "content-encoding": "gzip" };
      if (this.#settings.token !== undefined) headers["authorization"] = `Bearer ${this.#settings.token}`;
      const res = await fetch(this.#settings.url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.#settings.timeoutMs) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      return { ok: false, retry, error: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return { ok: false, retry: true, error: e.name === "TimeoutError" ? `timed out after ${this.#settings.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message) };
    }
  }
}
