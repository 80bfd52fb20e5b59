import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { admin, noEdits, TOKEN, waitForRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { startLoad } from "../helpers/fleet-load.js";
import { metricValue } from "../helpers/metrics.js";
import { type ClusterSetup, type SentinelSetup, startCluster, startSentinelSetup } from "../helpers/redis-topologies.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const SECRET = "topology-secret-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metric = async (v: RunningVerdict, name: string) => metricValue(await (await fetch(`${v.httpUrl}/metrics`)).text(), name);
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
/** Two replicas on `url`, each with a one-entry L1 so nearly every answer goes through Redis. */
const fleet = (url: string, namespace: string) => ({
  "admin.token": TOKEN,
  "redis.url": url,
  "redis.namespace": namespace,
  "cache.macSecret": SECRET,
  "cache.localMaxEntries": 1,
  "redis.commandTimeoutMs": 300,
  "cache.breakerCooldownMs": 300,
  "bundles.fanoutCheckMs": 500,
});
/** A push that waits out a failover in progress (UNAVAILABLE: not stored, nothing activated). */
async function pushThroughFailover(v: RunningVerdict, revision: string): Promise<number> {
  const a = admin(v);
  let attempts = 0;
  try {
    for (;;) {
      attempts++;
      try {
        await a.push(noEdits(revision));
        return attempts;
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || attempts > 60) throw err;
        await sleep(250);
      }
    }
  } finally {
    a.close();
  }
}

/** Kill → failover → shared hits resume → a push reaches both replicas; 0 failed, 0 wrong. */
async function failoverUnderLoad(url: string, namespace: string, kill: () => Promise<void>, failedOver: () => Promise<boolean>) {
  const one = await startVerdict(EXAMPLE_BUNDLE, fleet(url, namespace));
  const two = await startVerdict(EXAMPLE_BUNDLE, fleet(url, namespace));
  const revision = `${namespace}-pushed`;
  const load = startLoad([one, two], new Set([revision]));
  try {
    await until("both replicas connected", async () => (await metric(one, "verdict_redis_up")) === 1 && (await metric(two, "verdict_redis_up")) === 1);
    await until("shared hits before the fault", () => load.report.sharedHits.length > 20);
    const killedAt = performance.now();
    await kill();
    await until("the failover", failedOver, 30_000);
    const failedOverAt = performance.now();
    await until("shared hits resume on the new master", () => load.hitsAfter(failedOverAt) > 0, 30_000);
    const resumedMs = Math.round(load.report.sharedHits.find((t) => t > failedOverAt)! - killedAt);
    const attempts = await pushThroughFailover(one, revision);
    await waitForRevision(one, revision, 30_000);
    await waitForRevision(two, revision, 30_000);
    await until("redis_up back on both", async () => (await metric(one, "verdict_redis_up")) === 1 && (await metric(two, "verdict_redis_up")) === 1);
    const report = await load.stop();
    assert.equal(report.failed, 0, report.notes.join("; "));
    assert.equal(report.wrong, 0, report.notes.join("; "));
    assert.ok((report.revisions[revision] ?? 0) > 0, "the pushed revision decided");
    // The figure for the notes: how long after the kill the first shared hit was answered again.
    process.stderr.write(`[${namespace}] ${report.sent} checks, 0 failed, 0 wrong; shared hits resumed ${resumedMs} ms after the kill; push stored after ${attempts} attempt(s)\n`);
  } finally {
    await load.stop();
    await one.stop();
    await two.stop();
  }
}

describe("Redis Sentinel: 1 master, 1 replica, 3 sentinels", () => {
  let s: SentinelSetup;
  before(async () => (s = await startSentinelSetup()));
  after(() => s?.stop());

  it("the master is killed under load: the sentinels promote the replica, Verdict follows, shared hits resume, a push reaches both replicas", { timeout: 120_000 }, async () => {
    const oldPort = s.master.port;
    await failoverUnderLoad(s.url, "sentinel", () => s.master.kill(), async () => (await s.currentMasterPort().catch(() => oldPort)) !== oldPort);
  });
});

describe("Redis Cluster: 3 masters, 3 replicas", () => {
  let c: ClusterSetup;
  before(async () => (c = await startCluster()));
  after(() => c?.stop());

  it("the master holding the fleet record is killed under load: its replica takes over, shared hits resume, a push reaches both replicas", { timeout: 120_000 }, async () => {
    const key = "verdict:v1:cluster:bundle";
    const victim = await c.masterOf(key);
    await failoverUnderLoad(c.url, "cluster", () => victim.kill(), async () => (await c.masterOf(key).catch(() => victim)) !== victim);
  });
});
