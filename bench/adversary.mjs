#!/usr/bin/env node
// Adversary benchmark: how long an ordinary Check waits because another caller sends the worst
// requests the request limits allow. One `verdict serve`, in one run:
//   quiet     one client, one connection, ordinary Checks back to back (each a cache miss)
//   attacked  the same, while adversaries on their own connections keep sending, without pause,
//             the most expensive requests the default limits accept:
//               hierarchy  Check: a 31-group chain with users under it, near limits.maxAncestorPairs
//               batch      BatchCheck: as many such items as limits.maxBatchEntities allows
//               envoy      ext_authz Check with a path of limits.maxPathLength characters
//             and, to show they are refused cheaply, the published stalls (1,000-group chain,
//             300-group dense DAG, 1,000 entities × 40 parents, a 3 MB Envoy path).
// It prints ordinary-Check latency percentiles for both phases and the extra p99 the adversary
// causes (goal: under 50 ms), plus what the adversary got done. Exits 1 on a wrong answer.
//
//   npm run build && node bench/adversary.mjs                  # ~30 s
//   node bench/adversary.mjs --seconds 5 --adversaries 2
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createServiceClient } from "../dist/src/cli/grpc-client.js";
import { DEFAULT_REQUEST_LIMITS as L } from "../dist/src/decision/request-limits.js";
import { Authorization, CheckRequestSchema as EnvoyCheckRequestSchema } from "../dist/src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService, BatchCheckRequestSchema, CheckRequestSchema, Decision } from "../dist/src/gen/verdict/v1/authorization_pb.js";
import { serveProcess } from "../dist/test/helpers/serve-process.js";
import { percentiles } from "./lib/stats.mjs";

const { values: opt } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    adversaries: { type: "string", default: "3" },
    kinds: { type: "string", default: "hierarchy,batch,envoy,stalls" },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log("node bench/adversary.mjs [--seconds 10] [--adversaries 3] [--kinds hierarchy,batch,envoy,stalls]");
  process.exit(0);
}
const seconds = Number(opt.seconds);
const adversaries = Number(opt.adversaries);
const kinds = opt.kinds.split(",");

const uid = (type, id) => ({ type, id });
const ent = (type, id, parents = []) => ({ uid: uid(type, id), parents });

/** An ordinary request: a user in two groups, a document; `i` makes each one a cache miss. */
const ordinary = (i) =>
  create(CheckRequestSchema, {
    principal: ent("User", `u${i}`, [uid("Group", "staff"), uid("Group", `team${i % 7}`)]),
    action: uid("Action", "read"),
    resource: ent("Doc", `d${i}`),
    entities: [ent("Group", "staff", [uid("Group", "g0")])],
  });

/** The most expensive hierarchy within the default limits: a chain as deep as allowed, users under it up to the pair budget. */
function worstHierarchy(tag) {
  const depth = L.maxHierarchyDepth - 1;
  const entities = [];
  for (let i = depth - 1; i > 0; i--) entities.push(ent("Group", `g${i}`, [uid("Group", `g${i - 1}`)]));
  const chainPairs = ((depth - 1) * depth) / 2;
  const leaves = Math.floor((L.maxAncestorPairs - chainPairs - depth) / depth) - 1;
  for (let j = 0; j < leaves; j++) entities.push(ent("User", `l${j}`, [uid("Group", `g${depth - 1}`)]));
  return create(CheckRequestSchema, { principal: ent("User", `adv-${tag}`, [uid("Group", `g${depth - 1}`)]), action: uid("Action", "read"), resource: ent("Doc", "d"), entities });
}

/** The published stalls, now refused: they must cost next to nothing. */
function publishedStalls(tag) {
  const chain = [];
  for (let i = 999; i > 0; i--) chain.push(ent("Group", `c${i}`, [uid("Group", `c${i - 1}`)]));
  const dag = Array.from({ length: 300 }, (_, i) => ent("Group", `h${i}`, Array.from({ length: i }, (_, j) => uid("Group", `h${j}`))));
  const flat = Array.from({ length: 1000 }, (_, i) => ent("User", `f${i}`, Array.from({ length: 40 }, (_, j) => uid("Group", `k${j}`))));
  const req = (entities) => create(CheckRequestSchema, { principal: ent("User", `s-${tag}`, [uid("Group", "c999")]), action: uid("Action", "read"), resource: ent("Doc", "d"), entities });
  return [req(chain), req(dag), req(flat)];
}

