import type { Command } from "commander";
import { redactConfig } from "../config/redact-config.js";
import { settingsMarkdown } from "../config/settings-table.js";
import { type CommonFlags, configFromFlags } from "./cli-config.js";

/** `verdict config`: print the effective configuration (or the table of every setting). */
export function registerConfig(program: Command): void {
  program
    .command("config")
    .description("print the effective configuration as JSON (flags > VERDICT_* env > file > defaults); secrets show only that they are set")
    .option("--config <file>", "config file (JSON or YAML)")
    .option("--settings", "print the table of every setting (Markdown) instead")
    .action((flags: CommonFlags & { settings?: boolean }) => {
      process.stdout.write(flags.settings ? `${settingsMarkdown()}\n` : `${JSON.stringify(redactConfig(configFromFlags(flags)), null, 2)}\n`);
    });
}
