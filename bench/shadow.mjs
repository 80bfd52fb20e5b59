#!/usr/bin/env node
// Shadow evaluation overhead: p99 Check latency with a shadow bundle evaluated for 100% of the
// requests, against the same server with no shadow, in one run.
//
//   npm run build && node bench/shadow.mjs                      # ~1 minute
//   node bench/shadow.mjs --rate 300 --seconds 8 --rounds 3 --workloads hit,miss
//
// `verdict serve` (this checkout's dist/, the example bundle, decision log off, shadow.sampleRate
// 1) runs pinned to CPU 0; this process, the load generator, pins itself to CPU 1. The load is
// open loop: requests leave at a fixed rate (--rate per second) whatever the answers do, and
// each latency runs from send to answer. Phases without and with a shadow alternate (off/on,
// then on/off, ... --rounds times, --seconds each), so drift on a shared machine hits both
// alike. "With" = PushBundle(shadow) of the example bundle minus its `editor-documents` permit
// (so some evaluations diverge and are counted and logged); "without" = ActivateBundle of the
// active revision, which ends the shadow. Workloads:
//   hit  — 200 requests sent once first, then cycled: the active bundle answers from its cache,
//          the shadow evaluates every one of them (its worst case relative to the baseline);
//   miss — every request distinct: both evaluate every request.
// Prints per workload and mode: answers, p50/p90/p99, shadow evaluations/drops/divergences in
// the "on" phases, and the p99 ratio on/off. Exits 1 if an RPC fails or, in the hit workload,
// an answer differs from the one given before any shadow. Loopback only, bounded in time.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { freePort, stopChild, tailOutput, waitHttp200 } from "./lib/proc-tools.mjs";
import { percentiles } from "./lib/stats.mjs";
import { rng } from "./lib/scenario-requests.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: opt } = parseArgs({
  options: {
    rate: { type: "string", default: "250" },
    seconds: { type: "string", default: "6" },
    rounds: { type: "string", default: "2" },
    workloads: { type: "string", default: "hit,miss" },
    policies: { type: "string", default: join(root, "policies") },
  },
});
const RATE = Number(opt.rate);
const SECONDS = Number(opt.seconds);
const ROUNDS = Number(opt.rounds);
const REMOVED = "editor-documents";
const TOKEN = "bench-shadow-token";

const dist = (p) => import(join(root, "dist/src", p));
const { CheckRequestSchema, AuthorizationService } = await dist("gen/verdict/v1/authorization_pb.js");
const { PolicyAdminService, PushBundleRequestSchema, ActivateBundleRequestSchema, GetActiveBundleRequestSchema } = await dist("gen/verdict/v1/admin_pb.js");
const { createServiceClient } = await dist("cli/grpc-client.js");
const { packBundle } = await dist("bundle/signing/bundle-archive.js");
const { readBundlePath } = await dist("bundle/sources/read-bundle-path.js");
const { DEFAULT_BUNDLE_READ_LIMITS } = await dist("bundle/bundle-files.js");

const taskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return true;
  } catch {
    return false;
  }
})();
if (taskset) execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });

// The shadow candidate: the example bundle without one permit (and the tests that name it).
const tmp = mkdtempSync(join(tmpdir(), "verdict-bench-shadow-"));
const candidateDir = join(tmp, "candidate");
cpSync(opt.policies, candidateDir, { recursive: true });
for (const f of readdirSync(candidateDir, { recursive: true })) {
  const path = join(candidateDir, f);
  if (f.endsWith(".cedar")) writeFileSync(path, readFileSync(path, "utf8").replace(new RegExp(`@id\\("${REMOVED}"\\)[^;]*;`), ""));
  if (f.startsWith("tests/") && readFileSync(path, "utf8").includes(`"${REMOVED}"`)) rmSync(path);
}
writeFileSync(join(candidateDir, "manifest.json"), JSON.stringify({ name: "example-docs-api", revision: "bench-shadow" }));
const shadowArchive = await packBundle(await readBundlePath(candidateDir, DEFAULT_BUNDLE_READ_LIMITS));

// Random schema-valid requests for the example bundle; `i` makes the resource distinct.
function exampleRequest(r, i) {
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const users = ["alice", "bob", "carol", "dave", "erin"];
  const e = (type, id) => ({ entity: { type, id } });
  const tenant = () => e("App::Tenant", pick(["acme", "globex"]));
  const doc = r() < 0.8;
  const resource = doc
    ? { uid: { type: "App::Document", id: `d${i}` }, attrs: { tenant: tenant(), owner: e("App::User", pick(users)), department: { string: pick(["eng", "sales"]) }, classification: { string: pick(["public", "internal", "confidential"]) } } }
    : { uid: { type: "App::Project", id: `p${i}` }, attrs: { tenant: tenant(), owner: e("App::User", pick(users)), members: { set: { values: users.filter(() => r() < 0.5).map((u) => e("App::User", u)) } } } };
  return fromJson(CheckRequestSchema, {
    principal: { uid: { type: "App::User", id: pick(users) }, attrs: { tenant: tenant(), department: { string: pick(["eng", "sales"]) }, suspended: { bool: r() < 0.1 } }, parents: r() < 0.7 ? [{ type: "App::Role", id: pick(["admin", "editor", "viewer"]) }] : [] },
    action: { type: "App::Action", id: doc ? pick(["view", "comment", "edit", "delete", "share"]) : pick(["createDocument", "manageMembers"]) },
    resource,
    context: { mfa: { bool: r() < 0.7 }, sourceIp: { extension: { fn: "ip", arg: pick(["10.1.2.3", "192.168.1.9"]) } } },
  });
}

