import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";
import { REPO } from "./helpers/bundles.js";

type Phase = { phase: string; requests: number; failed: number; wrong: number; revisions: Record<string, number>; notes: string[] };

// The short chaos run (bench/chaos.mjs): two replicas and Redis, under load, through a Redis
// kill and restart, a pause and resume, a valid and an invalid push, and a replica's SIGTERM.
it("two replicas keep answering correctly through Redis faults, pushes and a SIGTERM", { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [join(REPO, "bench", "chaos.mjs"), "--phase-seconds", "2", "--concurrency", "16", "--json"], { encoding: "utf8", timeout: 170_000 });
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { total: { requests: number; failed: number; wrong: number }; phases: Phase[] };
  assert.equal(r.status, 0, r.stdout + r.stderr.slice(-3000));
  assert.equal(report.total.failed, 0);
  assert.equal(report.total.wrong, 0);
  const phase = (name: string) => report.phases.find((p) => p.phase === name) ?? assert.fail(`no phase ${name}`);
  for (const p of report.phases) assert.ok(p.requests > 0, `${p.phase}: checks were answered`);
  assert.ok((phase("valid bundle pushed").revisions["chaos-2"] ?? 0) > 0, "the pushed revision decides");
  assert.deepEqual(Object.keys(phase("invalid bundle pushed").revisions), ["chaos-2"], "the refused bundle never decides");
  assert.match(phase("replica B SIGTERM").notes.join(" "), /exited with code 0/);
});
