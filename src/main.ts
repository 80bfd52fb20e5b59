#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { Command } from "commander";
import { ConfigError } from "./config/load-config.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: a one-shot call such as
 * `verdict validate` must not pay for gRPC, Redis or the servers it never uses.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import("./cli/serve-command.js")).registerServe,
  validate: async () => (await import("./cli/validate-command.js")).registerValidate,
  lint: async () => (await import("./cli/lint-command.js")).registerLint,
  fmt: async () => (await import("./cli/fmt-command.js")).registerFmt,
  test: async () => (await import("./cli/test-command.js")).registerTest,
  check: async () => (await import("./cli/check-command.js")).registerCheck,
  plan: async () => (await import("./cli/plan-command.js")).registerPlan,
  replay: async () => (await import("./cli/replay-command.js")).registerReplay,
  config: async () => (await import("./cli/config-command.js")).registerConfig,
  bundle: async () => (await import("./cli/bundle-command.js")).registerBundle,
  status: async () => (await import("./cli/status-command.js")).registerStatus,
  anomalies: async () => (await import("./cli/anomalies-command.js")).registerAnomalies,
};
/** `keygen` is registered with `bundle`. */
const MODULE_OF: Record<string, string> = { keygen: "bundle" };

/** `verdict 0.1.0 (cedar-wasm 4.13.0, node v20…)`, read from package files, not by loading Cedar. */
function versionLine(): string {
  const require = createRequire(import.meta.url);
  const own = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  let cedar = "unknown";
  try {
    // The package exports no package.json; it sits one folder above the Node build.
    const root = dirname(dirname(require.resolve("@cedar-policy/cedar-wasm/nodejs")));
    cedar = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    // the version line must not fail because a package moved
  }
  return `verdict ${own.version} (cedar-wasm ${cedar}, node ${process.version})`;
}

/** Commands that run long enough for V8's optimizing Wasm compiler to pay for itself. */
const LONG_RUNNING = new Set(["serve", "replay"]);

async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  // --version answers after any command too (`verdict bundle push --version`).
  if (args.includes("--version") || args[0] === "-V") {
    process.stdout.write(`${versionLine()}\n`);
    return;
  }
  const program = new Command()
    .name("verdict")
    .description("Verdict: a Cedar policy decision point for zero-trust APIs")
    .version(versionLine(), "-V, --version", "print the version")
    .showHelpAfterError();
  const first = args.find((a) => !a.startsWith("-"));
  const name = first === undefined ? undefined : (MODULE_OF[first] ?? first);
  // A one-shot command calls Cedar a few hundred times: compiling its Wasm with the baseline
  // compiler only (no optimizing tier) roughly halves such a call, and changes no answer.
  // Set before Cedar's module is compiled, i.e. before any command module loads.
  if (name === undefined || !LONG_RUNNING.has(name)) setFlagsFromString("--liftoff-only");
  const wanted = name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((n) => COMMANDS[n]!()))) register(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `verdict: ${(err as Error).message}`}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