const envoyCheck = (path) => create(EnvoyCheckRequestSchema, { attributes: { request: { http: { method: "GET", path, host: "api", headers: {} } } } });

const dir = mkdtempSync(join(tmpdir(), "verdict-adversary-"));
writeFileSync(join(dir, "manifest.json"), '{"name":"adversary"}');
writeFileSync(join(dir, "p.cedar"), '@id("in-g0") permit(principal in Group::"g0", action, resource);\n@id("team3") forbid(principal in Group::"team3", action, resource);\n');
const server = await serveProcess(["--policies", dir], {}, (seconds * 4 + 120) * 1000);
let wrong = 0;
try {
  const ordinaryClient = createServiceClient(AuthorizationService, server.grpc);
  let counter = 0;
  async function measure(label) {
    const samples = [];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until) {
      const i = counter++;
      const t = performance.now();
      const res = await ordinaryClient.call("check", ordinary(i));
      samples.push(performance.now() - t);
      const want = i % 7 === 3 ? Decision.DENY : Decision.ALLOW;
      if (res.decision !== want) wrong++;
    }
    return { label, ...percentiles(samples), max: Math.max(...samples), n: samples.length };
  }

  const quiet = await measure("quiet");

  // Adversaries: each on its own connection(s), back to back, until told to stop.
  let stop = false;
  const done = { hierarchy: 0, batch: 0, envoy: 0, refusedStalls: 0, errors: 0 };
  const batchItems = Math.max(1, Math.floor(L.maxBatchEntities / worstHierarchy("x").entities.length));
  const loops = [];
  for (let a = 0; a < adversaries; a++) {
    const verdict = createServiceClient(AuthorizationService, server.grpc);
    const envoy = createServiceClient(Authorization, server.grpc);
    loops.push(
      (async () => {
        let n = 0;
        while (!stop) {
          const tag = `${a}-${n++}`; // distinct each time: never a cache hit
          const kind = ["hierarchy", "batch", "envoy", "stalls"].indexOf(kinds[n % kinds.length]);
          try {
            if (kind === 0) {
              await verdict.call("check", worstHierarchy(tag));
              done.hierarchy++;
            } else if (kind === 1) {
              const items = Array.from({ length: batchItems }, (_, k) => worstHierarchy(`${tag}-${k}`));
              await verdict.call("batchCheck", create(BatchCheckRequestSchema, { checks: items }));
              done.batch++;
            } else if (kind === 2) {
              await envoy.call("check", envoyCheck(`/${"a".repeat(L.maxPathLength - 1)}`));
              await envoy.call("check", envoyCheck(`/${"a".repeat(3 * 1024 * 1024)}`));
              done.envoy++;
            } else {
              for (const req of publishedStalls(tag)) await verdict.call("check", req).catch(() => done.refusedStalls++);
            }
          } catch {
            done.errors++;
          }
        }
        verdict.close();
        envoy.close();
      })(),
    );
  }
  await new Promise((r) => setTimeout(r, 500)); // let the adversaries get going
  const attacked = await measure("attacked");
  stop = true;
  await Promise.all(loops);
  ordinaryClient.close();

  const row = (r) => `${r.label.padEnd(9)} ${String(r.n).padStart(6)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)}`;
  console.log(`ordinary Checks on one connection, ${seconds} s per phase, ${adversaries} adversaries (limits: depth ${L.maxHierarchyDepth}, pairs ${L.maxAncestorPairs}, edges ${L.maxParentEdges}, batch entities ${L.maxBatchEntities}, path ${L.maxPathLength})`);
  console.log("phase          n   p50 ms   p99 ms   max ms");
  console.log(row(quiet));
  console.log(row(attacked));
  console.log(`extra p99 caused by the adversary: ${(attacked.p99 - quiet.p99).toFixed(2)} ms (goal: < 50 ms); p99 ratio ${(attacked.p99 / quiet.p99).toFixed(2)}`);
  console.log(`adversary: ${done.hierarchy} worst Checks, ${done.batch} worst BatchChecks of ${batchItems} items, ${done.envoy} Envoy pairs (max path + 3 MB path), ${done.refusedStalls} published stalls refused, ${done.errors} errors`);
  if (wrong > 0) console.log(`${wrong} WRONG ordinary answers`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(wrong > 0 ? 1 : 0);
