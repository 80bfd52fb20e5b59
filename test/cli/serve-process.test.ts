import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { runCli, serveCli } from "../helpers/cli.js";

describe("verdict serve as a process", () => {
  const broken = writeBundle({ "manifest.json": '{"name":"broken"}', "a.cedar": `@id("x") permit(principal, action, resource);\n@id("x") permit(principal action, resource);` });
  after(() => broken.cleanup());

  it("serves a bundle, answers /readyz, and exits 0 on SIGTERM", async () => {
    const server = await serveCli(["--policies", EXAMPLE_BUNDLE]);
    const ready = await fetch(`http://${server.http}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { bundle: string }).bundle, "example-docs-api");
    assert.equal((await fetch(`http://${server.http}/healthz`)).status, 200);
    assert.equal(await server.stop(), 0);
  });

  it("refuses to start on an invalid bundle, printing diagnostics, exit code 1", () => {
    const r = runCli(["serve", "--policies", broken.dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a\.cedar:2:\d+/);
  });

  it("refuses a bad setting, naming it", () => {
    const r = runCli(["serve", "--grpc-addr", "nonsense"], { env: { VERDICT_LIMITS_MAX_DEPTH: "-5" } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /server\.grpcAddr must be HOST:PORT/);
    assert.match(r.stderr, /limits\.maxDepth must be a whole number|limits\.maxDepth must be between/);
  });

  it("validate and test report on a bundle", () => {
    const ok = runCli(["validate", EXAMPLE_BUNDLE]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /12 policies, validated against its schema/);
    const bad = runCli(["validate", broken.dir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /a\.cedar:2/);
    const tests = runCli(["test", EXAMPLE_BUNDLE]);
    assert.equal(tests.status, 0, tests.stdout);
    assert.match(tests.stdout, /\d+ passed, 0 failed/);
  });

  it("check decides a request file locally", () => {
    const req = join(EXAMPLE_BUNDLE, "tests", "viewer_cannot_delete_document.json");
    // The test file wraps the request; `check` takes the bare CheckRequest JSON on stdin.
    const body = JSON.stringify((JSON.parse(readFileSync(req, "utf8")) as { request: unknown }).request);
    const r = runCli(["check", "--policies", EXAMPLE_BUNDLE, "--request", "-"], { input: body });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { decision: string }).decision, "DECISION_DENY");
    // A policy test file is read as its request.
    const wrapped = runCli(["check", "--policies", EXAMPLE_BUNDLE, "--request", req]);
    assert.equal(wrapped.status, 0, wrapped.stderr);
    assert.equal((JSON.parse(wrapped.stdout) as { decision: string }).decision, "DECISION_DENY");
  });
});
