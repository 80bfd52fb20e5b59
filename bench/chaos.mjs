#!/usr/bin/env node
// Chaos load test: two `verdict serve` replicas sharing a private redis-server, under a steady
// mixed load of Checks (repeated and new questions), while in turn Redis is killed and
// restarted, paused and resumed, a valid bundle is pushed, an invalid bundle is pushed, and
// one replica gets SIGTERM. Every answer is compared with cedar-wasm's isAuthorized for the
// revision the answer names. Loopback only, bounded in time.
//
//   npm run build && node bench/chaos.mjs                     # 8 phases x 8 s (needs dist/, tests included)
//   node bench/chaos.mjs --phase-seconds 3 --json             # the short run the suite uses
//
// Exits 1 on any failed call (other than calls sent to the SIGTERMed replica after its
// SIGTERM, which it is entitled to refuse) or any wrong decision.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort, stopChild, tailOutput, waitHttp200 } from "./lib/proc-tools.mjs";
import { percentiles } from "./lib/stats.mjs";
import { rng } from "./lib/scenario-requests.mjs";

const { values: v } = parseArgs({
  options: {
    "phase-seconds": { type: "string", default: "8" },
    concurrency: { type: "string", default: "32" },
    json: { type: "boolean", default: false },
  },
});
const PHASE_MS = Number(v["phase-seconds"]) * 1000;
const CONCURRENCY = Number(v.concurrency);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(join(ROOT, "package.json"));
const cedar = require("@cedar-policy/cedar-wasm/nodejs");
const grpc = require("@grpc/grpc-js");
const { fromJson } = await import(join(ROOT, "node_modules/@bufbuild/protobuf/dist/esm/index.js"));
const { CheckRequestSchema } = await import(join(ROOT, "dist/src/gen/verdict/v1/authorization_pb.js"));
const { AuthorizationService } = await import(join(ROOT, "dist/src/gen/verdict/v1/authorization_pb.js"));
const { PolicyAdminService, PushBundleRequestSchema } = await import(join(ROOT, "dist/src/gen/verdict/v1/admin_pb.js"));
const { createServiceClient } = await import(join(ROOT, "dist/src/cli/grpc-client.js"));
const { packBundle } = await import(join(ROOT, "dist/src/bundle/signing/bundle-archive.js"));
const { cedarRequestOf } = await import(join(ROOT, "dist/test/helpers/cedar-oracle.js"));
const { create } = await import(join(ROOT, "node_modules/@bufbuild/protobuf/dist/esm/index.js"));

