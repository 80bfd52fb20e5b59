#!/usr/bin/env node
// Decision-cache benchmark: Check over gRPC on loopback, cache off vs L1 hits vs L2 hits, for the
// example bundle (policies/) and the ~2,000-policy "large" scenario, in one bounded run.
//
//   npm run build && node bench/cache.mjs                 # ~1.5 minutes on an idle 2-core box
//   node bench/cache.mjs --seconds 3 --concurrency 8 --bundles example
//   node bench/cache.mjs --redis-timeout-ms 200           # on a busy box, where 20 ms GETs time out
//
// Each (bundle, mode) gets its own `verdict serve` (pinned to CPU 0 when taskset exists) and a
// closed-loop grpc-js client in this process with N calls in flight over a fixed working set:
//   off  VERDICT_CACHE_ENABLED=false: every call is evaluated (BYPASS)
//   l1   cache on, no Redis: after one warm-up pass every call is HIT_LOCAL
//   l2   cache on with a private redis-server and a one-entry L1: calls are HIT_SHARED
// Every answer is checked against the cache-off answer for the same request (example bundle:
// against its tests' expected decisions); the share of answers with the mode's cache status is
// printed so a mode cannot silently measure something else. Exits non-zero on a failed RPC or
// a wrong decision.
import { readFileSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fromJson } from "@bufbuild/protobuf";
import { assembleBundle, startVerdict } from "./lib/verdict-server.mjs";
import { startRedis } from "./lib/redis-server.mjs";
import { distinctRequests, toVerdictJson } from "./lib/scenario-requests.mjs";
import { percentiles } from "./lib/stats.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    keys: { type: "string", default: "200" },
    "redis-timeout-ms": { type: "string" },
    bundles: { type: "string", default: "example,large" },
    modes: { type: "string", default: "off,l1,l2" },
  },
});
const { CheckRequestSchema, AuthorizationService, Decision, CacheStatus } = await import(join(root, "dist/src/gen/verdict/v1/authorization_pb.js"));
const { createServiceClient } = await import(join(root, "dist/src/cli/grpc-client.js"));

const MODES = {
  off: { env: { VERDICT_CACHE_ENABLED: "false" }, expect: CacheStatus.BYPASS },
  l1: { env: {}, expect: CacheStatus.HIT_LOCAL },
  l2: { env: { VERDICT_CACHE_LOCAL_MAX_ENTRIES: "1", VERDICT_CACHE_MAC_SECRET: "bench-secret-0123456789" }, redis: true, expect: CacheStatus.HIT_SHARED },
};

/** The working set: requests, and the decision each must get when known in advance. */
function workingSet(bundle, tmp) {
  if (bundle === "example") {
    const dir = join(root, "policies");
    const cases = readdirSync(join(dir, "tests")).filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(readFileSync(join(dir, "tests", f), "utf8")))
      .map((t) => ({ request: fromJson(CheckRequestSchema, t.request), want: t.expect.decision === "allow" ? Decision.ALLOW : Decision.DENY }));
    return { dir, cases };
  }
  const gen = distinctRequests(bundle, 1);
  const cases = Array.from({ length: Number(opt.keys) }, () => ({ request: fromJson(CheckRequestSchema, toVerdictJson(gen.next().value)), want: undefined }));
  return { dir: assembleBundle(bundle, tmp), cases };
}

/**
 * N closed loops until `until` (or until `take` runs out); they cycle over the cases unless
 * `take` hands them out. Latencies in µs when `samples` is given.
 */
async function drive(client, cases, until, samples, tally, take) {
  const n = Number(opt.concurrency);
  let next = 0;
  take ??= () => cases[next++ % cases.length];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let c = take(); c !== undefined && Date.now() < until; c = take()) {
      const t = process.hrtime.bigint();
      try {
        const res = await client.call("check", c.request, undefined, { deadline: Date.now() + 5000 });
        samples?.push(Number(process.hrtime.bigint() - t) / 1000);
        if (c.want === undefined) c.want = res.decision; // first answer, from the cache-off run
        else if (res.decision !== c.want) tally.wrong++;
        tally.status.set(res.cache, (tally.status.get(res.cache) ?? 0) + 1);
      } catch (err) {
        tally.failed++;
        tally.firstError ||= String(err.message ?? err);
      }
    }
  }));
}

