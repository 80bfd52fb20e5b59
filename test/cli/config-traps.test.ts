import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { loadConfig } from "../../src/config/load-config.js";
import { withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE, REPO, writeBundle } from "../helpers/bundles.js";
import { runCli, serveCli } from "../helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "verdict-traps-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const broken = writeBundle({ "manifest.json": '{"name":"broken"}', "a.cedar": "permit(principal, action resource);" });
after(() => broken.cleanup());

/** A state folder holding a pushed bundle of revision `revision`, as a replica writes it. */
async function stateWith(revision: string): Promise<string> {
  const dir = mkdtempSync(join(tmp, "state-"));
  writeFileSync(join(dir, "active.tar.gz"), await packBundle(withRevision(revision)));
  return dir;
}

const readyRevision = async (http: string) => ((await (await fetch(`http://${http}/readyz`)).json()) as { revision: string }).revision;

describe("configuration traps", () => {
  it("VERDICT_BUNDLES_STATE_DIR= (empty) means nowhere, and nowhere is the default", () => {
    assert.equal(loadConfig({ env: {} }).bundles.stateDir, "");
    assert.equal(loadConfig({ env: { VERDICT_BUNDLES_STATE_DIR: "" }, file: undefined }).bundles.stateDir, "");
    const r = runCli(["config"], { env: { VERDICT_BUNDLES_STATE_DIR: "" } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { bundles: { stateDir: string } }).bundles.stateDir, "");
  });

  it("a .verdict/ folder in the working directory does not override --policies", async () => {
    const cwd = mkdtempSync(join(tmp, "cwd-"));
    mkdirSync(join(cwd, ".verdict", "bundles"), { recursive: true });
    writeFileSync(join(cwd, ".verdict", "bundles", "active.tar.gz"), await packBundle(withRevision("r-stale-in-cwd")));
    const server = await serveCli(["--policies", EXAMPLE_BUNDLE], { cwd });
    try {
      assert.notEqual(await readyRevision(server.http), "r-stale-in-cwd");
      assert.match(server.stderr(), /serving the start-up bundle/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it("a refused --policies stops the start even when a pushed bundle is stored, unless bundles.startupFallback", async () => {
    const state = await stateWith("r-pushed");
    const refused = runCli(["serve", "--policies", broken.dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"], { env: { VERDICT_BUNDLES_STATE_DIR: state } });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /a\.cedar:1/);
    const server = await serveCli(["--policies", broken.dir], { env: { VERDICT_BUNDLES_STATE_DIR: state, VERDICT_BUNDLES_STARTUP_FALLBACK: "true" } });
    try {
      assert.equal(await readyRevision(server.http), "r-pushed");
      assert.match(server.stderr(), /start-up bundle was refused; serving the pushed bundle \(bundles\.startupFallback\)/);
      assert.match(server.stderr(), /serving the last pushed bundle/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it("a good --policies with a configured state folder serves the pushed bundle and says why", async () => {
    const state = await stateWith("r-pushed-good");
    const server = await serveCli(["--policies", EXAMPLE_BUNDLE], { env: { VERDICT_BUNDLES_STATE_DIR: state } });
    try {
      assert.equal(await readyRevision(server.http), "r-pushed-good");
      assert.match(server.stderr(), /"from":"local-store".*serving the last pushed bundle: a push wins over the start-up bundle until the next push/);
    } finally {
      await server.stop();
    }
  });

  it("a misspelt VERDICT_* variable stops the start, naming the closest setting", () => {
    assert.throws(() => loadConfig({ env: { VERDICT_BUNDLE_STATE_DIR: "/x" } }), /VERDICT_BUNDLE_STATE_DIR: no such setting; did you mean VERDICT_BUNDLES_STATE_DIR \(bundles\.stateDir\)\?/);
    // Kubernetes adds these to every pod when a Service is named `verdict`: they are not settings.
    const links = { VERDICT_SERVICE_HOST: "10.0.0.1", VERDICT_SERVICE_PORT: "50051", VERDICT_SERVICE_PORT_GRPC: "50051", VERDICT_PORT: "tcp://10.0.0.1:50051", VERDICT_PORT_50051_TCP_ADDR: "10.0.0.1" };
    assert.equal(loadConfig({ env: links }).bundles.stateDir, "");
    const r = runCli(["serve", "--policies", EXAMPLE_BUNDLE], { env: { VERDICT_CACHE_MACSECRET: "0123456789abcdef0123" } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /VERDICT_CACHE_MACSECRET: no such setting; did you mean VERDICT_CACHE_MAC_SECRET \(cache\.macSecret\)\?/);
  });

  it("`verdict config` never prints a secret", () => {
    const secrets = { VERDICT_ADMIN_TOKEN: "admin-s3cret-value", VERDICT_CACHE_MAC_SECRET: "mac-s3cret-value-0123", VERDICT_AUTHZEN_TOKEN: "authzen-s3cret", VERDICT_REDIS_URL: "redis://user:redis-s3cret@127.0.0.1:1/0" };
    const r = runCli(["config"], { env: secrets });
    assert.equal(r.status, 0, r.stderr);
    for (const s of ["admin-s3cret-value", "mac-s3cret-value-0123", "authzen-s3cret", "redis-s3cret"]) assert.ok(!r.stdout.includes(s), `${s} printed`);
    const c = JSON.parse(r.stdout) as { admin: { token: string }; cache: { macSecret: string }; redis: { url: string } };
    assert.equal(c.admin.token, "(set, hidden)");
    assert.equal(c.cache.macSecret, "(set, hidden)");
    assert.equal(c.redis.url, "redis://user:***@127.0.0.1:1/0");
  });
});

/** Test sources (TypeScript), with their path under test/. */
function testSources(dir = join(REPO, "test")): { file: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "fixtures" ? [] : testSources(path);
    return name.endsWith(".ts") ? [{ file: relative(REPO, path), text: readFileSync(path, "utf8") }] : [];
  });
}

describe("tests cannot hang on a child process", () => {
  it("every synchronous or one-shot child process in test/ has a timeout", () => {
    const offenders: string[] = [];
    for (const { file, text } of testSources()) {
      for (const m of text.matchAll(/\b(spawnSync|execFileSync|execSync|execFile)\(/g)) {
        // The call's arguments: up to the parenthesis that closes it.
        let depth = 0;
        let end = m.index + m[0].length - 1;
        for (; end < text.length; end++) {
          if (text[end] === "(") depth++;
          else if (text[end] === ")" && --depth === 0) break;
        }
        if (!/\btimeout\b/.test(text.slice(m.index, end))) offenders.push(`${file}: ${m[1]} without a timeout`);
      }
      if (/\bspawn\(/.test(text) && !/\.kill\(/.test(text)) offenders.push(`${file}: spawn without a kill`);
    }
    assert.deepEqual(offenders, []);
  });
});