const TOKEN = "chaos-admin-token";
const log = (m) => process.stderr.write(`[chaos] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- bundles: the example bundle as revision chaos-1; chaos-2 adds a forbid on edits ----
const work = mkdtempSync(join(tmpdir(), "verdict-chaos-"));
const bundle1 = join(work, "bundle");
cpSync(join(ROOT, "policies"), bundle1, { recursive: true, filter: (src) => !src.includes(`${join(ROOT, "policies", "examples")}`) });
writeFileSync(join(bundle1, "manifest.json"), JSON.stringify({ name: "example-docs-api", revision: "chaos-1" }));
const FREEZE = `@id("chaos-edit-freeze")\nforbid(principal, action == App::Action::"edit", resource);\n`;
const cedarFiles = readdirSync(bundle1).filter((f) => f.endsWith(".cedar"));
const read = (f) => readFileSync(join(bundle1, f), "utf8");
const revisions = {
  "chaos-1": { policies: cedarFiles.map(read).join("\n") },
  "chaos-2": { policies: `${cedarFiles.map(read).join("\n")}\n${FREEZE}` },
};
const schema = read("schema.cedarschema");
const staticEntities = JSON.parse(read("entities.json"));
for (const r of Object.values(revisions)) {
  const parts = cedar.policySetTextToParts(r.policies);
  if (parts.type !== "success") throw new Error("chaos bundle policies do not parse");
  r.set = { staticPolicies: r.policies };
}
const files = (revision, extra) => {
  const m = new Map([["manifest.json", Buffer.from(JSON.stringify({ name: "example-docs-api", revision }))], ["schema.cedarschema", Buffer.from(schema)], ["entities.json", Buffer.from(read("entities.json"))]]);
  for (const f of cedarFiles) m.set(f, Buffer.from(read(f)));
  for (const [k, text] of Object.entries(extra)) m.set(k, Buffer.from(text));
  return m;
};
const validPush = await packBundle(files("chaos-2", { "freeze.cedar": FREEZE }));
const invalidPush = await packBundle(files("chaos-3", { "broken.cedar": "permit(principal, action resource);" }));

// ---- requests: a pool over the example schema, half of them repeated often ----
const R = rng(42);
const pick = (xs) => xs[Math.floor(R() * xs.length)];
const users = ["alice", "bob", "carol", "dave", "erin"];
const ent = (type, id) => ({ entity: { type, id } });
function request() {
  const tenant = () => ent("App::Tenant", pick(["acme", "globex"]));
  const isProject = R() < 0.25;
  const resource = isProject
    ? { uid: { type: "App::Project", id: pick(["apollo", "gemini"]) }, attrs: { tenant: tenant(), owner: ent("App::User", pick(users)), members: { set: { values: users.filter(() => R() < 0.5).map((u) => ent("App::User", u)) } } } }
    : { uid: { type: "App::Document", id: pick(["d1", "d2", "d3"]) }, attrs: { tenant: tenant(), owner: ent("App::User", pick(users)), department: { string: pick(["eng", "sales", "ops"]) }, classification: { string: pick(["public", "internal", "confidential"]) } } };
  return fromJson(CheckRequestSchema, {
    principal: { uid: { type: "App::User", id: pick(users) }, attrs: { tenant: tenant(), department: { string: pick(["eng", "sales", "ops"]) }, suspended: { bool: R() < 0.15 } }, parents: R() < 0.5 ? [{ type: "App::Role", id: pick(["admin", "editor", "viewer"]) }] : [] },
    action: { type: "App::Action", id: isProject ? pick(["createDocument", "manageMembers"]) : pick(["view", "comment", "edit", "delete", "share"]) },
    resource,
    context: { mfa: { bool: R() < 0.7 }, sourceIp: { extension: { fn: "ip", arg: pick(["10.1.2.3", "192.168.1.9", "203.0.113.7"]) } } },
  });
}
// 3,000 distinct questions; 200 of them get 80% of the traffic (cache hits), the rest are
// mostly first sightings (misses), and every one is a miss again after the bundle changes.
const pool = Array.from({ length: 3000 }, request);
const nextIndex = () => (R() < 0.8 ? Math.floor(R() * 200) : Math.floor(R() * pool.length));

// The oracle: cedar-wasm called directly on each revision's policies, with the tests' own
// conversion of the wire request (dist/test/helpers/cedar-oracle.js, written apart from
// Verdict's mapping); computed for the whole pool before the load starts, so checking an
// answer costs nothing during it.
const cedarCall = (req) => {
  const call = cedarRequestOf(req);
  return { ...call, entities: [...staticEntities, ...call.entities] };
};
const expected = {};
for (const [revision, r] of Object.entries(revisions)) {
  if (cedar.preparsePolicySet(revision, r.set).type !== "success" || cedar.preparseSchema(revision, schema).type !== "success") throw new Error(`oracle: ${revision} does not parse`);
  expected[revision] = pool.map((req) => {
    const a = cedar.statefulIsAuthorized({ ...cedarCall(req), preparsedPolicySetId: revision, preparsedSchemaName: revision, validateRequest: true });
    return a.type === "success" ? a.response.decision : `refused: ${a.errors.map((e) => e.message).join("; ")}`;
  });
}

// ---- processes: Redis on a fixed port (so it can come back where the replicas look) ----
const redisPort = await freePort();
let redis;
function startRedis() {
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  child.on("error", () => {});
  return child;
}
async function redisUp() {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = require("node:net").connect(redisPort, "127.0.0.1");
      s.on("error", () => resolve(false));
      s.on("connect", () => s.write("PING\r\n"));
      s.on("data", (d) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error("redis-server did not start (apt-get install -y redis-server)");
}

async function startReplica(name) {
  const [g, h, a] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    VERDICT_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`, VERDICT_CACHE_MAC_SECRET: "chaos-mac-secret-0123456789", VERDICT_ADMIN_TOKEN: TOKEN,
    VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_WATCH: "false", VERDICT_BUNDLES_STATE_DIR: "", VERDICT_LOG_LEVEL: "warn",
    VERDICT_BUNDLES_FANOUT_CHECK_MS: "500",
  };
  const child = spawn(process.execPath, [join(ROOT, "dist/src/main.js"), "serve", "--policies", bundle1, "--grpc-addr", `127.0.0.1:${g}`, "--http-addr", `127.0.0.1:${h}`, "--admin-addr", `127.0.0.1:${a}`], { env, stdio: ["ignore", "pipe", "pipe"] });
  const output = tailOutput(child);
  await waitHttp200(`http://127.0.0.1:${h}/readyz`, { child, timeoutMs: 60_000 });
  const client = createServiceClient(AuthorizationService, `127.0.0.1:${g}`);
  return { name, child, output, client, admin: createServiceClient(PolicyAdminService, `127.0.0.1:${a}`), inFlight: 0, accepting: true };
}

// ---- load ----
const stats = { phase: "warm-up", rows: {} };
const row = () => (stats.rows[stats.phase] ??= { requests: 0, failed: 0, wrong: 0, refusedAfterSigterm: 0, lat: [], revisions: {}, notes: [] });
let replicas;
let stopping = false;
let rr = 0;

