#!/usr/bin/env node
// Check over gRPC on loopback: decisions/s and latency with the cache off (every request
// evaluated), with in-process (L1) hits, and with shared Redis (L2) hits, for the example
// bundle and the ~2,000-policy multi-tenant bundle of ../shared/bench/scenarios/large.
//
//   npm run build && node bench/check-bench.mjs [--seconds 5] [--concurrency 32]
//
// Each server runs pinned to CPU 0 (taskset, when present); this closed-loop client runs in
// this process on CPU 1. Latencies are measured at the client. Redis is started privately on
// a free port. Bounded: 6 measurements of --seconds each plus start-up. Loopback only.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromJson } from "@bufbuild/protobuf";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({ options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "32" }, shared: { type: "string", default: join(root, "..", "shared") } } });
const { CheckRequestSchema, AuthorizationService } = await import(join(root, "dist/src/gen/verdict/v1/authorization_pb.js"));
const { createServiceClient } = await import(join(root, "dist/src/cli/grpc-client.js"));
const SECONDS = Number(opt.seconds);
const CONCURRENCY = Number(opt.concurrency);
try {
  execFileSync("taskset", ["-c", "1", "true"]);
  execFileSync("taskset", ["-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
} catch {}

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });

/** Requests for the example bundle: its test requests, varied by request-irrelevant context so keys differ. */
function exampleRequests(n) {
  const dir = join(root, "policies", "tests");
  const base = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).request);
  return Array.from({ length: n }, (_, i) => {
    const r = structuredClone(base[i % base.length]);
    r.context.sourceIp = { extension: { fn: "ip", arg: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } };
    return fromJson(CheckRequestSchema, r);
  });
}

/** Requests for the multi-tenant bundle: a user with tenant roles, a document in a tenant folder. */
function largeRequests(n) {
  const roles = ["admin", "employee", "editor", "auditor", "manager"];
  const actions = ["read", "edit", "delete", "share", "comment", "approve"];
  const depts = ["eng", "sales", "ops"];
  return Array.from({ length: n }, (_, i) => {
    const t = `t${String(i % 125).padStart(3, "0")}`;
    const folder = `${t}/${i % 3 === 0 ? "handbook" : "projects"}`;
    return fromJson(CheckRequestSchema, {
      principal: { uid: { type: "User", id: `u${i % 997}` }, attrs: { department: { string: depts[i % 3] }, clearance: { long: String(i % 5) } }, parents: [{ type: "Role", id: `${t}:${roles[i % roles.length]}` }] },
      action: { type: "Action", id: actions[i % actions.length] },
      resource: { uid: { type: "Document", id: `${t}-d${i}` }, attrs: { owner: { entity: { type: "User", id: `u${(i * 7) % 997}` } }, department: { string: depts[(i >> 1) % 3] }, classification: { string: ["public", "internal", "confidential"][i % 3] }, archived: { bool: false } }, parents: [{ type: "Folder", id: folder }] },
      context: { mfa: { bool: i % 2 === 0 }, ip: { extension: { fn: "ip", arg: "10.0.0.1" } } },
      entities: [{ uid: { type: "Folder", id: folder }, attrs: { department: { string: depts[i % 3] } }, parents: [{ type: "Tenant", id: t }] }],
    });
  });
}

function largeBundle() {
  const dir = mkdtempSync(join(tmpdir(), "verdict-large-"));
  cpSync(join(opt.shared, "bench/scenarios/large/cedar"), dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ name: "bench-large" }));
  return dir;
}

async function serve(policies, env) {
  const [grpc, http] = [await freePort(), await freePort()];
  const args = [join(root, "dist/src/main.js"), "serve", "--policies", policies, "--grpc-addr", `127.0.0.1:${grpc}`, "--http-addr", `127.0.0.1:${http}`];
  let cmd = process.execPath;
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    args.unshift("-c", "0", process.execPath);
    cmd = "taskset";
  } catch {}
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_WATCH: "false", VERDICT_BUNDLES_STATE_DIR: "/nonexistent", ...env } });
  await new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => { err += d; if (err.includes('"serving"')) resolve(); });
    child.on("exit", () => reject(new Error(err)));
  });
  const rss = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))[1]) / 1024);
  return { addr: `127.0.0.1:${grpc}`, rss, stop: () => child.kill("SIGTERM") };
}

async function measure(addr, requests) {
  const client = createServiceClient(AuthorizationService, addr);
  const lat = [];
  let failed = 0;
  const end = performance.now() + SECONDS * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const r = requests[next++ % requests.length];
      const t = performance.now();
      try { await client.call("check", r); lat.push(performance.now() - t); } catch { failed++; }
    }
  }));
  client.close();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]?.toFixed(2);
  return { rate: Math.round(lat.length / SECONDS), p50: q(0.5), p99: q(0.99), failed };
}

async function warm(addr, requests) {
  const client = createServiceClient(AuthorizationService, addr);
  for (let i = 0; i < requests.length; i += 64) await Promise.all(requests.slice(i, i + 64).map((r) => client.call("check", r)));
  client.close();
}

const redisPort = await freePort();
const redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
await new Promise((r) => setTimeout(r, 300));
const shared = { VERDICT_REDIS_URL: `redis://127.0.0.1:${redisPort}`, VERDICT_CACHE_MAC_SECRET: "bench-secret-0123456789" };
const large = largeBundle();
const rows = [];
for (const [name, policies, requests] of [["example (12 policies)", join(root, "policies"), exampleRequests(20_000)], ["multi-tenant (2,001 policies)", large, largeRequests(20_000)]]) {
  const hot = requests.slice(0, 256);
  let s = await serve(policies, { VERDICT_CACHE_ENABLED: "false" });
  rows.push({ bundle: name, mode: "cache off (every request evaluated)", ...(await measure(s.addr, requests)), rssMiB: s.rss() });
  s.stop();
  s = await serve(policies, {});
  await warm(s.addr, hot);
  rows.push({ bundle: name, mode: "L1 hits (256 hot requests)", ...(await measure(s.addr, hot)), rssMiB: s.rss() });
  s.stop();
  const a = await serve(policies, shared);
  await warm(a.addr, hot);
  const b = await serve(policies, { ...shared, VERDICT_CACHE_LOCAL_MAX_ENTRIES: "1" });
  rows.push({ bundle: name, mode: "L2 hits (Redis; L1 of one entry)", ...(await measure(b.addr, hot)), rssMiB: b.rss() });
  a.stop();
  b.stop();
}
redis.kill();
rmSync(large, { recursive: true, force: true });
console.log(`\nCheck over gRPC, ${CONCURRENCY} concurrent calls, ${SECONDS} s each, server on one core\n`);
console.log("| bundle | mode | decisions/s | p50 ms | p99 ms | failed | server RSS MiB |\n| --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.bundle} | ${r.mode} | ${r.rate} | ${r.p50} | ${r.p99} | ${r.failed} | ${r.rssMiB} |`);
process.exit(0);
