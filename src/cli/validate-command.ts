import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { TOKENS } from "../tokens.js";
import { configFromFlags, fail } from "./cli-config.js";
import { silentLogger } from "./silent-logger.js";

/** `verdict validate DIR`: parse and validate a bundle; exit 0, or 1 with diagnostics. */
export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check that a bundle parses and validates against its schema")
    .argument("<bundle>", "bundle directory or .tar.gz")
    .action(async (path: string) => {
      const config = configFromFlags({});
      const loader = createContainer(config, silentLogger()).resolve(TOKENS.BundleLoader);
      try {
        const s = await loader.load(await readBundlePath(path, config.bundleLimits));
        process.stdout.write(`ok: bundle "${s.name}" revision ${s.revision}: ${s.policies.policies.length} policies, ` +
          `${s.policies.hasSchema ? "validated against its schema" : "no schema"}, ${s.policies.staticEntityCount} static entities\n`);
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${path}: ${(err as Error).message}`);
      }
    });
}