// The server under test.
const [grpcPort, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
const serveArgs = [join(root, "dist/src/main.js"), "serve", "--policies", opt.policies, "--grpc-addr", `127.0.0.1:${grpcPort}`, "--http-addr", `127.0.0.1:${httpPort}`, "--admin-addr", `127.0.0.1:${adminPort}`];
const env = { ...process.env, VERDICT_ADMIN_TOKEN: TOKEN, VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_WATCH: "false", VERDICT_BUNDLES_STATE_DIR: "", VERDICT_SHADOW_SAMPLE_RATE: "1" };
const child = taskset ? spawn("taskset", ["-c", "0", process.execPath, ...serveArgs], { cwd: tmp, env, stdio: ["ignore", "pipe", "pipe"] }) : spawn(process.execPath, serveArgs, { cwd: tmp, env, stdio: ["ignore", "pipe", "pipe"] });
const output = tailOutput(child);
const httpUrl = `http://127.0.0.1:${httpPort}`;
await waitHttp200(`${httpUrl}/readyz`, { child, timeoutMs: 60_000 });

const client = createServiceClient(AuthorizationService, `127.0.0.1:${grpcPort}`);
const adminClient = createServiceClient(PolicyAdminService, `127.0.0.1:${adminPort}`);
const md = new grpc.Metadata();
md.set("authorization", `Bearer ${TOKEN}`);
const adminCall = (method, schema, fields) => adminClient.call(method, create(schema, fields), md);
const activeRevision = (await adminCall("getActiveBundle", GetActiveBundleRequestSchema, {})).bundle.revision;
const shadowOn = () => adminCall("pushBundle", PushBundleRequestSchema, { bundle: shadowArchive, shadow: true });
const shadowOff = () => adminCall("activateBundle", ActivateBundleRequestSchema, { revision: activeRevision });

async function counters() {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const sum = (name, label = "") => text.split("\n").filter((l) => l.startsWith(name) && l.includes(label)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  return { evaluated: sum("verdict_shadow_evaluations_total"), dropped: sum("verdict_shadow_dropped_total"), diverged: sum("verdict_shadow_divergences_total{") };
}

let failed = 0;
let changed = 0;
let firstError = "";

// Open loop: request k leaves at start + k/RATE seconds; latencies in µs.
async function phase(next, expect) {
  const latencies = [];
  let inflight = 0;
  let sent = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now < end) {
        const due = Math.floor(((now - start) * RATE) / 1000);
        for (; sent < due; sent++) {
          const { request, key } = next();
          const t0 = performance.now();
          inflight++;
          client.call("check", request, undefined, { deadline: Date.now() + 10_000 }).then(
            (res) => {
              latencies.push((performance.now() - t0) * 1000);
              if (expect && expect.get(key) !== res.decision) changed++;
            },
            (err) => {
              failed++;
              firstError ||= String(err.details ?? err.message ?? err);
            },
          ).finally(() => {
            if (--inflight === 0 && performance.now() >= end) resolve();
          });
        }
        setTimeout(tick, 1);
      } else if (inflight === 0) resolve();
    };
    tick();
  });
  return { latencies, seconds: (performance.now() - start) / 1000 };
}

const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`);
const results = [];
for (const workload of opt.workloads.split(",")) {
  const r = rng(workload === "hit" ? 7 : 11);
  let i = 0;
  let next;
  let expect;
  if (workload === "hit") {
    const pool = Array.from({ length: 200 }, (_, k) => exampleRequest(r, k));
    expect = new Map();
    for (let k = 0; k < pool.length; k++) expect.set(k, (await client.call("check", pool[k])).decision);
    next = () => ({ request: pool[i % pool.length], key: i++ % pool.length });
  } else if (workload === "miss") {
    next = () => ({ request: exampleRequest(r, `${workload}-${i}`), key: i++ });
  } else {
    throw new Error(`--workloads: unknown workload ${workload} (hit, miss)`);
  }
  await phase(next, expect); // warm-up, not counted
  const by = { off: [], on: [] };
  const shadow = { evaluated: 0, dropped: 0, diverged: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
      if (mode === "on") await shadowOn();
      const before = await counters();
      const { latencies } = await phase(next, expect);
      const after = await counters();
      if (mode === "on") {
        await shadowOff();
        for (const k of Object.keys(shadow)) shadow[k] += after[k] - before[k];
      }
      by[mode].push(...latencies);
    }
  }
  const off = percentiles(by.off);
  const on = percentiles(by.on);
  results.push({ workload, off, on, answers: { off: by.off.length, on: by.on.length }, shadow, ratio: on.p99 / off.p99 });
}

client.close();
adminClient.close();
await stopChild(child);
rmSync(tmp, { recursive: true, force: true });

console.log(`rate ${RATE}/s open loop, ${ROUNDS} × ${SECONDS} s per mode, server on CPU 0${taskset ? "" : " (no taskset: unpinned)"}, load on CPU 1`);
console.log("| workload | shadow | answers | p50 | p90 | p99 | shadow evaluated / dropped / diverged | p99 on ÷ off |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |");
for (const x of results) {
  console.log(`| ${x.workload} | off | ${x.answers.off} | ${fmt(x.off.p50)} | ${fmt(x.off.p90)} | ${fmt(x.off.p99)} | — | |`);
  console.log(`| ${x.workload} | 100% | ${x.answers.on} | ${fmt(x.on.p50)} | ${fmt(x.on.p90)} | ${fmt(x.on.p99)} | ${x.shadow.evaluated} / ${x.shadow.dropped} / ${x.shadow.diverged} | **${x.ratio.toFixed(2)}×** |`);
}
console.log(`failed RPCs: ${failed}${firstError ? ` (first: ${firstError})` : ""}; answers that changed under the shadow (hit workload): ${changed}`);
if (failed > 0 || changed > 0) {
  console.error(output());
  process.exit(1);
}
