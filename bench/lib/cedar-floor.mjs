#!/usr/bin/env node
// The floor Verdict is compared to: raw cedar-wasm statefulIsAuthorized in process, on the same
// Cedar calls the servers get, no network or protobuf. Run as a child pinned to the server core:
//   node lib/cedar-floor.mjs SCENARIO SECONDS SCHEMA(0|1) SEED  -> one JSON line on stdout
import { loadCedarScenario, distinctRequests, toCedar } from "./scenario-requests.mjs";
import { preparedAuthorizer } from "./cedar-wasm.mjs";
import { percentiles } from "./stats.mjs";

const [scenario = "small", seconds = "4", schema = "1", seed = "1"] = process.argv.slice(2);
const decide = preparedAuthorizer("floor", loadCedarScenario(scenario), { useSchema: schema === "1" });
const gen = distinctRequests(scenario, Number(seed));
const calls = Array.from({ length: 2000 }, () => toCedar(gen.next().value));

for (let i = 0; i < 200; i++) decide(calls[i % calls.length]); // warm-up
const lat = [];
const end = performance.now() + Number(seconds) * 1000;
const t0 = performance.now();
let n = 0;
while (performance.now() < end) {
  for (let k = 0; k < 32; k++) {
    const s = process.hrtime.bigint();
    decide(calls[n % calls.length]);
    lat.push(Number(process.hrtime.bigint() - s) / 1000);
    n++;
  }
}
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ rps: n / secs, count: n, ...percentiles(lat), rssKb: Math.round(process.memoryUsage().rss / 1024) }));
