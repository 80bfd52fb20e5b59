import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { Decision, type CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import { admin, allowed, noEdits, servedRevision, TOKEN, waitForRevision, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { runCli } from "../helpers/cli.js";
import { startVerdict } from "../helpers/start-verdict.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "verdict-sources-"));
const exampleRevision = async () => {
  const v = await startVerdict(EXAMPLE_BUNDLE);
  try {
    return await servedRevision(v);
  } finally {
    await v.stop();
  }
};

describe("bundle sources", () => {
  it("a watched folder reloads on change; a broken edit keeps the last good bundle", async () => {
    const dir = tempDir();
    cpSync(EXAMPLE_BUNDLE, dir, { recursive: true });
    const v = await startVerdict(dir, { "bundles.watch": true, "bundles.watchDebounceMs": 50 });
    try {
      const first = await servedRevision(v);
      writeFileSync(join(dir, "freeze.cedar"), `@id("edit-freeze") forbid(principal, action == App::Action::"edit", resource);`);
      rmSync(join(dir, "tests", "editor_can_edit_document.json"));
      rmSync(join(dir, "tests", "viewer_cannot_edit_document.json"));
      rmSync(join(dir, "tests", "document_roles.yaml"));
      const until = Date.now() + 10_000;
      while ((await v.client.call<CheckResponse>("check", allowed)).decision !== Decision.DENY) {
        if (Date.now() > until) assert.fail("the folder change was never loaded");
        await new Promise((r) => setTimeout(r, 50));
      }
      const second = await servedRevision(v);
      assert.notEqual(second, first);
      writeFileSync(join(dir, "broken.cedar"), "permit(principal, action resource);");
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(await servedRevision(v), second, "the broken edit was refused");
      assert.equal((await v.client.call<CheckResponse>("check", allowed)).decision, Decision.DENY);
    } finally {
      await v.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--bundle FILE serves a tarball", async () => {
    const dir = tempDir();
    const file = join(dir, "b.tar.gz");
    writeFileSync(file, await packBundle(withRevision("r-tarball")));
    const v = await startVerdict(EXAMPLE_BUNDLE, { "policies.dir": undefined, "policies.bundle": file });
    try {
      assert.equal(await servedRevision(v), "r-tarball");
    } finally {
      await v.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without Redis a pushed bundle survives a restart in bundles.stateDir, wins over the folder, and a broken folder starts on it only with bundles.startupFallback", async () => {
    const state = tempDir();
    const settings = { "admin.token": TOKEN, "bundles.stateDir": state };
    const v = await startVerdict(EXAMPLE_BUNDLE, settings);
    const a = admin(v);
    try {
      await a.push(noEdits("r-kept"));
    } finally {
      a.close();
      await v.stop();
    }
    const again = await startVerdict(EXAMPLE_BUNDLE, settings);
    const b = admin(again);
    try {
      assert.equal(await servedRevision(again), "r-kept");
      // The folder's revision is known too, so an operator can go back to it on purpose.
      await b.activate(await exampleRevision());
    } finally {
      b.close();
      await again.stop();
    }
    const third = await startVerdict(EXAMPLE_BUNDLE, settings);
    try {
      assert.equal(await servedRevision(third), await exampleRevision(), "the re-activation was stored too");
    } finally {
      await third.stop();
    }
    const broken = tempDir();
    writeFileSync(join(broken, "manifest.json"), '{"name":"broken"}');
    writeFileSync(join(broken, "a.cedar"), "permit(principal, action resource);");
    // A broken start-up folder stops the start by default: the operator asked for that folder.
    await assert.rejects(startVerdict(broken, settings), /a\.cedar/);
    const fallback = await startVerdict(broken, { ...settings, "bundles.startupFallback": true });
    try {
      assert.equal(await servedRevision(fallback), await exampleRevision());
    } finally {
      await fallback.stop();
      rmSync(broken, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("a bundle whose own tests fail does not start", async () => {
    const dir = tempDir();
    cpSync(EXAMPLE_BUNDLE, dir, { recursive: true });
    writeFileSync(join(dir, "freeze.cedar"), `@id("edit-freeze") forbid(principal, action == App::Action::"edit", resource);`);
    try {
      await assert.rejects(startVerdict(dir), /policy tests failed \(.*editor_can_edit_document/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("verdict keygen, bundle build, bundle verify", () => {
  const run = (...args: string[]) => runCli(args);

  it("builds a signed bundle that verifies, and refuses a tampered one", async () => {
    const dir = tempDir();
    try {
      const keygen = run("keygen", "-o", join(dir, "k"));
      assert.equal(keygen.status, 0, keygen.stderr);
      const build = run("bundle", "build", EXAMPLE_BUNDLE, "-o", join(dir, "b.tar.gz"), "--signing-key", join(dir, "k.key.pem"));
      assert.equal(build.status, 0, build.stderr);
      assert.match(build.stdout, /\d+ tests passed, coverage 100%, signed/);
      const ok = run("bundle", "verify", join(dir, "b.tar.gz"), "--public-key", join(dir, "k.pub.pem"));
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /^ok: "example-docs-api"/);
      // Unpacked, changed and repacked: the signature no longer covers it.
      const { readBundleArchive } = await import("../../src/bundle/sources/read-tarball.js");
      const { DEFAULT_BUNDLE_READ_LIMITS } = await import("../../src/bundle/bundle-files.js");
      const files = new Map(await readBundleArchive(readFileSync(join(dir, "b.tar.gz")), DEFAULT_BUNDLE_READ_LIMITS));
      files.set("roles.cedar", Buffer.from("permit(principal, action, resource);"));
      writeFileSync(join(dir, "t.tar.gz"), await packBundle(files));
      const bad = run("bundle", "verify", join(dir, "t.tar.gz"), "--public-key", join(dir, "k.pub.pem"));
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /roles\.cedar: changed since the bundle was signed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
