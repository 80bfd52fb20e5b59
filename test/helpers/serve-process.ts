import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO } from "./bundles.js";

/** A `verdict serve` child process on free loopback ports (its own event loop, unlike startVerdict). */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  stop(): Promise<void>;
}

/**
 * Starts `verdict serve` with `args` and `VERDICT_*` settings in `env`, waits for its "serving"
 * line; the process is killed after `timeoutMs` whatever happens. Used by tests and bench/.
 */
export function serveProcess(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<ServeProcess> {
  const main = join(REPO, "dist", "src", "main.js");
  const child = spawn(process.execPath, [main, "serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env["PATH"] ?? "", VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_STATE_DIR: "", VERDICT_BUNDLES_WATCH: "false", ...env },
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  killer.unref();
  const exited = new Promise<void>((r) => child.once("exit", () => (clearTimeout(killer), r())));
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /"grpc":"([^"]+)","http":"([^"]+)"/.exec(err);
      if (m) {
        err = "";
        resolve({
          child,
          grpc: m[1]!,
          http: m[2]!,
          stop: () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