/** One pass over the cases, N at a time, recording the reference decisions. */
async function warm(client, cases, tally) {
  let next = 0;
  await drive(client, cases, Infinity, undefined, tally, () => (next < cases.length ? cases[next++] : undefined));
}

async function measure(bundle, mode, set, tmp) {
  const m = MODES[mode];
  const redis = m.redis ? await startRedis({ core: 1 }) : undefined;
  const timeout = opt["redis-timeout-ms"] === undefined ? {} : { VERDICT_REDIS_COMMAND_TIMEOUT_MS: opt["redis-timeout-ms"] };
  const env = { ...m.env, ...(redis ? { VERDICT_REDIS_URL: redis.url, ...timeout } : {}) };
  const server = await startVerdict({ checkoutDir: root, bundleDir: set.dir, core: 0, env, tmp });
  const client = createServiceClient(AuthorizationService, server.url.replace("http://", ""));
  const tally = { wrong: 0, failed: 0, firstError: "", status: new Map() };
  try {
    // Warm-up: one pass over the working set fills L1 (and Redis); then load without recording.
    await warm(client, set.cases, tally);
    if (redis) await new Promise((r) => setTimeout(r, 200)); // L2 writes happen after answering
    await drive(client, set.cases, Date.now() + Number(opt.warmup) * 1000, undefined, tally);
    tally.status.clear();
    const samples = [];
    const start = Date.now();
    await drive(client, set.cases, start + Number(opt.seconds) * 1000, samples, tally);
    const secs = (Date.now() - start) / 1000;
    const { p50, p99 } = percentiles(samples);
    const total = [...tally.status.values()].reduce((a, b) => a + b, 0);
    const statuses = [...tally.status].map(([k, n]) => `${CacheStatus[k]} ${n}`).join(", ");
    return { bundle, mode, statuses, calls: samples.length, rps: Math.round(samples.length / secs), p50, p99, expected: (tally.status.get(m.expect) ?? 0) / (total || 1), ...tally };
  } finally {
    client.close();
    await server.stop();
    await redis?.stop();
  }
}

const tmp = mkdtempSync(join(tmpdir(), "verdict-cache-bench-"));
const rows = [];
let ok = true;
try {
  for (const bundle of opt.bundles.split(",")) {
    const set = workingSet(bundle, tmp);
    const modes = opt.modes.split(",");
    // "off" first: on the generated scenario its answers are the reference for the other modes.
    const runs = set.cases[0].want === undefined ? ["off", ...modes.filter((x) => x !== "off")] : modes;
    for (const mode of runs) {
      const r = await measure(bundle, mode, set, tmp);
      if (!modes.includes(mode)) continue;
      rows.push(r);
      ok &&= r.failed === 0 && r.wrong === 0;
      process.stderr.write(`${bundle}/${mode}: ${r.rps}/s (${r.statuses})\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const ms = (us) => (us === null ? "-" : (us / 1000).toFixed(2));
console.log(`Check over gRPC, loopback, ${opt.concurrency} in flight, ${opt.seconds} s per row, working set: example = its test requests, generated scenarios = ${opt.keys} distinct requests\n`);
console.log("| bundle | cache | decisions/s | p50 ms | p99 ms | with the mode's status | statuses seen | failed | wrong |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.bundle} | ${r.mode} | ${r.rps} | ${ms(r.p50)} | ${ms(r.p99)} | ${(r.expected * 100).toFixed(1)}% | ${r.statuses} | ${r.failed} | ${r.wrong} |`);
}
if (!ok) console.error(`failed RPCs or wrong decisions: ${rows.map((r) => r.firstError).filter(Boolean)[0] ?? ""}`);
process.exit(ok ? 0 : 1);
