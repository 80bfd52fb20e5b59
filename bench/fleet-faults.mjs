#!/usr/bin/env node
// Fleet faults: two `verdict serve` replicas sharing one redis-server through a TCP proxy, under
// a continuous Check load whose every answer is compared with cedar-wasm, through:
//   slow redis      the proxy delays every packet 50–500 ms (Redis still answers)
//   flapping redis  the proxy goes down and up every 300 ms; a bundle is pushed meanwhile
//   restart storm   replicas are restarted one after another (out of rotation, SIGTERM, new
//                   process, back in rotation) while bundles are pushed
//   loop stall      replica A is frozen (SIGSTOP) for 1.5 s: its /readyz must be false after it
//                   wakes up and turn true again once its event loop is quick
// Each phase reports checks, failed, wrong, p50/p99/max latency and what it measured.
//
//   npm run build && node bench/fleet-faults.mjs                 # 20 s per phase
//   node bench/fleet-faults.mjs --seconds 3 --json               # the short run the suite uses
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, stopChild, tailOutput, waitHttp200 } from "./lib/proc-tools.mjs";
import { startTcpProxy } from "./lib/tcp-proxy.mjs";

const { values: v } = parseArgs({ options: { seconds: { type: "string", default: "20" }, json: { type: "boolean", default: false } } });
const PHASE_MS = Number(v.seconds) * 1000;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (p) => import(join(ROOT, "dist", p));
const { AuthorizationService } = await dist("src/gen/verdict/v1/authorization_pb.js");
const { createServiceClient } = await dist("src/cli/grpc-client.js");
const { startLoad } = await dist("test/helpers/fleet-load.js");
const { admin, noEdits, withRevision, TOKEN } = await dist("test/helpers/admin.js");
const { startRedis } = await dist("test/helpers/redis-server.js");
const log = (m) => process.stderr.write(`[fleet-faults] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const redis = await startRedis();
const proxy = await startTcpProxy(redis.port);
const frozen = new Set();
let pushes = 0;

async function startReplica(name) {
  const [g, h, a] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env, VERDICT_REDIS_URL: `redis://127.0.0.1:${proxy.port}`, VERDICT_CACHE_MAC_SECRET: "fleet-faults-secret-0123456789", VERDICT_ADMIN_TOKEN: TOKEN,
    VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_WATCH: "false", VERDICT_BUNDLES_STATE_DIR: "", VERDICT_LOG_LEVEL: "warn",
    VERDICT_BUNDLES_FANOUT_CHECK_MS: "500", VERDICT_CACHE_LOCAL_MAX_ENTRIES: "1", VERDICT_SERVER_READY_MAX_LAG_MS: "500", VERDICT_SERVER_READY_RECOVER_MS: "2000",
    VERDICT_SERVER_SHUTDOWN_GRACE_MS: "5000",
  };
  const child = spawn(process.execPath, [join(ROOT, "dist/src/main.js"), "serve", "--policies", join(ROOT, "policies"), "--grpc-addr", `127.0.0.1:${g}`, "--http-addr", `127.0.0.1:${h}`, "--admin-addr", `127.0.0.1:${a}`], { env, stdio: ["ignore", "pipe", "pipe"] });
  const output = tailOutput(child);
  await waitHttp200(`http://127.0.0.1:${h}/readyz`, { child, timeoutMs: 60_000 });
  return { name, child, output, client: createServiceClient(AuthorizationService, `127.0.0.1:${g}`), adminAddr: `127.0.0.1:${a}`, httpUrl: `http://127.0.0.1:${h}` };
}
async function stopReplica(r) {
  r.client.close();
  await stopChild(r.child, 15_000);
}
/** Pushes the next revision through `r`, retrying while Redis cannot store it (UNAVAILABLE). */
async function push(r, notes) {
  const n = ++pushes;
  const revision = `fault-${n}`;
  if (n % 2 === 1) frozen.add(revision);
  const a = admin(r);
  const t0 = performance.now();
  let attempts = 0;
  try {
    for (;;) {
      attempts++;
      try {
        await a.push(n % 2 === 1 ? noEdits(revision) : withRevision(revision));
        break;
      } catch (err) {
        if (err.code !== 14 || performance.now() - t0 > 60_000) throw err;
        await sleep(100);
      }
    }
  } finally {
    a.close();
  }
  notes.push(`push ${revision}: stored after ${attempts} attempt(s), ${Math.round(performance.now() - t0)} ms`);
  return revision;
}
const served = async (r) => (await r.client.call("check", (await dist("test/helpers/admin.js")).allowed)).bundleRevision;
async function converged(replicas, revision, notes, t0 = performance.now()) {
  while (true) {
    const revs = await Promise.all(replicas.map(served));
    if (revs.every((x) => x === revision)) break;
    if (performance.now() - t0 > 30_000) { notes.push(`NOT converged on ${revision}: ${revs.join(", ")}`); return; }
    await sleep(50);
  }
  notes.push(`both replicas on ${revision} ${Math.round(performance.now() - t0)} ms after the push`);
}

