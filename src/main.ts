#!/usr/bin/env node
import { Command } from "commander";
import { registerBundle } from "./cli/bundle-command.js";
import { registerCheck } from "./cli/check-command.js";
import { registerConfig } from "./cli/config-command.js";
import { registerPlan } from "./cli/plan-command.js";
import { registerReplay } from "./cli/replay-command.js";
import { registerServe } from "./cli/serve-command.js";
import { registerTest } from "./cli/test-command.js";
import { registerValidate } from "./cli/validate-command.js";
import { registerAnomalies } from "./cli/anomalies-command.js";
import { registerStatus } from "./cli/status-command.js";
import { ConfigError } from "./config/load-config.js";

/** The `verdict` command line. */
const program = new Command()
  .name("verdict")
  .description("Verdict: a Cedar policy decision point for zero-trust APIs")
  .showHelpAfterError();

registerServe(program);
registerValidate(program);
registerTest(program);
registerCheck(program);
registerPlan(program);
registerReplay(program);
registerConfig(program);
registerBundle(program);
registerStatus(program);
registerAnomalies(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `verdict: ${(err as Error).message}`}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
