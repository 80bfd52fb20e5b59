import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";
import { REPO } from "./helpers/bundles.js";

// The short soak: the real server under busy/idle cycles for about a minute must stay alive
// with zero failed RPCs and zero wrong decisions (bench/soak.mjs; the long run is 10 minutes).
it("verdict serve survives busy/idle load cycles with every answer correct", { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, [join(REPO, "bench", "soak.mjs"), "--minutes", "1", "--busy", "6", "--idle", "4", "--concurrency", "16"], { encoding: "utf8", timeout: 170_000 });
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as { sent: number; failed: number; wrong: number; serverAlive: boolean };
  assert.equal(summary.serverAlive, true, r.stdout + r.stderr);
  assert.equal(summary.failed, 0);
  assert.equal(summary.wrong, 0);
  assert.ok(summary.sent > 1000, `${summary.sent} checks sent`);
  assert.equal(r.status, 0);
});
