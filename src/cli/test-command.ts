import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { readPolicyTests } from "../bundle/policy-tests/policy-test-case.js";
import { formatTestReport, runPolicyTests } from "../bundle/policy-tests/run-policy-tests.js";
import { readBundlePath } from "../bundle/sources/read-bundle-path.js";
import { createContainer } from "../container.js";
import { TOKENS } from "../tokens.js";
import { configFromFlags, fail } from "./cli-config.js";
import { silentLogger } from "./silent-logger.js";

/** `verdict test DIR`: run a bundle's tests/ and print a report; exit 1 on any failure. */
export function registerTest(program: Command): void {
  program
    .command("test")
    .description("run a bundle's policy tests (tests/*.json|yaml)")
    .argument("<bundle>", "bundle directory or .tar.gz")
    .action(async (path: string) => {
      const config = configFromFlags({});
      try {
        const files = await readBundlePath(path, config.bundleLimits);
        const snapshot = await createContainer(config, silentLogger()).resolve(TOKENS.BundleLoader).load(files);
        const tests = readPolicyTests(files);
        if (tests.length === 0) {
          fail(`${path}: no tests found under tests/`);
          return;
        }
        const results = runPolicyTests(snapshot.policies, tests, config.limits, snapshot.trustedEntityTypes);
        process.stdout.write(`${formatTestReport(results)}\n`);
        if (results.some((r) => !r.passed)) process.exitCode = 1;
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${path}: ${(err as Error).message}`);
      }
    });
}
