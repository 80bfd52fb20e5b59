// Reads Verdict's Prometheus counters around a load, so a row can show the cache hit ratio the
// server itself counted and any request it refused or failed while h2load only saw HTTP 200.

// Sums of the counters the bench reports, keyed "name{labels}" -> value.
export async function scrapeCounters(httpUrl) {
  const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^(verdict_(?:cache_requests_total|invalid_requests_total|failed_requests_total|decisions_total))(\{[^}]*\})?\s+([\d.eE+-]+)$/);
    if (m) out[`${m[1]}${m[2] ?? ""}`] = Number(m[3]);
  }
  return out;
}

// What happened between two scrapes: { localHit, localMiss, sharedHit, sharedMiss, sharedError,
// refused, failed, decisions }.
export function counterDelta(before, after) {
  const d = (pred) => Object.keys(after).filter(pred).reduce((s, k) => s + after[k] - (before[k] ?? 0), 0);
  const cache = (tier, result) => d((k) => k.startsWith("verdict_cache_requests_total") && k.includes(`tier="${tier}"`) && k.includes(`result="${result}"`));
  return {
    localHit: cache("local", "hit"), localMiss: cache("local", "miss"),
    sharedHit: cache("shared", "hit"), sharedMiss: cache("shared", "miss"), sharedError: cache("shared", "error"),
    refused: d((k) => k.startsWith("verdict_invalid_requests_total")),
    failed: d((k) => k.startsWith("verdict_failed_requests_total")),
    decisions: d((k) => k.startsWith("verdict_decisions_total")),
  };
}

// One short text for the table ("L1 90%", "L1 0% · L2 97%"), shares of all lookups.
export function cacheSummary(c) {
  const lookups = c.localHit + c.localMiss;
  if (!lookups) return "bypass";
  const pct = (x) => `${Math.round((100 * x) / lookups)}%`;
  const l2 = c.sharedHit + c.sharedMiss + c.sharedError ? ` · L2 ${pct(c.sharedHit)}` : "";
  return `L1 ${pct(c.localHit)}${l2}${c.sharedError ? ` (L2 errors ${pct(c.sharedError)})` : ""}`;
}
