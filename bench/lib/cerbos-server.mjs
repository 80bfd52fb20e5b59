// The Cerbos PDP under test: the binary from @cerbos/cerbos-linux-x64 (bench/.tools only), on
// 127.0.0.1, disk storage on the scenario's cerbos folder, audit and telemetry off, pinned to
// the server core.
import { spawn } from "node:child_process";
import { writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitHttp200, stopChild, tailOutput } from "./proc-tools.mjs";

const TOOLS = join(dirname(fileURLToPath(import.meta.url)), "..", ".tools");

// Path of the Cerbos binary shipped by the npm package.
export const CERBOS_BIN = join(TOOLS, "node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64");

// Starts Cerbos on `policyDir`; returns { url, pid, stop(), output() } once it reports healthy.
export async function startCerbos({ policyDir, core = 0, tmp }) {
  if (!existsSync(CERBOS_BIN)) throw new Error(`no Cerbos binary at ${CERBOS_BIN}: cd bench/.tools && npm install`);
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const config = join(tmp, `cerbos-${grpcPort}.yaml`);
  writeFileSync(config, [
    "server:",
    `  httpListenAddr: "127.0.0.1:${httpPort}"`,
    `  grpcListenAddr: "127.0.0.1:${grpcPort}"`,
    "storage:",
    "  driver: disk",
    "  disk:",
    `    directory: ${JSON.stringify(policyDir)}`,
    "    watchForChanges: false",
    "audit:",
    "  enabled: false",
    "telemetry:",
    "  disabled: true",
    "",
  ].join("\n"));
  const child = spawn("taskset", ["-c", String(core), CERBOS_BIN, "server", `--config=${config}`, "--log-level=error"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CERBOS_NO_TELEMETRY: "1" },
  });
  const output = tailOutput(child);
  try {
    // Cerbos compiles every policy before it answers: ~40 s of CPU for the 250 scoped files of "large".
    await waitHttp200(`http://127.0.0.1:${httpPort}/_cerbos/health`, { child, timeoutMs: 300000 });
  } catch (e) {
    await stopChild(child);
    throw new Error(`${e.message}\n${output()}`);
  }
  return { url: `http://127.0.0.1:${grpcPort}`, pid: child.pid, output, stop: () => stopChild(child) };
}
