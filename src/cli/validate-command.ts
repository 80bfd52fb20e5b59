import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { configFromFlags, fail } from "./cli-config.js";
import { lintOffline } from "./lint-command.js";
import { loadOffline } from "./offline-bundle.js";

/** `verdict validate DIR`: parse and validate a bundle, show warnings; exit 0, or 1 with diagnostics. */
export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check that a bundle parses and validates against its schema; warnings (Cedar's validator and `verdict lint`) are shown")
    .argument("<bundle>", "bundle directory or .tar.gz")
    .option("--strict-warnings", "fail (exit 1) on any warning too")
    .action(async (path: string, flags: { strictWarnings?: boolean }) => {
      const config = configFromFlags({});
      try {
        const bundle = await loadOffline(path, config);
        const s = bundle.snapshot;
        process.stdout.write(
          `ok: bundle "${s.name}" revision ${s.revision}: ${s.policies.policies.length} policies, ` +
            `${s.policies.hasSchema ? "validated against its schema" : "no schema"}, ${s.policies.staticEntityCount} static entities\n`,
        );
        const warnings = lintOffline(bundle);
        if (warnings.length > 0) {
          process.stdout.write(`${warnings.map((w) => `warning: ${w}`).join("\n")}\n${warnings.length} warning${warnings.length === 1 ? "" : "s"}${flags.strictWarnings ? "" : " (--strict-warnings makes them fail)"}\n`);
          if (flags.strictWarnings) process.exitCode = 1;
        }
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${path}: ${(err as Error).message}`);
      }
    });
}
