#!/usr/bin/env node
// Cost per decision of each observability observer, measured in one process in a tight loop
// (less sensitive to a busy machine than end-to-end throughput): the decision tracer at ratio
// 0 (off would be no observer at all), 1% and 100% (spans exported to a local OTLP receiver),
// and the anomaly detectors (queueing on the answering path, examination on a later turn).
//
//   npm run build && node bench/observer-cost.mjs [--decisions 200000]
import { createServer } from "node:http";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { decisions: { type: "string", default: "200000" } } });
const N = Number(values.decisions);
const { DecisionTracer } = await import(join(REPO, "dist/src/observability/tracing/decision-tracer.js"));
const { AnomalyDetector } = await import(join(REPO, "dist/src/observability/anomaly/anomaly-detector.js"));

const receiver = createServer((req, res) => req.resume().on("end", () => res.writeHead(200).end()));
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const endpoint = `http://127.0.0.1:${receiver.address().port}/v1/traces`;

const events = Array.from({ length: 10_000 }, (_, i) => ({
  api: "check",
  request: { principal: { uid: { type: "User", id: `u${i}` } }, action: { type: "Action", id: "read" }, resource: { uid: { type: "Doc", id: `d${i % 500}` } } },
  result: { decision: i % 5 === 0 ? "deny" : "allow", determiningPolicies: ["p1"], errors: [], decisionId: `id-${i}`, bundleRevision: "r1", cache: i % 2 ? "hit_local" : "miss", requestId: "" },
  durationSeconds: 0.0002,
  evaluationSeconds: i % 2 ? undefined : 0.0001,
}));

async function perDecision(observer, settle) {
  for (let i = 0; i < 20_000; i++) observer.decided(events[i % events.length]); // warm-up
  await settle?.();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    observer.decided(events[i % events.length]);
    if (i % 1000 === 999) await settle?.(); // let queued work run, as the event loop would
  }
  await settle?.();
  return Number(process.hrtime.bigint() - start) / 1e3 / N;
}

const rows = [];
for (const ratio of [0, 0.01, 1]) {
  const tracer = new DecisionTracer({ enabled: true, endpoint, samplingRatio: ratio, resourceAttributes: "", maxQueueSize: 2048 });
  rows.push([`tracer, ratio ${ratio}`, await perDecision(tracer, () => new Promise((r) => setImmediate(r)))]);
  await tracer.close();
}
const detector = new AnomalyDetector(
  { enabled: true, windowMs: 60_000, enumerationThreshold: 50, burstFactor: 5, burstMinDenies: 20, warmupMs: 0, maxTracked: 10_000, maxSeen: 100_000, queueSize: 10_000 },
  { anomaly: () => {}, deprecatedRoute: () => {}, anomalySkipped: () => {} },
  () => [],
  () => {},
);
rows.push(["anomaly detectors (queue + examination)", await perDecision(detector, () => new Promise((r) => setImmediate(r)))]);
{
  // Only the part on the answering path: queueing (the examination is drained outside the timing).
  let ns = 0n;
  for (let chunk = 0; chunk < N / 5000; chunk++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 5000; i++) detector.decided(events[(chunk * 5000 + i) % events.length]);
    ns += process.hrtime.bigint() - start;
    detector.drain();
  }
  rows.push(["anomaly detectors: queueing only (the answering path)", Number(ns) / 1e3 / N]);
}
receiver.close();
console.log("| observer | µs per decision |");
console.log("| --- | ---: |");
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(2)} |`);
console.log(`\n(${N} decisions per row; tracing off registers no observer and reads no header: 0 by construction)`);
