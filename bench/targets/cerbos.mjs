// Target "cerbos": the Cerbos PDP on one core, the same requests as Verdict (no decision cache,
// so one workload of distinct requests is its cost for every mix).
import { join } from "node:path";
import { startCerbos } from "../lib/cerbos-server.mjs";
import { buildWorkload } from "../lib/workload-bodies.mjs";
import { measureGrpc } from "../lib/measure-grpc.mjs";
import { expectedFor, poolFor } from "../lib/expected-decisions.mjs";
import { toCerbosJson, SCENARIOS_DIR } from "../lib/scenario-requests.mjs";
import { CERBOS_CHECK_PATH, CERBOS_REQUEST_ID_TAG, encodeCerbosRequest, cerbosDecision } from "../lib/cerbos-codec.mjs";

// Rows for one scenario: Cerbos with the scoped policies (and the flat ones for "large" when
// opts.cerbosFlat is set).
export async function runCerbos(ctx, scenario) {
  const variants = scenario === "large" && ctx.opts.cerbosFlat ? [["cerbos", false], ["cerbos-flat", true]] : [["cerbos", false]];
  const rows = [];
  for (const [folder, flat] of variants) {
    const codec = { name: flat ? "cerbosflat" : "cerbos", tag: CERBOS_REQUEST_ID_TAG, toJson: (r) => toCerbosJson(r, { flat }), encode: encodeCerbosRequest };
    const w = buildWorkload({ workDir: ctx.workDir, codec, scenario, kind: "distinct", count: ctx.opts.requests, seed: ctx.opts.seed });
    const pool = poolFor(w);
    ctx.log(`cerbos ${scenario}${flat ? " (flat)" : ""}: starting`);
    const server = await startCerbos({ policyDir: join(SCENARIOS_DIR, scenario, folder), core: ctx.opts.serverCore, tmp: ctx.tmp });
    ctx.log(`cerbos ${scenario}: up`);
    try {
      const m = await measureGrpc({ ctx, server, path: CERBOS_CHECK_PATH, workload: w, decode: (b, i) => ({ decision: cerbosDecision(b, pool[i].action) }), expected: expectedFor(w) });
      rows.push({ target: flat ? "cerbos (flat)" : "cerbos", scenario, workload: "distinct", reference: !flat, ...m, cache: "none" });
    } finally {
      await server.stop();
    }
  }
  return rows;
}