async function worker() {
  while (!stopping) {
    const live = replicas.filter((r) => r.accepting);
    const target = live[rr++ % live.length];
    const i = nextIndex();
    const r = row();
    target.inFlight++;
    const t = performance.now();
    try {
      const res = await target.client.call("check", pool[i], undefined, { deadline: Date.now() + 5000 });
      r.lat.push((performance.now() - t) * 1000);
      r.requests++;
      r.revisions[res.bundleRevision] = (r.revisions[res.bundleRevision] ?? 0) + 1;
      const want = expected[res.bundleRevision]?.[i] ?? `an answer from a known revision, not ${res.bundleRevision}`;
      const got = res.decision === 1 ? "allow" : res.decision === 2 ? "deny" : `decision ${res.decision}`;
      if (got !== want) {
        r.wrong++;
        if (r.notes.length < 3) r.notes.push(`${target.name}: got ${got}, want ${want} (revision ${res.bundleRevision})`);
      }
    } catch (err) {
      r.requests++;
      r.failed++;
      if (r.notes.length < 3) r.notes.push(`${target.name}: ${err.code} ${err.details ?? err.message}`);
    } finally {
      target.inFlight--;
    }
  }
}

// ---- phases ----
const phases = [
  ["baseline", async () => {}],
  ["redis killed", async () => { redis.kill("SIGKILL"); }],
  ["redis restarted", async () => { redis = startRedis(); await redisUp(); }],
  ["redis paused", async () => { redis.kill("SIGSTOP"); }],
  ["redis resumed", async () => { redis.kill("SIGCONT"); }],
  ["valid bundle pushed", async () => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    const res = await replicas[0].admin.call("pushBundle", create(PushBundleRequestSchema, { bundle: validPush }), md, { deadline: Date.now() + 30_000 });
    if (!res.activated) row().notes.push("the valid bundle was not activated");
  }],
  ["invalid bundle pushed", async () => {
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    try {
      await replicas[0].admin.call("pushBundle", create(PushBundleRequestSchema, { bundle: invalidPush }), md, { deadline: Date.now() + 30_000 });
      row().failed++;
      row().notes.push("the invalid bundle was accepted");
    } catch (err) {
      if (err.code !== grpc.status.FAILED_PRECONDITION) { row().failed++; row().notes.push(`invalid push: ${err.code} ${err.details}`); }
    }
  }],
  ["replica B SIGTERM", async () => {
    const b = replicas[1];
    // A gateway stops sending to a replica that is shutting down; what it had sent must finish.
    b.accepting = false;
    const inFlight = b.inFlight;
    const exited = new Promise((r) => b.child.once("exit", (code, signal) => r({ code, signal })));
    b.child.kill("SIGTERM");
    const { code } = await exited;
    row().notes.push(`replica B had ${inFlight} calls in flight at SIGTERM; it exited with code ${code}`);
    if (code !== 0) row().failed++;
  }],
];

let exitCode = 0;
try {
  redis = startRedis();
  await redisUp();
  replicas = [await startReplica("A"), await startReplica("B")];
  log(`replicas up, Redis on ${redisPort}; ${phases.length} phases of ${PHASE_MS / 1000} s, ${CONCURRENCY} calls in flight`);
  const workers = Array.from({ length: CONCURRENCY }, worker);
  for (const [name, act] of phases) {
    stats.phase = name;
    log(name);
    const t0 = performance.now();
    await act();
    row().elapsed = 0;
    await sleep(Math.max(0, PHASE_MS - (performance.now() - t0)));
    row().elapsed = (performance.now() - t0) / 1000;
  }
  stopping = true;
  await Promise.all(workers);
} catch (err) {
  log(`aborted: ${err.stack ?? err}`);
  for (const r of replicas ?? []) log(`${r.name} output:\n${r.output()}`);
  exitCode = 1;
} finally {
  for (const r of replicas ?? []) { r.client.close(); r.admin.close(); await stopChild(r.child); }
  if (redis) { redis.kill("SIGCONT"); await stopChild(redis); }
  rmSync(work, { recursive: true, force: true });
}

const table = Object.entries(stats.rows).map(([phase, r]) => ({
  phase, requests: r.requests, failed: r.failed, wrong: r.wrong, rps: r.elapsed ? Math.round(r.requests / r.elapsed) : 0,
  ...Object.fromEntries(Object.entries(percentiles(r.lat)).map(([k, x]) => [k, x == null ? null : Math.round(x)])),
  revisions: r.revisions, notes: r.notes,
}));
const total = table.reduce((s, r) => ({ requests: s.requests + r.requests, failed: s.failed + r.failed, wrong: s.wrong + r.wrong }), { requests: 0, failed: 0, wrong: 0 });
if (total.failed || total.wrong || exitCode) exitCode = 1;
if (v.json) console.log(JSON.stringify({ total, phases: table }));
else {
  console.log("| phase | requests | req/s | failed | wrong | p50 µs | p99 µs | revisions answered | notes |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
  for (const r of table) console.log(`| ${r.phase} | ${r.requests} | ${r.rps} | ${r.failed} | ${r.wrong} | ${r.p50} | ${r.p99} | ${Object.entries(r.revisions).map(([k, n]) => `${k}: ${n}`).join(", ")} | ${r.notes.join("; ")} |`);
  console.log(`\ntotal: ${total.requests} checks, ${total.failed} failed, ${total.wrong} wrong`);
}
process.exit(exitCode);
