#!/usr/bin/env node
// Check throughput with tracing off, on at 1%, on at 100%, and with the anomaly detectors on,
// measured in the same run: each configuration is a fresh `verdict serve` (pinned to CPU 0 when
// taskset exists) driven by a grpc-js client from this process with 16 calls in flight, the
// configurations interleaved over --rounds and reported as the median. Spans go to a local
// OTLP/HTTP receiver started here (it answers 200 to every export), so export cost is included.
//
//   npm run build && node bench/observability.mjs [--seconds 5] [--rounds 2] [--principals 10000]
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fromJson } from "@bufbuild/protobuf";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, rounds: { type: "string", default: "2" }, principals: { type: "string", default: "10000" }, inflight: { type: "string", default: "16" } } });
const { createServiceClient } = await import(join(REPO, "dist/src/cli/grpc-client.js"));
const { AuthorizationService, CheckRequestSchema } = await import(join(REPO, "dist/src/gen/verdict/v1/authorization_pb.js"));

let spans = 0;
const otlp = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    spans++;
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
await new Promise((r) => otlp.listen(0, "127.0.0.1", r));
const endpoint = `http://127.0.0.1:${otlp.address().port}/v1/traces`;

const base = JSON.parse(readFileSync(join(REPO, "policies/tests/editor_can_edit_document.json"), "utf8")).request;
const principals = Number(values.principals);
// Distinct principals (a realistic spread for the anomaly detectors); repeats hit the decision cache.
const requests = Array.from({ length: principals }, (_, i) => fromJson(CheckRequestSchema, { ...base, principal: { ...base.principal, uid: { type: base.principal.uid.type, id: `user-${i}` } } }));

const CONFIGS = [
  ["tracing off", {}],
  ["tracing 1%", { VERDICT_TRACING_ENABLED: "true", VERDICT_TRACING_SAMPLING_RATIO: "0.01", VERDICT_TRACING_ENDPOINT: endpoint }],
  ["tracing 100%", { VERDICT_TRACING_ENABLED: "true", VERDICT_TRACING_SAMPLING_RATIO: "1", VERDICT_TRACING_ENDPOINT: endpoint }],
  ["anomaly detectors on", { VERDICT_ANOMALIES_ENABLED: "true", VERDICT_ANOMALIES_WARMUP_MS: "0" }],
];
const taskset = spawnSync("taskset", ["--version"]).status === 0;

async function measure(env) {
  const args = [join(REPO, "dist/src/main.js"), "serve", "--policies", join(REPO, "policies"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"];
  const child = taskset ? spawn("taskset", ["-c", "0", process.execPath, ...args], { env: { ...process.env, VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_STATE_DIR: "", VERDICT_BUNDLES_WATCH: "false", ...env } }) : spawn(process.execPath, args, { env: { ...process.env, VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_STATE_DIR: "", ...env } });
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const addr = await new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
      const m = /"grpc":"([^"]+)"/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const client = createServiceClient(AuthorizationService, addr);
  let next = 0;
  let done = 0;
  const until = (ms) => Date.now() + ms;
  const drive = async (end, count) => {
    while (Date.now() < end) {
      await client.call("check", requests[next++ % requests.length]);
      if (count) done++;
    }
  };
  const inflight = Number(values.inflight);
  await Promise.all(Array.from({ length: inflight }, () => drive(until(1500), false))); // warm-up (JIT, first cache fills)
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inflight }, () => drive(until(Number(values.seconds) * 1000), true)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  client.close();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  clearTimeout(killer);
  return done / seconds;
}

const results = new Map(CONFIGS.map(([name]) => [name, []]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, env] of CONFIGS) results.get(name).push(await measure(env));
}
otlp.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = median(results.get("tracing off"));
console.log(`| configuration | Check req/s (median of ${values.rounds}) | vs tracing off |`);
console.log("| --- | ---: | ---: |");
for (const [name] of CONFIGS) {
  const m = median(results.get(name));
  console.log(`| ${name} | ${Math.round(m)} | ${(m / off).toFixed(2)}× |`);
}
console.log(`\n(${principals} distinct principals, ${values.inflight} calls in flight, ${values.seconds} s per row; OTLP export requests received: ${spans})`);
