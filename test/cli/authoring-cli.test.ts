import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { runCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "verdict-authoring-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A copy of the example bundle to change. */
function exampleCopy(): string {
  const dir = join(tmp, `b${n++}`);
  cpSync(EXAMPLE_BUNDLE, dir, { recursive: true, filter: (src) => !src.includes("/examples") });
  return dir;
}

describe("verdict fmt", () => {
  it("--check lists unformatted files and names the fix; fmt formats them keeping comments and @id", () => {
    const dir = exampleCopy();
    const file = join(dir, "extra.cedar");
    writeFileSync(file, `// why this exists\n@id("ops-view")   permit(principal in App::Role::"admin",action==App::Action::"view",resource)  when {context.mfa};  // trailing note\n`);
    const check = runCli(["fmt", "--check", dir]);
    assert.equal(check.status, 1);
    assert.match(check.stdout, /not formatted: .*extra\.cedar/);
    assert.match(check.stdout, /run `verdict fmt /);
    assert.doesNotMatch(check.stdout, /roles\.cedar/, "the example bundle is formatted already");
    assert.equal(readFileSync(file, "utf8").includes("   permit("), true, "--check changed nothing");
    const fmt = runCli(["fmt", dir]);
    assert.equal(fmt.status, 0, fmt.stderr);
    const text = readFileSync(file, "utf8");
    assert.match(text, /^\/\/ why this exists\n@id\("ops-view"\)\npermit \(/);
    assert.match(text, /\/\/ trailing note/);
    assert.equal(runCli(["fmt", "--check", dir]).status, 0);
  });

  it("the example bundles are formatted; a file that does not parse is named with its line", () => {
    const ok = runCli(["fmt", "--check", EXAMPLE_BUNDLE]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const file = join(tmp, "broken.cedar");
    writeFileSync(file, `permit(principal, action, resource);\npermit(principal action, resource);\n`);
    const bad = runCli(["fmt", "--check", file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /broken\.cedar:2:\d+: .*unexpected token/);
  });
});

describe("verdict lint and validate warnings", () => {
  it("the example bundle lints clean", () => {
    const r = runCli(["lint", EXAMPLE_BUNDLE]);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^ok: no lint findings/);
  });

  it("validate shows a `when { false }` policy as a warning, and --strict-warnings fails on it", () => {
    const dir = exampleCopy();
    writeFileSync(join(dir, "dead.cedar"), `@id("dead")\npermit (principal, action, resource)\nwhen { false };\n`);
    const v = runCli(["validate", dir]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /warning: dead\.cedar:1 \[dead\] impossible-policy: can never apply/);
    assert.match(v.stdout, /fix: /);
    assert.match(v.stdout, /1 warning \(--strict-warnings makes them fail\)/);
    assert.equal(runCli(["validate", "--strict-warnings", dir]).status, 1);
    const lint = runCli(["lint", dir]);
    assert.equal(lint.status, 1);
    assert.match(lint.stdout, /dead\.cedar:1 \[dead\] impossible-policy/);
    assert.match(runCli(["lint", "--rules"]).stdout, /unconstrained-permit\n/);
  });
});

describe("verdict test: suites, filters, formats, coverage", () => {
  it("reads YAML suites and one-case JSON files, filters with --run, and reports coverage", () => {
    const all = runCli(["test", EXAMPLE_BUNDLE, "--min-coverage", "100"]);
    assert.equal(all.status, 0, all.stdout + all.stderr);
    assert.match(all.stdout, /PASS document_roles\/viewers only read: vic_viewer edit roadmap/);
    assert.match(all.stdout, /PASS viewer_cannot_delete_document/);
    assert.match(all.stdout, /coverage: 100% of policies decided at least one test \(12\/12\)/);
    const some = runCli(["test", EXAMPLE_BUNDLE, "--run", "^document_roles/viewers"]);
    assert.equal(some.status, 0, some.stdout);
    assert.match(some.stdout, /^5 passed, 0 failed$/m);
    assert.match(some.stdout, /never exercised:\n(.|\n)*admin-all \(roles\.cedar:2\)/);
    assert.match(some.stdout, /forbids that never denied a test:\n(.|\n)*tenant-isolation \(guardrails\.cedar:\d+\)/);
    const none = runCli(["test", EXAMPLE_BUNDLE, "--run", "no-such-test"]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no test name matches --run no-such-test/);
  });

  it("--format json and junit", () => {
    const json = JSON.parse(runCli(["test", EXAMPLE_BUNDLE, "--format", "json", "--run", "viewer_cannot"]).stdout) as { passed: number; failed: number; results: { name: string }[]; coverage: { percent: number; neverExercised: { id: string }[] } };
    assert.equal(json.failed, 0);
    assert.ok(json.passed >= 3 && json.results.every((r) => r.name.includes("viewer_cannot")));
    assert.ok(json.coverage.percent < 100 && json.coverage.neverExercised.length > 0);
    const junit = runCli(["test", EXAMPLE_BUNDLE, "--format", "junit"]).stdout;
    assert.match(junit, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites tests="\d+" failures="0">/);
    assert.match(junit, /<testsuite name="tests\/document_roles\.yaml" tests="13" failures="0">/);
    assert.equal(runCli(["test", EXAMPLE_BUNDLE, "--format", "xml"]).status, 2);
  });

  it("a failing test is listed first, and --min-coverage names the policies left uncovered", () => {
    const dir = exampleCopy();
    writeFileSync(join(dir, "extra.cedar"), `@id("never-tested")\npermit (principal, action == App::Action::"share", resource is App::Document)\nwhen { resource.classification == "shareable" };\n`);
    const short = runCli(["test", dir, "--min-coverage", "100"]);
    assert.equal(short.status, 1);
    assert.match(short.stderr, /policy coverage 92\.\d% is below the required 100%: add tests in which "never-tested" decides the outcome/);
    const yaml = readFileSync(join(dir, "tests", "document_roles.yaml"), "utf8").replace("delete: deny\n  - name: viewers", "delete: allow\n  - name: viewers");
    writeFileSync(join(dir, "tests", "document_roles.yaml"), yaml);
    const failing = runCli(["test", dir]);
    assert.equal(failing.status, 1);
    assert.match(failing.stdout, /^FAIL document_roles\/editors read, edit and share but do not delete: erin_editor delete roadmap \(tests\/document_roles\.yaml\)\n {5}expected allow\n {5}got {6}deny/);
    assert.match(failing.stdout, /\n\d+ passed, 1 failed\n/);
  });

  it("a malformed suite is refused naming the file and the problem", () => {
    const dir = exampleCopy();
    writeFileSync(join(dir, "tests", "bad.yaml"), `tests:\n  - name: x\n    principal: nobody\n    resource: r\n    actions: { view: allow }\n`);
    const r = runCli(["test", dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /tests\/bad\.yaml: tests\[0\]: principal "nobody" is not declared under "principals"/);
  });
});

describe("verdict bundle build gates", () => {
  it("--min-coverage refuses a bundle below it; failures come first; the server's verification key does not affect building", () => {
    const dir = exampleCopy();
    writeFileSync(join(dir, "extra.cedar"), `@id("never-tested")\npermit (principal, action == App::Action::"share", resource is App::Document)\nwhen { resource.classification == "shareable" };\n`);
    const out = join(tmp, "b.tar.gz");
    const short = runCli(["bundle", "build", dir, "-o", out, "--min-coverage", "100"]);
    assert.equal(short.status, 1);
    assert.match(short.stderr, /policy coverage .* is below the required 100%.*"never-tested".*; nothing written/);
    const built = runCli(["bundle", "build", dir, "-o", out, "--min-coverage", "90"], { env: { VERDICT_BUNDLES_VERIFICATION_KEY: join(tmp, "no-such-key.pem") } });
    assert.equal(built.status, 0, built.stderr);
    assert.match(built.stdout, /coverage 92\.\d%, unsigned/);
    writeFileSync(join(dir, "freeze.cedar"), `@id("edit-freeze")\nforbid (principal, action == App::Action::"edit", resource);\n`);
    const failing = runCli(["bundle", "build", dir, "-o", out]);
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /^policy tests failed; nothing written\nFAIL /);
    assert.doesNotMatch(failing.stderr, /PASS /);
    assert.match(failing.stderr, /\d+ passed, \d+ failed$/m);
  });
});