const replicas = [await startReplica("A"), await startReplica("B")];
const rotation = [...replicas];
const load = startLoad(rotation, frozen, { concurrency: 8 });
const rows = [];
async function phase(name, act) {
  log(name);
  const from = { sent: load.report.sent, failed: load.report.failed, wrong: load.report.wrong, lat: load.report.latencies.length, hits: load.report.sharedHits.length };
  const notes = [];
  const t0 = performance.now();
  await act(notes);
  await sleep(Math.max(0, PHASE_MS - (performance.now() - t0)));
  const lat = load.report.latencies.slice(from.lat).sort((a, b) => a - b);
  const q = (x) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.ceil(x * lat.length) - 1)] * 10) / 10 : null);
  rows.push({ phase: name, checks: load.report.sent - from.sent, failed: load.report.failed - from.failed, wrong: load.report.wrong - from.wrong, p50ms: q(0.5), p99ms: q(0.99), maxMs: q(1), sharedHits: load.report.sharedHits.length - from.hits, notes });
}

let exitCode = 0;
try {
  await phase("baseline", async () => {});
  await phase("slow redis (50-500 ms per packet)", async (notes) => {
    proxy.setDelay(() => 50 + Math.random() * 450);
    const revision = await push(replicas[0], notes);
    await converged(rotation, revision, notes);
  });
  proxy.setDelay(() => 0);
  await phase("flapping redis (down/up every 300 ms)", async (notes) => {
    let flapping = true;
    const flap = (async () => { let d = false; while (flapping) { d = !d; await proxy.setDown(d); await sleep(300); } await proxy.setDown(false); })();
    // The push is refused (UNAVAILABLE, nothing activated) while Redis cannot store it and retried.
    const pushed = push(replicas[1], notes);
    await sleep(PHASE_MS);
    flapping = false;
    await flap;
    const revision = await pushed;
    await converged(rotation, revision, notes);
  });
  await phase("restart storm", async (notes) => {
    const end = performance.now() + PHASE_MS;
    let restarts = 0;
    let revision;
    while (performance.now() < end || restarts < 2) {
      const i = restarts % 2;
      const old = rotation[i];
      rotation.splice(rotation.indexOf(old), 1);
      const stopping = stopReplica(old);
      if (restarts === 0) revision = await push(rotation[0], notes);
      await stopping;
      const fresh = await startReplica(old.name);
      rotation.splice(i, 0, fresh);
      replicas[i] = fresh;
      restarts++;
    }
    notes.push(`${restarts} restarts`);
    await converged(rotation, revision, notes);
  });
  await phase("event-loop stall (replica A frozen 1.5 s)", async (notes) => {
    const a = replicas[0];
    a.child.kill("SIGSTOP");
    await sleep(1500);
    a.child.kill("SIGCONT");
    const t0 = performance.now();
    let sawNotReady = false;
    while (performance.now() - t0 < 15_000) {
      const status = await fetch(`${a.httpUrl}/readyz`).then((r) => r.status, () => 0);
      if (status === 503) sawNotReady = true;
      if (sawNotReady && status === 200) break;
      await sleep(20);
    }
    notes.push(sawNotReady ? `A's /readyz was false after the stall and true again ${Math.round(performance.now() - t0)} ms after it woke` : "A's /readyz never turned false");
    if (!sawNotReady) exitCode = 1;
  });
} catch (err) {
  log(`aborted: ${err.stack ?? err}`);
  for (const r of replicas) log(`${r.name} output:\n${r.output()}`);
  exitCode = 1;
} finally {
  await load.stop();
  for (const r of replicas) await stopReplica(r);
  await proxy.close();
  await redis.kill();
}
const total = rows.reduce((s, r) => ({ checks: s.checks + r.checks, failed: s.failed + r.failed, wrong: s.wrong + r.wrong }), { checks: 0, failed: 0, wrong: 0 });
if (total.failed || total.wrong || rows.some((r) => r.notes.some((n) => n.startsWith("NOT")))) exitCode = 1;
if (v.json) console.log(JSON.stringify({ total, phases: rows, notes: load.report.notes }));
else {
  console.log("| phase | checks | failed | wrong | p50 ms | p99 ms | max ms | shared hits | notes |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of rows) console.log(`| ${r.phase} | ${r.checks} | ${r.failed} | ${r.wrong} | ${r.p50ms} | ${r.p99ms} | ${r.maxMs} | ${r.sharedHits} | ${r.notes.join("; ")} |`);
  console.log(`\ntotal: ${total.checks} checks, ${total.failed} failed, ${total.wrong} wrong${load.report.notes.length ? `; ${load.report.notes.join("; ")}` : ""}`);
}
process.exit(exitCode);
