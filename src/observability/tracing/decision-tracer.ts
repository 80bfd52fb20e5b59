import { type Attributes, type Context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import type { Config } from "../../config/config-spec.js";
import type { DecisionEvent, DecisionObserver } from "../../decision/decision-observer.js";

/** The tracing settings this file reads. */
export type TracingSettings = Config["tracing"];

const propagator = new W3CTraceContextPropagator();

/** `k=v,k2=v2` → attributes; service.name defaults to verdict. */
export function resourceAttributes(text: string): Attributes {
  const attrs: Attributes = { "service.name": "verdict" };
  for (const pair of text.split(",")) {
    const at = pair.indexOf("=");
    if (at > 0) attrs[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return attrs;
}

/**
 * One OpenTelemetry span per decision ("verdict.decision"), child of the caller's W3C trace
 * context, with a "verdict.evaluate" child when the engine ran; exported over OTLP/HTTP
 * (protobuf) in batches. Attributes say how the answer was made (front door, cache tier,
 * revision, decision, determining policies) and never carry request values: principals,
 * resources, context and attributes stay out of traces as they stay out of metric labels.
 *
 * Spans are built after the decision from its measured duration, so tracing adds no work to the
 * decision itself; it is only registered as an observer when tracing.enabled is set.
 */
export class DecisionTracer implements DecisionObserver {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;

  constructor(settings: TracingSettings) {
    const exporter = new OTLPTraceExporter({ url: settings.endpoint });
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes(resourceAttributes(settings.resourceAttributes)),
      // A caller's sampling decision is followed; a trace that starts here is sampled at the ratio.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplingRatio) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: settings.maxQueueSize, maxExportBatchSize: Math.min(512, settings.maxQueueSize) })],
    });
    this.#tracer = this.#provider.getTracer("verdict");
  }

  decided(event: DecisionEvent): void {
    const end = performance.timeOrigin + performance.now();
    const start = end - event.durationSeconds * 1000;
    const parent: Context = event.trace === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, event.trace, defaultTextMapGetter);
    const { result } = event;
    const span = this.#tracer.startSpan("verdict.decision", { kind: SpanKind.SERVER, startTime: start }, parent);
    // Attributes are built only for spans that will be exported (the sampler needs none).
    if (!span.isRecording()) return;
    span.setAttributes({
      "verdict.api": event.api,
      "verdict.cache": result.cache,
      "verdict.evaluated": event.evaluationSeconds !== undefined,
      "verdict.bundle.revision": result.bundleRevision,
      "verdict.decision": result.decision,
      "verdict.determining_policies": [...result.determiningPolicies],
      "verdict.decision_id": result.decisionId,
      "verdict.error_count": result.errors.length,
    });
    if (event.evaluationSeconds !== undefined) {
      const evaluation = this.#tracer.startSpan("verdict.evaluate", { kind: SpanKind.INTERNAL, startTime: end - event.evaluationSeconds * 1000, attributes: { "verdict.bundle.revision": result.bundleRevision } }, trace.setSpan(parent, span));
      evaluation.end(end);
    }
    span.end(end);
  }

  refused(): void {
    // A refused request has no decision to trace; it is counted by the metrics.
  }

  /** Exports what is buffered and stops; called at shutdown. */
  close(): Promise<void> {
    return this.#provider.shutdown();
  }
}
