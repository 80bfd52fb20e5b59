// Target "verdict": `verdict serve` from a built checkout, one server per workload so each
// starts with an empty cache:
//   miss  — every request distinct: the cache only misses (lookup + engine + insert);
//   hit90 — a warm hot set of 100 requests, then 9 of 10 requests from it and 1 new: 90% L1 hits;
//   l2    — a Redis shared cache warmed with every request of a 500-request cycle, the
//           in-process cache held to one entry: (almost) every answer is an L2 hit.
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

// The workloads this target knows, with their frame sequence and server settings.
export const VERDICT_WORKLOADS = {
  miss: { kind: "distinct", label: "100% miss", env: () => ({}) },
  hit90: { kind: "hot90", label: "90% L1 hit", prewarm: 100, env: () => ({}) },
  // l2: a 1 s Redis command timeout (default 20 ms): on a shared 2-core box Redis shares the load
  // core, and at 20 ms timeouts open the breaker, so the row would measure the breaker, not L2.
  l2: { kind: "cycle", label: "L2 hit", count: 500, redis: true, env: (redisUrl) => ({ VERDICT_REDIS_URL: redisUrl, VERDICT_CACHE_MAC_SECRET: "bench-mac-secret-0123456789", VERDICT_CACHE_LOCAL_MAX_ENTRIES: "1", VERDICT_REDIS_COMMAND_TIMEOUT_MS: "1000" }) },
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
    const redis = spec.redis ? await startRedis({ core: opts.loadCore }) : null;
    ctx.log(`verdict ${scenario} ${name}: starting`);
    let server;
    try {
      server = await startVerdict({ checkoutDir: opts.verdictDir, bundleDir, core: opts.serverCore, env: { ...spec.env(redis?.url), ...opts.verdictEnv }, tmp: ctx.tmp });
      ctx.log(`verdict ${scenario} ${name}: up`);
      // hit90: the hot set (the first 100 frames) once, so the measured run starts warm;
      // l2: every request of the cycle once, so Redis holds all their decisions.
      const prewarm = spec.prewarm ?? (spec.redis ? w.positions.length : 0);
      if (prewarm) {
        ctx.log(`verdict ${scenario} ${name}: warming ${prewarm} requests`);
        await runH2load({ url: server.url, path: VERDICT_CHECK_PATH, workload: w, shim: ctx.shim, tmp: ctx.tmp, core: opts.loadCore, c: opts.conns, m: opts.streams, n: prewarm, timeoutS: 120 });
      }
      const around = async (fn, setExtra) => {
        const before = await scrapeCounters(server.httpUrl);
        const r = await fn();
        const d = counterDelta(before, await scrapeCounters(server.httpUrl));
        setExtra({ cache: cacheSummary(d), serverRefused: d.refused, serverFailed: d.failed });
        return r;
      };
      const m = await measureGrpc({ ctx, server, path: VERDICT_CHECK_PATH, workload: w, decode: (b) => vc.decode(b), expected: expectedFor(w), around, start: spec.redis ? 0 : prewarm });
      if (m.serverRefused || m.serverFailed) m.notes.push(`server refused ${m.serverRefused}, failed ${m.serverFailed} during load`);
      rows.push({ target: "verdict", scenario, workload: spec.label, ...m });
    } finally {
      await server?.stop();
      await redis?.stop();
    }
  }
  return rows;
}
