// Target "verdict": `verdict serve` from a built checkout, one server per workload so each
// starts with an empty cache:
//   miss  — every request distinct: the cache only misses (lookup + engine + insert);
//   hit90 — a warm hot set of 100 requests, then 9 of 10 requests from it and 1 new: 90% L1 hits;
//   l2    — a Redis shared cache warmed with every request of a 500-request cycle, the
//           in-process cache held to one entry: (almost) every answer is an L2 hit;
//   zipf2 — two replicas sharing Redis, a Zipf-skewed stream over 10k requests split between them;
//   fill100k — 100,000 distinct requests first (all cached), then the same again: the RSS
//           column is the server's memory with 100k cached decisions.
// The server's own counters give the hit ratio actually reached during the saturating run.
import { assembleBundle, startVerdict } from "../lib/verdict-server.mjs";
import { startRedis } from "../lib/redis-server.mjs";
import { buildWorkload } from "../lib/workload-bodies.mjs";
import { measureGrpc } from "../lib/measure-grpc.mjs";
import { runH2load } from "../lib/h2load-driver.mjs";
import { expectedFor } from "../lib/expected-decisions.mjs";
import { toVerdictJson } from "../lib/scenario-requests.mjs";
import { loadVerdictCodec, VERDICT_CHECK_PATH, VERDICT_REQUEST_ID_TAG } from "../lib/verdict-codec.mjs";
import { scrapeCounters, counterDelta, cacheSummary } from "../lib/verdict-metrics.mjs";
import { verifyWorkload, samplePositions } from "../lib/grpc-verify.mjs";
import { memoryKb } from "../lib/proc-tools.mjs";

// The workloads this target knows, with their frame sequence and server settings.
export const VERDICT_WORKLOADS = {
  miss: { kind: "distinct", label: "100% miss", env: () => ({}) },
  hit90: { kind: "hot90", label: "90% L1 hit", prewarm: 100, env: () => ({}) },
  // l2: a 1 s Redis command timeout (default 20 ms): on a shared 2-core box Redis shares the load
  // core, and at 20 ms timeouts open the breaker, so the row would measure the breaker, not L2.
  l2: { kind: "cycle", label: "L2 hit", count: 500, redis: true, env: (redisUrl) => ({ VERDICT_REDIS_URL: redisUrl, VERDICT_CACHE_MAC_SECRET: "bench-mac-secret-0123456789", VERDICT_CACHE_LOCAL_MAX_ENTRIES: "1", VERDICT_REDIS_COMMAND_TIMEOUT_MS: "1000" }) },
  // fill100k: 100,000 distinct requests sent first, all kept by the in-process cache, so the
  // row's RSS is the server's with 100k cached decisions; its load then re-sends them (hits).
  // zipf2: two replicas sharing one Redis, each given half of a Zipf(1) stream over 10k
  // distinct requests (see runZipfPair).
  zipf2: { kind: "zipf", label: "Zipf, 2 replicas + Redis", pair: true, redis: true, env: (redisUrl) => ({ VERDICT_REDIS_URL: redisUrl, VERDICT_CACHE_MAC_SECRET: "bench-mac-secret-0123456789", VERDICT_REDIS_COMMAND_TIMEOUT_MS: "1000" }) },
  fill100k: { kind: "distinct", label: "100k cached", count: 100_000, prewarm: 100_000, env: () => ({ VERDICT_CACHE_LOCAL_MAX_ENTRIES: "100000", VERDICT_CACHE_LOCAL_TTL_MS: "3600000" }) },
};

