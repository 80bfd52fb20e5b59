import { createHash } from "node:crypto";
import { once } from "node:events";
import { pino, type Logger } from "pino";
import type { Config } from "../config/config-spec.js";
import type { DecisionEvent, DecisionObserver } from "../decision/decision-observer.js";
import type { Value } from "../model/entity.js";
import { formatUid } from "../model/entity.js";

/** What the decision log reports, so that logged + dropped + sampled out = decisions. */
export interface DecisionLogMetrics {
  logWritten(): void;
  logDropped(): void;
  logSampledOut(): void;
}

/** Keys that look like credentials are never logged, whatever the configuration says. */
const CREDENTIAL_KEY = /authorization|token|jwt|password|passwd|secret|cookie|api[-_]?key/i;
const list = (s: string) => new Set(s.split(",").map((x) => x.trim()).filter((x) => x.length > 0));

/**
 * One JSON line per decision. Lines go through pino to an asynchronous sink with a bounded
 * buffer: a sink that cannot keep up loses lines (counted), never a decision's latency.
 */
export class DecisionLog implements DecisionObserver {
  readonly #logger: Logger | undefined;
  readonly #sink: ReturnType<typeof pino.destination> | undefined;
  /** Set by the sink's synchronous `drop` event during the current write. */
  #dropped = false;
  readonly #settings: Config["decisionLog"];
  readonly #mask: ReadonlySet<string>;
  readonly #drop: ReadonlySet<string>;
  readonly #metrics: DecisionLogMetrics;

  constructor(settings: Config["decisionLog"], metrics: DecisionLogMetrics) {
    this.#settings = settings;
    this.#metrics = metrics;
    this.#mask = list(settings.mask);
    this.#drop = list(settings.drop);
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
  }

  decided(event: DecisionEvent): void {
    if (this.#logger === undefined) return;
    const { result, request } = event;
    if (result.decision === "allow" && this.#settings.allowSampleRate < 1 && Math.random() >= this.#settings.allowSampleRate) {
      this.#metrics.logSampledOut();
      return;
    }
    const line: Record<string, unknown> = {
      decision_id: result.decisionId,
      api: event.api,
      principal: formatUid(request.principal.uid),
      action: formatUid(request.action),
      resource: formatUid(request.resource.uid),
      decision: result.decision,
      determining_policies: result.determiningPolicies,
      errors: result.errors,
      bundle_revision: result.bundleRevision,
      cache: result.cache,
      latency_ms: Math.round(event.durationSeconds * 1e6) / 1e3,
      request_id: result.requestId,
    };
    if (this.#settings.includeInput) {
      line["context"] = this.#record(request.context, "context");
      line["principal_attrs"] = this.#record(request.principal.attrs, "principal.attrs");
      line["resource_attrs"] = this.#record(request.resource.attrs, "resource.attrs");
    }
    this.#dropped = false;
    this.#logger.info(line);
    if (!this.#dropped) this.#metrics.logWritten();
  }

  refused(): void {
    // Refused requests are counted by metrics; they have no decision to audit.
  }

  /** Writes out everything buffered and releases the sink; called at shutdown. */
  async close(): Promise<void> {
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

  /** A loggable copy of a record: dropped and credential-like keys removed, masked paths hashed. */
  #record(fields: Readonly<Record<string, Value>>, path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      const p = `${path}.${key}`;
      if (this.#drop.has(p) || CREDENTIAL_KEY.test(key)) continue;
      const v = fields[key]!;
      if (this.#mask.has(p)) out[key] = `sha256:${createHash("sha256").update(JSON.stringify(plain(v))).digest("hex").slice(0, 32)}`;
      else out[key] = v.kind === "record" ? this.#record(v.fields, p) : plain(v);
    }
    return out;
  }
}

/** A value as plain JSON for the log. */
function plain(v: Value): unknown {
  switch (v.kind) {
    case "bool":
    case "long":
    case "string":
      return v.value;
    case "set":
      return v.values.map(plain);
    case "record":
      return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, plain(x)]));
    case "entity":
      return formatUid(v.uid);
    case "extension":
      return `${v.fn}(${JSON.stringify(v.arg)})`;
  }
}
