#!/usr/bin/env node
// The anomaly detectors under 1M distinct principals: heap after each step (memory must stay
// flat once maxTracked subjects are held) and the cost per decision (queueing plus examination).
//
//   npm run build && node --expose-gc bench/anomaly-memory.mjs [--decisions 1000000]
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { decisions: { type: "string", default: "1000000" }, "deny-ratio": { type: "string", default: "0.3" }, "warmup-ms": { type: "string", default: "0" } } });
const { AnomalyDetector } = await import(join(REPO, "dist/src/observability/anomaly/anomaly-detector.js"));

const settings = { enabled: true, windowMs: 60_000, enumerationThreshold: 50, burstFactor: 5, burstMinDenies: 20, warmupMs: Number(values["warmup-ms"]), maxTracked: 10_000, maxSeen: 100_000, queueSize: 1_000_000 };
let signals = 0;
const metrics = { anomaly: () => signals++, deprecatedRoute: () => {}, anomalySkipped: () => {} };
const detector = new AnomalyDetector(settings, metrics, () => [], () => {});
const total = Number(values.decisions);
const denyRatio = Number(values["deny-ratio"]);
const origin = { route: "GET /v1/tenants/{tenant}/documents/{id}", deprecated: false, source: "10.0.0.1" };
const heap = () => {
  globalThis.gc?.();
  return (process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1);
};
console.log(`| decisions so far | distinct principals | heap MiB | µs per decision (this step) |`);
console.log(`| ---: | ---: | ---: | ---: |`);
console.log(`| 0 | 0 | ${heap()} | — |`);
const step = total / 10;
let i = 0;
for (let s = 1; s <= 10; s++) {
  const start = process.hrtime.bigint();
  for (; i < s * step; i++) {
    detector.decided({
      api: "envoy",
      request: { principal: { uid: { type: "User", id: `p${i}` } }, action: { type: "Action", id: "read" }, resource: { uid: { type: "Doc", id: `d${i % 5000}` } } },
      result: { decision: (i * 2654435761) % 100 < denyRatio * 100 ? "deny" : "allow", decisionId: `id${i}` },
      origin,
    });
    if (i % 1000 === 999) detector.drain(); // what setImmediate does between turns
  }
  detector.drain();
  const us = Number(process.hrtime.bigint() - start) / 1e3 / step;
  if (s % 2 === 0 || s === 1) console.log(`| ${i} | ${i} | ${heap()} | ${us.toFixed(2)} |`);
}
console.log(`\n(maxTracked ${settings.maxTracked}, Bloom filter for ${settings.maxSeen} principals; ${signals} signals raised; warm-up ${values["warmup-ms"]} ms)`);