// Rows for one scenario, one per selected workload.
export async function runVerdict(ctx, scenario) {
  const { opts } = ctx;
  const vc = await loadVerdictCodec(opts.verdictDir);
  const codec = { name: "verdict", tag: VERDICT_REQUEST_ID_TAG, toJson: toVerdictJson, encode: vc.encode };
  const bundleDir = assembleBundle(scenario, ctx.tmp);
  const rows = [];
  for (const name of opts.workloads) {
    const spec = VERDICT_WORKLOADS[name];
    if (!spec) throw new Error(`unknown Verdict workload ${name} (have ${Object.keys(VERDICT_WORKLOADS).join(", ")})`);
    if (ctx.outOfTime()) { ctx.log(`verdict ${scenario} ${name}: skipped (time budget)`); continue; }
    const w = buildWorkload({ workDir: ctx.workDir, codec, scenario, kind: spec.kind, count: spec.count ?? opts.requests, seed: opts.seed });
    if (spec.pair) {
      rows.push({ target: "verdict", scenario, workload: spec.label, ...(await runZipfPair(ctx, { bundleDir, w, spec, vc })) });
      continue;
    }
    const redis = spec.redis ? await startRedis({ core: opts.loadCore }) : null;
    ctx.log(`verdict ${scenario} ${name}: starting`);
    let server;
    try {
      server = await startVerdict({ checkoutDir: opts.verdictDir, bundleDir, core: opts.serverCore, env: { ...spec.env(redis?.url), ...opts.verdictEnv }, tmp: ctx.tmp });
      ctx.log(`verdict ${scenario} ${name}: up`);
      // Evaluation workers compile the bundle after activation; let them before measuring.
      if (opts.settle > 0) await new Promise((r) => setTimeout(r, opts.settle * 1000));
      // hit90: the hot set (the first 100 frames) once, so the measured run starts warm;
      // l2: every request of the cycle once, so Redis holds all their decisions.
      const prewarm = spec.prewarm ?? (spec.redis ? w.positions.length : 0);
      if (prewarm) {
        ctx.log(`verdict ${scenario} ${name}: warming ${prewarm} requests`);
        await runH2load({ url: server.url, path: VERDICT_CHECK_PATH, workload: w, shim: ctx.shim, tmp: ctx.tmp, core: opts.loadCore, c: opts.conns, m: opts.streams, n: prewarm, timeoutS: 600 });
      }
      const around = async (fn, setExtra) => {
        const before = await scrapeCounters(server.httpUrl);
        const r = await fn();
        const d = counterDelta(before, await scrapeCounters(server.httpUrl));
        setExtra({ cache: cacheSummary(d), serverRefused: d.refused, serverFailed: d.failed });
        return r;
      };
      const m = await measureGrpc({ ctx, server, path: VERDICT_CHECK_PATH, workload: w, decode: (b) => vc.decode(b), expected: expectedFor(w), around, start: spec.redis ? 0 : prewarm % w.positions.length });
      if (m.serverRefused || m.serverFailed) m.notes.push(`server refused ${m.serverRefused}, failed ${m.serverFailed} during load`);
      rows.push({ target: "verdict", scenario, workload: spec.label, ...m });
    } finally {
      await server?.stop();
      await redis?.stop();
    }
  }
  return rows;
}

// Two replicas on the server core(s) sharing a Redis on the load core; two h2load processes,
// one per replica, each with half the connections, replica B starting halfway through the
// stream. req/s is the sum; p50/p99 are the worse of the two runs; the cache column sums both
// replicas' counters. Answers are checked on replica A.
async function runZipfPair(ctx, { bundleDir, w, spec, vc }) {
  const { opts } = ctx;
  const redis = await startRedis({ core: opts.loadCore });
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) servers.push(await startVerdict({ checkoutDir: opts.verdictDir, bundleDir, core: opts.serverCore, env: { ...spec.env(redis.url), ...opts.verdictEnv }, tmp: ctx.tmp }));
    ctx.log(`verdict ${w.scenario} zipf2: two replicas up`);
    if (opts.settle > 0) await new Promise((r) => setTimeout(r, opts.settle * 1000));
    const half = Math.floor(w.positions.length / 2);
    const load = (s, start, more) =>
      runH2load({ url: s.url, path: VERDICT_CHECK_PATH, workload: w, shim: ctx.shim, tmp: ctx.tmp, core: opts.loadCore, start, c: Math.max(1, opts.conns / 2), m: opts.streams, timeoutS: 600, ...more });
    // Steady state, not a cold start: each replica first answers the opening 10,000 requests of its half.
    const warm = Math.min(10_000, Math.floor(half / 2));
    ctx.log(`verdict ${w.scenario} zipf2: warming ${2 * warm} requests`);
    await Promise.all([load(servers[0], 0, { n: warm }), load(servers[1], half, { n: warm })]);
    const before = await Promise.all(servers.map((s) => scrapeCounters(s.httpUrl)));
    const timed = { duration: opts.duration, warmup: opts.warmup };
    const runs = await Promise.all([load(servers[0], warm, timed), load(servers[1], half + warm, timed)]);
    const after = await Promise.all(servers.map((s) => scrapeCounters(s.httpUrl)));
    const deltas = servers.map((_, i) => counterDelta(before[i], after[i]));
    const sum = Object.fromEntries(Object.keys(deltas[0]).map((k) => [k, deltas[0][k] + deltas[1][k]]));
    const mem = memoryKb(servers[0].pid);
    ctx.log("  checking answers");
    const check = await verifyWorkload({ url: servers[0].url, path: VERDICT_CHECK_PATH, w, positions: samplePositions(w, { total: opts.verify }), decode: (b) => vc.decode(b), expected: expectedFor(w) });
    const worst = (k) => Math.max(...runs.map((r) => r[k] ?? 0));
    return {
      rps: runs[0].rps + runs[1].rps, p50: worst("p50"), p90: worst("p90"), p99: worst("p99"),
      rssKb: mem.rssKb, hwmKb: mem.hwmKb, check, cache: cacheSummary(sum),
      notes: [
        "req/s summed over both replicas; latencies the worse replica's; RSS of one replica",
        ...(sum.refused || sum.failed ? [`server refused ${sum.refused}, failed ${sum.failed} during load`] : []),
      ],
    };
  } finally {
    for (const s of servers) await s.stop();
    await redis.stop();
  }
}
