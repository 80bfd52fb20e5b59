import type { Command } from "commander";
import { formatFinding, lintBundle } from "../authoring/lint-bundle.js";
import { LINT_RULES } from "../authoring/lint-rules.js";
import { BundleError } from "../bundle/bundle-error.js";
import { layoutBundle } from "../bundle/bundle-layout.js";
import { analyseBundle } from "../engine/authoring/bundle-analysis.js";
import { configFromFlags, fail } from "./cli-config.js";
import { loadOffline, type OfflineBundle } from "./offline-bundle.js";

/** Every lint finding of a compiled bundle, formatted `file:line [policy] rule: message` + fix. */
export function lintOffline(bundle: OfflineBundle): string[] {
  return lintBundle(analyseBundle(bundle.runtime, layoutBundle(bundle.files).sources)).map(formatFinding);
}

/** `verdict lint DIR`: misconfiguration rules over a bundle that validates; exit 1 on any finding. */
export function registerLint(program: Command): void {
  program
    .command("lint")
    .description('find policies that are valid but probably wrong (rule ids in --rules; silence one for one policy with @lint_allow("rule-id"))')
    .argument("[bundle]", "bundle directory or .tar.gz", "policies")
    .option("--rules", "list the rules and exit")
    .action(async (path: string, flags: { rules?: boolean }) => {
      if (flags.rules) {
        process.stdout.write(`${LINT_RULES.map((r) => `${r.id}\n    ${r.summary}`).join("\n")}\n`);
        return;
      }
      try {
        const findings = lintOffline(await loadOffline(path, configFromFlags({})));
        if (findings.length === 0) {
          process.stdout.write(`ok: no lint findings (${LINT_RULES.length} rules)\n`);
          return;
        }
        process.stdout.write(`${findings.join("\n")}\n${findings.length} finding${findings.length === 1 ? "" : "s"}\n`);
        process.exitCode = 1;
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${path}: ${(err as Error).message}`);
      }
    });
}
