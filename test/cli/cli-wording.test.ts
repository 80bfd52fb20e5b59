import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { TOKEN, withoutPolicy, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { runCli, runCliAsync } from "../helpers/cli.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const tmp = mkdtempSync(join(tmpdir(), "verdict-wording-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("CLI messages name the fix", () => {
  let v: RunningVerdict;
  const archive = (name: string, files: Map<string, Uint8Array>) => packBundle(files).then((b) => (writeFileSync(join(tmp, name), b), join(tmp, name)));
  before(async () => (v = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN, "bundles.minCoverage": 100 })));
  after(() => v.stop());

  it("a missing or wrong admin token names --token and VERDICT_ADMIN_TOKEN, not internal method names", async () => {
    const file = await archive("r-token.tar.gz", withRevision("r-token"));
    const none = await runCliAsync(["bundle", "push", file, "--addr", v.adminAddr]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^push failed: admin calls need a token: pass --token TOKEN or set VERDICT_ADMIN_TOKEN/);
    assert.doesNotMatch(none.stderr, /pushBundle|authorization: Bearer/);
    const wrong = await runCliAsync(["bundle", "list", "--addr", v.adminAddr, "--token", "not-it"]);
    assert.match(wrong.stderr, /^list failed: the server at .* did not accept the admin token; .*--token TOKEN or VERDICT_ADMIN_TOKEN/);
  });

  it("pushing the active bundle again says why nothing was activated", async () => {
    const files = new Map((await import("../helpers/admin.js")).exampleFiles());
    const same = await runCliAsync(["bundle", "push", await archive("same.tar.gz", files), "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^unchanged: this is already the active bundle \(same content\), so nothing was activated/);
  });

  it("activating an unknown revision lists what can be activated and names `verdict bundle list`", async () => {
    const r = await runCliAsync(["bundle", "activate", "0", "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^activate failed: revision 0 is not known to this replica; it can activate sha256-\w+ \(`verdict bundle list`\)/);
  });

  it("the push gate refuses a bundle below bundles.minCoverage", async () => {
    const files = withRevision("r-uncovered");
    files.set("extra.cedar", new TextEncoder().encode(`@id("never-tested") permit (principal, action == App::Action::"share", resource is App::Document) when { resource.classification == "shareable" };`));
    const r = await runCliAsync(["bundle", "push", await archive("uncovered.tar.gz", files), "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /policy coverage .* is below the required 100%: add tests in which "never-tested" decides the outcome \(bundles\.minCoverage\)/);
    const covered = await runCliAsync(["bundle", "push", await archive("covered.tar.gz", withoutPolicy("r-covered", "public-view")), "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(covered.code, 0, covered.stderr);
    assert.match(covered.stdout, /^activated: example-docs-api r-covered/);
  });

  it("pushing a folder says to build it first", () => {
    const r = runCli(["bundle", "push", EXAMPLE_BUNDLE, "--addr", v.adminAddr, "--token", TOKEN]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is a folder; push takes a built bundle: run `verdict bundle build .* -o bundle\.tar\.gz`/);
    assert.doesNotMatch(r.stderr, /EISDIR/);
  });
});

describe("CLI messages without a server", () => {
  it("an unreachable --addr says so, without gRPC internals", () => {
    for (const args of [
      ["bundle", "list", "--addr", "127.0.0.1:1", "--token", "t"],
      ["check", "--addr", "127.0.0.1:1", "--request", "-"],
    ]) {
      const r = runCli(args, { input: "{}" });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /failed: cannot reach (the admin listener|a Verdict server) at 127\.0\.0\.1:1 \(is `verdict serve` running there.*check --addr\)/);
      assert.doesNotMatch(r.stderr, /Resolution note|UNAVAILABLE|No connection established/);
    }
  });

  it("signing with a public key, or verifying with a private one, says which key to use", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(join(tmp, "k.pub.pem"), publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(tmp, "k.key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    const sign = runCli(["bundle", "build", EXAMPLE_BUNDLE, "-o", join(tmp, "x.tar.gz"), "--signing-key", join(tmp, "k.pub.pem")]);
    assert.equal(sign.status, 2);
    assert.match(sign.stderr, /k\.pub\.pem is a public key; signing needs the private key \(the PREFIX\.key\.pem that `verdict keygen` wrote\)/);
    assert.doesNotMatch(sign.stderr, /DECODER|policies:/);
    const built = runCli(["bundle", "build", EXAMPLE_BUNDLE, "-o", join(tmp, "unsigned.tar.gz")]);
    assert.equal(built.status, 0, built.stderr);
    const verify = runCli(["bundle", "verify", join(tmp, "unsigned.tar.gz"), "--public-key", join(tmp, "k.pub.pem")]);
    assert.equal(verify.status, 1);
    assert.match(verify.stderr, /unsigned\.tar\.gz is not signed \(it has no \.signatures\.json\): sign it with `verdict bundle build DIR -o .* --signing-key KEY\.key\.pem`/);
    assert.doesNotMatch(verify.stderr, /is configured/);
    const withPrivate = runCli(["bundle", "verify", join(tmp, "unsigned.tar.gz"), "--public-key", join(tmp, "k.key.pem")]);
    assert.match(withPrivate.stderr, /k\.key\.pem is a private key; verifying needs the public key/);
  });

  it("--version works on the program and after any command", () => {
    for (const args of [["--version"], ["-V"], ["validate", "--version"], ["bundle", "push", "--version"], ["test", "x", "--version"]]) {
      const r = runCli(args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, /^verdict \d+\.\d+\.\d+ \(cedar-wasm \d+\.\d+\.\d+, node v\d+/);
    }
  });
});
