import { loadConfig } from "../config/load-config.js";
import type { Config } from "../config/config-spec.js";

/** Flags shared by commands that read configuration, mapped to setting paths. */
export interface CommonFlags {
  config?: string;
  policies?: string;
  bundle?: string;
  grpcAddr?: string;
  httpAddr?: string;
  adminAddr?: string;
}

/** Builds the validated config for a command: its flags over env over the config file. */
export function configFromFlags(flags: CommonFlags, extra: Record<string, unknown> = {}): Config {
  return loadConfig({
    file: flags.config,
    env: process.env,
    flags: {
      "policies.dir": flags.policies,
      "policies.bundle": flags.bundle,
      "server.grpcAddr": flags.grpcAddr,
      "server.httpAddr": flags.httpAddr,
      "server.adminAddr": flags.adminAddr,
      ...extra,
    },
  });
}

/** Prints a message to stderr and sets a failing exit code. */
export function fail(message: string, code = 1): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = code;
}

/** All of standard input, as UTF-8 (for `--request -`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
