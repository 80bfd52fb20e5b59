import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";
import { REPO } from "../helpers/bundles.js";

// test/fixtures/v8-externref-lazy-deopt.mjs: an optimized function calls a wasm export that
// returns externref and is lazily deoptimized when the call returns — the V8 defect behind the
// crash on Verdict's request path (docs/process-stability.md). Node 20 and 22 abort (SIGTRAP,
// status 133) unless JS→Wasm call inlining is off, which loading Verdict's engine ensures.
const FIXTURE = join(REPO, "test/fixtures/v8-externref-lazy-deopt.mjs");
const run = (preload: boolean) =>
  spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `process.argv = [process.argv[0], "fixture", "externref", "loop"];
       ${preload ? `await import(${JSON.stringify(join(REPO, "dist/src/engine/cedar-runtime.js"))});` : ""}
       await import(${JSON.stringify(FIXTURE)});`,
    ],
    { encoding: "utf8", timeout: 120_000 },
  );

it("loading the engine turns off the V8 optimization that crashes the process", () => {
  const guarded = run(true);
  assert.equal(guarded.status, 0, guarded.stderr.slice(0, 300));
  assert.match(guarded.stdout, /survived/);
  if (Number(process.versions.node.split(".")[0]) < 24) {
    const unguarded = run(false);
    assert.equal(unguarded.signal ?? unguarded.status, unguarded.signal ? "SIGTRAP" : 133, "the control still shows the defect on this Node version");
  }
});
