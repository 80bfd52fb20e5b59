import { once } from "node:events";
import { pino, type Logger } from "pino";
import type { Config } from "../config/config-spec.js";
import type { DecisionEvent, DecisionObserver } from "../decision/decision-observer.js";
import { formatUid } from "../model/entity.js";
import { requestToJson } from "../model/request-json.js";
import { LogMasking, plainValue, TYPED_VALUES, type ValueForm } from "./log-masking.js";
import type { LineSink } from "./sinks/http-log-sink.js";

/** What the decision log reports, so that logged + dropped + sampled out = decisions. */
export interface DecisionLogMetrics {
  logWritten(): void;
  logDropped(): void;
  logSampledOut(): void;
}

/** Input fields as readers of the log want them: plain values. */
const PLAIN: ValueForm = { value: plainValue, record: (fields) => fields, set: (values) => values, masked: (digest) => `hmac-sha256:${digest}` };
/** The whole request in the form `verdict replay` reads back (a masked value becomes its digest string). */

/**
 * One JSON line per decision. Lines go through pino to an asynchronous sink with a bounded
 * buffer: a sink that cannot keep up loses lines (counted), never a decision's latency.
 */
export class DecisionLog implements DecisionObserver {
  readonly #logger: Logger | undefined;
  /** Anomaly lines, on the same sink: `"log":"anomaly"` tells them from decisions. */
  readonly #anomalyLogger: Logger | undefined;
  readonly #sink: ReturnType<typeof pino.destination> | undefined;
  /** Set by the sink's synchronous `drop` event during the current write. */
  #dropped = false;
  readonly #settings: Config["decisionLog"];
  readonly #masking: LogMasking;
  readonly #metrics: DecisionLogMetrics;
  /** Remote sinks: each gets every masked line, and counts its own sampled-out decisions. */
  readonly #sinks: readonly LineSink[];

  constructor(settings: Config["decisionLog"], metrics: DecisionLogMetrics, sinks: readonly LineSink[] = [], masking = new LogMasking(settings)) {
    this.#settings = settings;
    this.#metrics = metrics;
    this.#sinks = sinks;
    this.#masking = masking;
    if (settings.destination === "off") return;
    const sink = pino.destination({
      dest: settings.destination === "stdout" ? 1 : settings.destination,
      sync: false,
      mkdir: true,
      maxLength: settings.bufferBytes,
    });
    sink.on("drop", () => {
      this.#dropped = true;
      this.#metrics.logDropped();
    });
    this.#sink = sink;
    this.#logger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: "msg", formatters: { level: () => ({ log: "decision" }) } }, sink);
    this.#anomalyLogger = pino({ base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: () => ({ log: "anomaly" }) } }, sink);
  }

  /**
   * Writes the decision's line. Every call ends as exactly one of written, dropped or sampled
   * out: when the request's details cannot be read or rendered, the line is still written
   * with what the decision itself says, and `log_error` says what is missing.
   */
  decided(event: DecisionEvent): void {
    if (this.#logger === undefined && this.#sinks.length === 0) return;
    const { result } = event;
    if (result.decision === "allow" && this.#settings.allowSampleRate < 1 && Math.random() >= this.#settings.allowSampleRate) {
      if (this.#logger !== undefined) this.#metrics.logSampledOut();
      for (const sink of this.#sinks) sink.sampledOut();
      return;
    }
    let details: Record<string, unknown>;
    try {
      details = this.#details(event);
    } catch (err) {
      details = { log_error: `request details unavailable: ${err instanceof Error ? err.message : String(err)}` };
    }
    const line: Record<string, unknown> = {
      decision_id: result.decisionId,
      api: event.api,
      principal: details["principal"],
      action: details["action"],
      resource: details["resource"],
      decision: result.decision,
      determining_policies: result.determiningPolicies,
      errors: result.errors,
      bundle_revision: result.bundleRevision,
      cache: result.cache,
      latency_ms: Math.round(event.durationSeconds * 1e6) / 1e3,
      request_id: result.requestId,
      ...details,
    };
    for (const sink of this.#sinks) sink.offer(line);
    if (this.#logger === undefined) return;
    this.#dropped = false;
    try {
      this.#logger.info(line);
    } catch {
      this.#metrics.logDropped();
      return;
    }
    if (!this.#dropped) this.#metrics.logWritten();
  }

  /** The request's part of a line: uids, then (as configured, after masking) its data. */
  #details(event: DecisionEvent): Record<string, unknown> {
    const request = event.request;
    const out: Record<string, unknown> = {
      principal: formatUid(request.principal.uid),
      action: formatUid(request.action),
      resource: formatUid(request.resource.uid),
    };
    const masking = this.#masking;
    if (this.#settings.includeInput) {
      out["context"] = masking.record(request.context, "context", PLAIN);
      out["principal_attrs"] = masking.record(request.principal.attrs, "principal.attrs", PLAIN);
      out["resource_attrs"] = masking.record(request.resource.attrs, "resource.attrs", PLAIN);
    }
    if (this.#settings.includeRequest) out["request"] = requestToJson(request, event.result.requestId, (fields, path) => masking.record(fields, path, TYPED_VALUES));
    return out;
  }

  /** An anomaly signal raised from a decision, as its own line (`"log":"anomaly"`); not a decision, so not counted as one. */
  anomaly(anomaly: { kind: string; subject: string; value: number; baseline: number; decisionId: string }): void {
    this.#anomalyLogger?.info({ decision_id: anomaly.decisionId, anomaly: { kind: anomaly.kind, subject: anomaly.subject, value: anomaly.value, baseline: anomaly.baseline } });
  }

  refused(): void {
    // Refused requests are counted by metrics; they have no decision to audit.
  }

  /** Writes out everything buffered and releases the sink; called at shutdown. */
  async close(): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.close()));
    const sink = this.#sink;
    if (sink === undefined) return;
    if ((sink as unknown as { fd: number }).fd < 0) await once(sink, "ready");
    if (this.#settings.destination === "stdout") {
      // stdout stays open for the rest of the process: wait out the write in flight, then flush.
      for (let i = 0; i < 200 && (sink as unknown as { _writing: boolean })._writing; i++) await new Promise((r) => setTimeout(r, 5));
      sink.flushSync();
      return;
    }
    const closed = once(sink, "close");
    sink.end();
    await closed;
  }
}
