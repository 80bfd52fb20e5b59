/**
 * The W3C Trace Context a caller sent (`traceparent`, `tracestate`), as text: front doors copy
 * it from gRPC metadata or HTTP headers, the tracer parses it. Never part of the question.
 */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** Longest header kept; W3C traceparent is 55 characters, tracestate at most 32 members of ~256. */
const MAX_TRACEPARENT = 128;
const MAX_TRACESTATE = 8192;

/** The carrier from two header values (first value of a list), or undefined without a usable traceparent. */
export function toTraceCarrier(traceparent: unknown, tracestate: unknown): TraceCarrier | undefined {
  const parent = first(traceparent);
  if (parent === undefined || parent.length > MAX_TRACEPARENT) return undefined;
  const state = first(tracestate);
  return state === undefined || state.length > MAX_TRACESTATE ? { traceparent: parent } : { traceparent: parent, tracestate: state };
}

const first = (v: unknown): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === "string" && s !== "" ? s : undefined;
};
