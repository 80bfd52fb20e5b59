import { type ChildProcess, execFile, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./bundles.js";

/** The built CLI. */
export const MAIN = join(REPO, "dist", "src", "main.js");

/** Longest any one CLI call may take in a test before it is killed (and the test fails). */
export const CLI_TIMEOUT_MS = 60_000;

/**
 * The folder CLI processes start in: empty and private to this test process, so no state in
 * the caller's working directory (a `.verdict/` folder, a `policies/`) can change an answer.
 */
export const CLI_CWD = mkdtempSync(join(tmpdir(), "verdict-cli-cwd-"));
process.once("exit", () => rmSync(CLI_CWD, { recursive: true, force: true }));

/** The environment a CLI process gets: the caller's without any VERDICT_* setting, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VERDICT_")));
  return { ...env, ...extra };
}

/** Options of one CLI call. */
export interface CliOptions {
  readonly input?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

/** Runs `verdict ARGS` as a user would, killed after CLI_TIMEOUT_MS. */
export function runCli(args: readonly string[], opts: CliOptions = {}): SpawnSyncReturns<string> {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    cwd: opts.cwd ?? CLI_CWD,
    env: cliEnv(opts.env),
    timeout: CLI_TIMEOUT_MS,
    killSignal: "SIGKILL",
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  if (r.error !== undefined) throw new Error(`verdict ${args.join(" ")}: ${r.error.message}`);
  return r;
}

/** Like `runCli` without blocking the event loop (for calls on a server this process runs). */
export function runCliAsync(args: readonly string[], opts: CliOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd: opts.cwd ?? CLI_CWD, env: cliEnv(opts.env), timeout: CLI_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
        if (e?.killed) return reject(new Error(`verdict ${args.join(" ")}: killed after ${CLI_TIMEOUT_MS} ms\n${stderr}`));
        if (e && typeof e.code !== "number") return reject(e);
        resolve({ code: e ? (e.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/** A `verdict serve` process; `stop` sends SIGTERM and resolves with its exit code. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  /** Everything it wrote to stderr so far (service logs). */
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `verdict serve ARGS` on free loopback ports; killed if it is not serving within the timeout or still alive then. */
export function serveCli(args: readonly string[], opts: CliOptions = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, "serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", ...args], {
    cwd: opts.cwd ?? CLI_CWD,
    env: cliEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), CLI_TIMEOUT_MS);
  killer.unref();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => (clearTimeout(killer), r(code))));
  return new Promise((resolve, reject) => {
    let err = "";
    child.stdout!.resume();
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /"grpc":"([^"]+)","http":"([^"]+)"/.exec(err);
      if (m) {
        resolve({
          child,
          grpc: m[1]!,
          http: m[2]!,
          stderr: () => err,
          stop: () => {
            if (child.exitCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
