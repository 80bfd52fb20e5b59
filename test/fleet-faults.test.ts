import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";
import { REPO } from "./helpers/bundles.js";

type Row = { phase: string; checks: number; failed: number; wrong: number; notes: string[] };

// The short run of bench/fleet-faults.mjs: two replicas and Redis behind a TCP proxy, under load,
// through a slow Redis, a flapping Redis, a restart storm with pushes and an event-loop stall.
it("two replicas answer every Check correctly through a slow and a flapping Redis, a restart storm and a stall", { timeout: 240_000 }, () => {
  const r = spawnSync(process.execPath, [join(REPO, "bench", "fleet-faults.mjs"), "--seconds", "2", "--json"], { encoding: "utf8", timeout: 230_000 });
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { total: { checks: number; failed: number; wrong: number }; phases: Row[] };
  assert.equal(r.status, 0, r.stdout + r.stderr.slice(-3000));
  assert.equal(report.total.failed, 0);
  assert.equal(report.total.wrong, 0);
  const phase = (prefix: string) => report.phases.find((p) => p.phase.startsWith(prefix)) ?? assert.fail(`no phase ${prefix}`);
  for (const p of report.phases) assert.ok(p.checks > 0, `${p.phase}: checks were answered`);
  for (const name of ["slow redis", "flapping redis", "restart storm"]) assert.match(phase(name).notes.join(" "), /both replicas on fault-\d+/, `${name}: the push reached both replicas`);
  assert.match(phase("event-loop stall").notes.join(" "), /\/readyz was false after the stall and true again/);
});
