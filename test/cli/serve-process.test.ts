import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { EXAMPLE_BUNDLE, REPO, writeBundle } from "../helpers/bundles.js";

const MAIN = join(REPO, "dist", "src", "main.js");

/** Starts `verdict serve` as users do and waits for its "serving" log line. */
function serve(args: string[]): Promise<{ child: ChildProcess; grpc: string; http: string }> {
  const child = spawn(process.execPath, [MAIN, "serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /"grpc":"([^"]+)","http":"([^"]+)"/.exec(err);
      if (m) resolve({ child, grpc: m[1]!, http: m[2]! });
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

describe("verdict serve as a process", () => {
  const broken = writeBundle({ "manifest.json": '{"name":"broken"}', "a.cedar": `@id("x") permit(principal, action, resource);\n@id("x") permit(principal action, resource);` });
  after(() => broken.cleanup());

  it("serves a bundle, answers /readyz, and exits 0 on SIGTERM", async () => {
    const { child, http } = await serve(["--policies", EXAMPLE_BUNDLE]);
    const ready = await fetch(`http://${http}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { bundle: string }).bundle, "example-docs-api");
    assert.equal((await fetch(`http://${http}/healthz`)).status, 200);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  });

  it("refuses to start on an invalid bundle, printing diagnostics, exit code 1", () => {
    const r = spawnSync(process.execPath, [MAIN, "serve", "--policies", broken.dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a\.cedar:2:\d+/);
  });

  it("refuses a bad setting, naming it", () => {
    const r = spawnSync(process.execPath, [MAIN, "serve", "--grpc-addr", "nonsense"], { encoding: "utf8", env: { ...process.env, VERDICT_LIMITS_MAX_DEPTH: "-5" } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /server\.grpcAddr must be HOST:PORT/);
    assert.match(r.stderr, /limits\.maxDepth must be a whole number|limits\.maxDepth must be between/);
  });

  it("validate and test report on a bundle", () => {
    const ok = spawnSync(process.execPath, [MAIN, "validate", EXAMPLE_BUNDLE], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /12 policies, validated against its schema/);
    const bad = spawnSync(process.execPath, [MAIN, "validate", broken.dir], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /a\.cedar:2/);
    const tests = spawnSync(process.execPath, [MAIN, "test", EXAMPLE_BUNDLE], { encoding: "utf8" });
    assert.equal(tests.status, 0, tests.stdout);
    assert.match(tests.stdout, /\d+ passed, 0 failed/);
  });

  it("check decides a request file locally", () => {
    const req = join(EXAMPLE_BUNDLE, "tests", "viewer_cannot_delete_document.json");
    // The test file wraps the request; `check` takes the bare CheckRequest JSON on stdin.
    const body = JSON.stringify((JSON.parse(spawnSync("cat", [req], { encoding: "utf8" }).stdout) as { request: unknown }).request);
    const r = spawnSync(process.execPath, [MAIN, "check", "--policies", EXAMPLE_BUNDLE, "--request", "-"], { input: body, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { decision: string }).decision, "DECISION_DENY");
    // A policy test file is read as its request.
    const wrapped = spawnSync(process.execPath, [MAIN, "check", "--policies", EXAMPLE_BUNDLE, "--request", req], { encoding: "utf8" });
    assert.equal(wrapped.status, 0, wrapped.stderr);
    assert.equal((JSON.parse(wrapped.stdout) as { decision: string }).decision, "DECISION_DENY");
  });
});
