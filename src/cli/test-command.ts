import type { Command } from "commander";
import { BundleError } from "../bundle/bundle-error.js";
import { coverageShortfall, formatCoverage, policyCoverage } from "../bundle/policy-tests/policy-coverage.js";
import { readPolicyTests } from "../bundle/policy-tests/policy-test-case.js";
import { runPolicyTests } from "../bundle/policy-tests/run-policy-tests.js";
import { formatTestReport, testReportJson, testReportJunit } from "../bundle/policy-tests/test-report.js";
import { configFromFlags, fail } from "./cli-config.js";
import { loadOffline } from "./offline-bundle.js";

/** Parses `--min-coverage`: a percentage from 0 to 100. */
export function minCoverageOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`--min-coverage must be a percentage from 0 to 100 (got ${raw})`);
  return n;
}

interface TestFlags {
  run?: string;
  format: string;
  minCoverage?: string;
}

/** `verdict test DIR`: run a bundle's tests/, report them and the policy coverage; exit 1 on any failure or shortfall. */
export function registerTest(program: Command): void {
  program
    .command("test")
    .description("run a bundle's policy tests (tests/*.json|yaml: single cases or test suites) and report which policies they cover")
    .argument("<bundle>", "bundle directory or .tar.gz")
    .option("--run <regex>", "run only the tests whose name matches (suite/test: principal action resource, or the file name)")
    .option("--format <format>", "text, json or junit", "text")
    .option("--min-coverage <percent>", "fail when fewer than this percentage of policies decide at least one test")
    .action(async (path: string, flags: TestFlags) => {
      if (!["text", "json", "junit"].includes(flags.format)) return fail(`--format must be text, json or junit (got ${flags.format})`, 2);
      let filter: RegExp | undefined;
      let min: number | undefined;
      try {
        filter = flags.run === undefined ? undefined : new RegExp(flags.run);
        min = minCoverageOption(flags.minCoverage);
      } catch (err) {
        return fail(`${(err as Error).message.replace(/^Invalid regular expression/, "--run: invalid regular expression")}`, 2);
      }
      const config = configFromFlags({});
      try {
        const { files, snapshot } = await loadOffline(path, config);
        const tests = readPolicyTests(files).filter((t) => filter === undefined || filter.test(t.name));
        if (tests.length === 0) return fail(filter === undefined ? `${path}: no tests found under tests/ (see README, "Writing policies")` : `${path}: no test name matches --run ${flags.run}`);
        const results = runPolicyTests(snapshot.policies, tests, config.limits, snapshot.trustedEntityTypes);
        const coverage = policyCoverage(snapshot.policies.policies, results);
        const out = flags.format === "json" ? testReportJson(results, coverage) : flags.format === "junit" ? testReportJunit(results) : `${formatTestReport(results)}\n${formatCoverage(coverage)}`;
        process.stdout.write(`${out}\n`);
        if (results.some((r) => !r.passed)) process.exitCode = 1;
        const short = min === undefined ? undefined : coverageShortfall(coverage, min);
        if (short !== undefined) fail(short);
      } catch (err) {
        fail(err instanceof BundleError ? err.message : `${path}: ${(err as Error).message}`);
      }
    });
}
