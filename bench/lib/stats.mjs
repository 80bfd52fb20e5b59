// Latency percentiles from raw samples, the same way for every target (nearest rank).

// { p50, p90, p99 } of latencies in µs (numbers), or nulls when there are none.
export function percentiles(samples) {
  if (!samples.length) return { p50: null, p90: null, p99: null };
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}
