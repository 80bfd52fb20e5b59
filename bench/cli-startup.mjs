#!/usr/bin/env node
// How long a one-shot `verdict` call takes, end to end (process start to exit), as an author
// runs it: median of --runs runs per command. With --baseline DIR (another built checkout,
// e.g. `git worktree add /tmp/v-main main && (cd /tmp/v-main && npm ci && npm run build)`)
// both are measured in the same run, interleaved, and the ratio is printed: this machine is
// shared and noisy, only same-run ratios mean anything.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({ options: { runs: { type: "string", default: "5" }, baseline: { type: "string" }, bundle: { type: "string" } } });
const here = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundle = o.bundle ?? join(here, "policies");
const COMMANDS = [["--version"], ["validate", bundle], ["test", bundle], ["lint", bundle], ["fmt", "--check", bundle]];

function time(dir, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(dir, "dist/src/main.js"), ...args], { encoding: "utf8", timeout: 120_000, cwd: "/tmp" });
  if (r.error) throw r.error;
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, status: r.status };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const args of COMMANDS) {
  const mine = [];
  const base = [];
  let status;
  for (let i = 0; i < Number(o.runs); i++) {
    const m = time(here, args);
    status = m.status;
    mine.push(m.ms);
    if (o.baseline) base.push(time(o.baseline, args).ms);
  }
  const label = `verdict ${args.map((a) => (a === bundle ? "BUNDLE" : a)).join(" ")}`.padEnd(32);
  const b = o.baseline ? `   baseline ${median(base).toFixed(0)} ms   ratio ${(median(base) / median(mine)).toFixed(2)}x` : "";
  console.log(`${label} ${median(mine).toFixed(0).padStart(6)} ms (exit ${status})${b}`);
}
