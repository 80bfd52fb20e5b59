#!/usr/bin/env node
// Per-operation costs behind docs/scaling.md, measured on this machine in one run: the Redis
// commands a decision causes (GET of a sealed decision, SET with TTL), their throughput on one
// pipelined connection, the HMAC seal/open, the request digest, a fleet push (seal + CAS write of
// the archive) and the PUBLISH fan-out. Needs `npm run build`; starts its own redis-server.
//
//   node bench/fleet-costs.mjs [--n 20000]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: v } = parseArgs({ options: { n: { type: "string", default: "20000" } } });
const N = Number(v.n);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (p) => import(join(ROOT, "dist", p));
const { startRedis } = await dist("test/helpers/redis-server.js");
const { ValueSealer } = await dist("src/cache/sealed-value.js");
const { cacheKey } = await dist("src/cache/cache-key.js");
const { fromCheckRequest } = await dist("src/server/authorization/check-mapping.js");
const { exampleRequest } = await dist("test/helpers/example-requests.js");
const { rng } = await dist("test/helpers/random.js");
const { packBundle } = await dist("src/bundle/signing/bundle-archive.js");
const { exampleFiles } = await dist("test/helpers/admin.js");
const { Redis } = await import(join(ROOT, "node_modules/ioredis/built/index.js"));

const rows = [];
const time = async (what, n, fn, unit = "op") => {
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  rows.push({ what, perOpUs: Math.round((ms * 1000) / n * 10) / 10, perSecond: Math.round(n / (ms / 1000)), unit });
};

const redis = await startRedis();
const client = new Redis(redis.url, { enableAutoPipelining: true });
const sealer = new ValueSealer("cost-secret-0123456789");
const r = rng(1);
const reqs = Array.from({ length: 1000 }, () => fromCheckRequest(exampleRequest(r)));
const evaluation = { decision: "allow", determiningPolicies: ["editors-edit", "owners-all"], errors: [] };
const keys = reqs.map((q) => cacheKey("default", "r1@0123456789abcdef", q, "strict"));
const sealed = keys.map((k) => sealer.seal(k, evaluation));
try {
  await time("request digest (canonical encoding + SHA-256)", N, async () => { for (let i = 0; i < N; i++) cacheKey("default", "scope", reqs[i % reqs.length], "strict"); });
  await time("seal a decision (HMAC-SHA256)", N, async () => { for (let i = 0; i < N; i++) sealer.seal(keys[i % keys.length], evaluation); });
  await time("open a sealed decision (HMAC check + parse)", N, async () => { for (let i = 0; i < N; i++) sealer.open(keys[i % keys.length], sealed[i % sealed.length]); });
  await time("Redis SET PX, one at a time (round trip)", 2000, async () => { for (let i = 0; i < 2000; i++) await client.set(keys[i % keys.length], sealed[i % sealed.length], "PX", 300000); });
  await time("Redis GET, one at a time (round trip)", 2000, async () => { for (let i = 0; i < 2000; i++) await client.get(keys[i % keys.length]); });
  await time("Redis GET, 64 in flight (auto-pipelined, one connection)", N, async () => {
    let i = 0;
    await Promise.all(Array.from({ length: 64 }, async () => { while (i < N) await client.get(keys[i++ % keys.length]); }));
  });
  const info = await client.info("commandstats");
  const usec = (cmd) => Number(new RegExp(`cmdstat_${cmd}:calls=\\d+,usec=\\d+,usec_per_call=([\\d.]+)`).exec(info)?.[1]);
  rows.push({ what: "redis-server CPU per GET (INFO commandstats)", perOpUs: usec("get"), perSecond: Math.round(1e6 / usec("get")), unit: "op" });
  rows.push({ what: "redis-server CPU per SET (INFO commandstats)", perOpUs: usec("set"), perSecond: Math.round(1e6 / usec("set")), unit: "op" });
  const archive = Buffer.from(await packBundle(exampleFiles()));
  await time(`fleet record write (${archive.length}-byte archive, Lua compare-and-set)`, 200, async () => {
    for (let i = 0; i < 200; i++) await client.eval("redis.call('DEL', KEYS[1]) redis.call('HSET', KEYS[1], unpack(ARGV)) return 1", 1, "verdict:v1:cost:bundle", "seq", String(i), "archive", archive);
  });
  const subs = await Promise.all(Array.from({ length: 50 }, async () => { const s = new Redis(redis.url); await s.subscribe("verdict:v1:cost:bundles"); return s; }));
  let got = 0;
  for (const s of subs) s.on("message", () => got++);
  await time("PUBLISH to 50 subscribed replicas (until all received)", 200, async () => {
    for (let i = 0; i < 200; i++) { const want = got + 50; await client.publish("verdict:v1:cost:bundles", String(i)); while (got < want) await new Promise((res) => setImmediate(res)); }
  });
  for (const s of subs) s.disconnect();
} finally {
  client.disconnect();
  await redis.kill();
}
console.log("| operation | µs per op | ops/s |\n| --- | ---: | ---: |");
for (const row of rows) console.log(`| ${row.what} | ${row.perOpUs} | ${row.perSecond.toLocaleString("en")} |`);
