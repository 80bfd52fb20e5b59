#!/usr/bin/env node
// The long version of the Sentinel and Cluster failover tests: two in-process replicas on a real
// Sentinel setup (1 master, 1 replica, 3 sentinels) and then a real 3+3 Cluster, each under a
// continuous Check load checked against cedar-wasm for `--seconds` before and after the master
// is killed; a bundle is pushed right after the failover. Reports checks, failed, wrong, the
// time from the kill until shared hits resume, and how long the push took to reach both.
//
//   npm run build && node bench/redis-failover.mjs [--seconds 20]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: v } = parseArgs({ options: { seconds: { type: "string", default: "20" } } });
const MS = Number(v.seconds) * 1000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (p) => import(join(ROOT, "dist", p));
const { startSentinelSetup, startCluster } = await dist("test/helpers/redis-topologies.js");
const { startVerdict } = await dist("test/helpers/start-verdict.js");
const { startLoad } = await dist("test/helpers/fleet-load.js");
const { admin, noEdits, TOKEN, waitForRevision } = await dist("test/helpers/admin.js");
const { EXAMPLE_BUNDLE } = await dist("test/helpers/bundles.js");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (cond, ms = 60_000) => { const end = Date.now() + ms; while (!(await cond())) { if (Date.now() > end) throw new Error("timed out"); await sleep(50); } };

async function run(name, setup, kill, failedOver) {
  const settings = { "admin.token": TOKEN, "redis.url": setup.url, "redis.namespace": name, "cache.macSecret": "failover-secret-0123456789", "cache.localMaxEntries": 1, "redis.commandTimeoutMs": 300, "cache.breakerCooldownMs": 300, "bundles.fanoutCheckMs": 500 };
  const replicas = [await startVerdict(EXAMPLE_BUNDLE, settings), await startVerdict(EXAMPLE_BUNDLE, settings)];
  const revision = `${name}-pushed`;
  const load = startLoad(replicas, new Set([revision]), { concurrency: 8 });
  try {
    await sleep(MS);
    const killedAt = performance.now();
    await kill();
    await until(failedOver);
    const failoverMs = Math.round(performance.now() - killedAt);
    const failedOverAt = performance.now();
    await until(() => load.hitsAfter(failedOverAt) > 0);
    const resumedMs = Math.round(load.report.sharedHits.find((t) => t > failedOverAt) - killedAt);
    const a = admin(replicas[0]);
    const t0 = performance.now();
    for (;;) { try { await a.push(noEdits(revision)); break; } catch (err) { if (err.code !== 14) throw err; await sleep(200); } }
    a.close();
    for (const r of replicas) await waitForRevision(r, revision, 30_000);
    const pushMs = Math.round(performance.now() - t0);
    await sleep(MS);
    const report = await load.stop();
    const lat = [...report.latencies].sort((x, y) => x - y);
    return { topology: name, checks: report.sent, failed: report.failed, wrong: report.wrong, p99ms: Math.round(lat[Math.ceil(0.99 * lat.length) - 1]), failoverMs, sharedHitsResumeMs: resumedMs, pushToBothMs: pushMs, notes: report.notes.join("; ") };
  } finally {
    await load.stop();
    for (const r of replicas) await r.stop();
  }
}

const rows = [];
const s = await startSentinelSetup();
try {
  const oldPort = s.master.port;
  rows.push(await run("sentinel", s, () => s.master.kill(), async () => (await s.currentMasterPort().catch(() => oldPort)) !== oldPort));
} finally { await s.stop(); }
const c = await startCluster();
try {
  const key = "verdict:v1:cluster:bundle";
  const victim = await c.masterOf(key);
  rows.push(await run("cluster", c, () => victim.kill(), async () => (await c.masterOf(key).catch(() => victim)) !== victim));
} finally { await c.stop(); }
console.log("| topology | checks | failed | wrong | p99 ms | master killed → new master | → shared hits resume | push → both replicas |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) console.log(`| ${r.topology} | ${r.checks} | ${r.failed} | ${r.wrong} | ${r.p99ms} | ${r.failoverMs} ms | ${r.sharedHitsResumeMs} ms | ${r.pushToBothMs} ms |${r.notes ? ` ${r.notes}` : ""}`);
process.exit(rows.some((r) => r.failed || r.wrong) ? 1 : 0);
