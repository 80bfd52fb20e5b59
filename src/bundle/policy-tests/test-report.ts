import type { PolicyCoverage } from "./policy-coverage.js";
import type { PolicyTestResult } from "./run-policy-tests.js";

const expected = (r: PolicyTestResult) => `${r.test.expect.decision}${r.test.expect.determiningPolicies ? ` by [${r.test.expect.determiningPolicies.join(", ")}]` : ""}`;
const got = (r: PolicyTestResult) => ("error" in r.actual ? `error: ${r.actual.error}` : `${r.actual.decision} by [${r.actual.determiningPolicies.join(", ")}]`);

/**
 * A readable report: failures first (with what was expected and what came back), then the
 * passing tests unless `passes` is false, then a one-line summary.
 */
export function formatTestReport(results: readonly PolicyTestResult[], opts: { passes?: boolean } = {}): string {
  const failed = results.filter((r) => !r.passed);
  const lines = failed.map((r) => `FAIL ${r.test.name} (${r.test.file})\n     expected ${expected(r)}\n     got      ${got(r)}`);
  if (opts.passes !== false) lines.push(...results.filter((r) => r.passed).map((r) => `PASS ${r.test.name}`));
  lines.push(`${results.length - failed.length} passed, ${failed.length} failed`);
  return lines.join("\n");
}

/** The report as JSON: every result, and the coverage when given. */
export function testReportJson(results: readonly PolicyTestResult[], coverage?: PolicyCoverage): string {
  return JSON.stringify(
    {
      passed: results.filter((r) => r.passed).length,
      failed: results.filter((r) => !r.passed).length,
      results: results.map((r) => ({ name: r.test.name, file: r.test.file, passed: r.passed, expected: r.test.expect, actual: r.actual })),
      ...(coverage === undefined ? {} : { coverage }),
    },
    null,
    2,
  );
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The report as JUnit XML (one testsuite per test file), for CI systems that show test results. */
export function testReportJunit(results: readonly PolicyTestResult[]): string {
  const byFile = new Map<string, PolicyTestResult[]>();
  for (const r of results) byFile.set(r.test.file, [...(byFile.get(r.test.file) ?? []), r]);
  const suites = [...byFile].map(([file, rs]) => {
    const cases = rs.map((r) =>
      r.passed
        ? `    <testcase classname="${xml(file)}" name="${xml(r.test.name)}"/>`
        : `    <testcase classname="${xml(file)}" name="${xml(r.test.name)}">\n      <failure message="${xml(`expected ${expected(r)}, got ${got(r)}`)}"/>\n    </testcase>`,
    );
    return `  <testsuite name="${xml(file)}" tests="${rs.length}" failures="${rs.filter((r) => !r.passed).length}">\n${cases.join("\n")}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${results.filter((r) => !r.passed).length}">\n${suites.join("\n")}\n</testsuites>`;
}
