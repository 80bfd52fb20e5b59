// Verdict under test: `node dist/src/main.js serve` from a built checkout, pinned to the server
// core, serving a bundle directory assembled from the scenario's Cedar files. Ready when
// GET /readyz answers 200. Settings go in through VERDICT_* environment variables.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitHttp200, stopChild, tailOutput } from "./proc-tools.mjs";
import { SCENARIOS_DIR } from "./scenario-requests.mjs";

// Builds a Verdict bundle directory (the *.cedar files, schema.cedarschema, manifest.json)
// for a scenario under `tmp`; returns its path.
export function assembleBundle(scenario, tmp) {
  const src = join(SCENARIOS_DIR, scenario, "cedar");
  const dir = join(tmp, `bundle-${scenario}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith(".cedar") || f === "schema.cedarschema") copyFileSync(join(src, f), join(dir, f));
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify({ name: `bench-${scenario}` })}\n`);
  return dir;
}

// Settings every bench run of Verdict uses: no decision log (Cerbos runs with audit off), no
// folder watching, nothing persisted, quiet service log.
export const VERDICT_BENCH_ENV = {
  VERDICT_DECISION_LOG_DESTINATION: "off",
  VERDICT_BUNDLES_WATCH: "false",
  VERDICT_BUNDLES_STATE_DIR: "",
  VERDICT_LOG_LEVEL: "warn",
};

// Starts Verdict from `checkoutDir` on `bundleDir` with extra `env`; returns
// { url, pid, stop(), output() } once /readyz answers 200.
export async function startVerdict({ checkoutDir, bundleDir, core = 0, env = {}, tmp }) {
  const main = join(checkoutDir, "dist/src/main.js");
  if (!existsSync(main)) throw new Error(`no built Verdict at ${main} (git clone /work/main ${checkoutDir} && cd ${checkoutDir} && npm ci && npm run build)`);
  const [grpcPort, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const args = ["-c", String(core), process.execPath, main, "serve", "--policies", bundleDir,
    "--grpc-addr", `127.0.0.1:${grpcPort}`, "--http-addr", `127.0.0.1:${httpPort}`, "--admin-addr", `127.0.0.1:${adminPort}`];
  const child = spawn("taskset", args, { cwd: tmp, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...VERDICT_BENCH_ENV, ...env } });
  const output = tailOutput(child);
  try {
    await waitHttp200(`http://127.0.0.1:${httpPort}/readyz`, { child, timeoutMs: 300000 });
  } catch (e) {
    await stopChild(child);
    throw new Error(`${e.message}\n${output()}`);
  }
  return { url: `http://127.0.0.1:${grpcPort}`, httpUrl: `http://127.0.0.1:${httpPort}`, pid: child.pid, output, stop: () => stopChild(child, 15000) };
}
