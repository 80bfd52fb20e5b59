import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { SIGNATURE_FILE, signBundle } from "../../src/bundle/signing/bundle-signature.js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import {
  ActivateBundleRequestSchema,
  GetActiveBundleRequestSchema,
  type GetActiveBundleResponse,
  ListBundlesRequestSchema,
  type ListBundlesResponse,
  PolicyAdminService,
  PushBundleRequestSchema,
  type PushBundleResponse,
} from "../../src/gen/verdict/v1/admin_pb.js";
import { CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { tarGz } from "../helpers/tar.js";
import { utf8 } from "../helpers/wire.js";

const TOKEN = "admin-token-for-tests";
const example = (name: string) => fromJson(CheckRequestSchema, (JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests", `${name}.json`), "utf8")) as { request: JsonValue }).request);
const allowed = example("editor_can_edit_document");
const base = () =>
  new Map(
    ["manifest.json", "schema.cedarschema", "entities.json", "guardrails.cedar", "roles.cedar", "ownership.cedar", ...readdirSync(join(EXAMPLE_BUNDLE, "tests")).map((t) => `tests/${t}`)].map(
      (f) => [f, readFileSync(join(EXAMPLE_BUNDLE, f))] as [string, Uint8Array],
    ),
  );
/** The example bundle with a new revision and a forbid that denies every edit. */
const noEdits = (revision: string) => {
  const files = base();
  files.set("manifest.json", utf8(JSON.stringify({ name: "example-docs-api", revision })));
  files.set("freeze.cedar", utf8(`@id("edit-freeze") forbid(principal, action == App::Action::"edit", resource);`));
  // The freeze contradicts these two examples; a bundle must carry tests that pass.
  files.delete("tests/editor_can_edit_document.json");
  files.delete("tests/viewer_cannot_edit_document.json");
  return files;
};
const withRevision = (revision: string) => {
  const files = base();
  files.set("manifest.json", utf8(JSON.stringify({ name: "example-docs-api", revision })));
  return files;
};

/** An admin client; an empty token sends no authorization header. */
function admin(v: RunningVerdict, token = TOKEN) {
  const client = createServiceClient(PolicyAdminService, v.adminAddr);
  const md = new grpc.Metadata();
  if (token) md.set("authorization", `Bearer ${token}`);
  return {
    push: async (files: Map<string, Uint8Array> | Buffer, dryRun = false) =>
      client.call<PushBundleResponse>("pushBundle", create(PushBundleRequestSchema, { bundle: Buffer.isBuffer(files) ? files : await packBundle(files as Map<string, Uint8Array>), dryRun }), md),
    active: () => client.call<GetActiveBundleResponse>("getActiveBundle", create(GetActiveBundleRequestSchema, {}), md),
    list: () => client.call<ListBundlesResponse>("listBundles", create(ListBundlesRequestSchema, {}), md),
    activate: (revision: string) => client.call("activateBundle", create(ActivateBundleRequestSchema, { revision }), md),
    close: () => client.close(),
  };
}
const decide = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).decision;
const failedPrecondition = (pattern: RegExp) => (err: grpc.ServiceError) => {
  assert.equal(err.code, grpc.status.FAILED_PRECONDITION, err.details);
  assert.match(err.details, pattern);
  return true;
};

describe("PolicyAdminService", () => {
  let v: RunningVerdict;
  let a: ReturnType<typeof admin>;
  before(async () => {
    v = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN });
    a = admin(v);
  });
  after(async () => {
    a.close();
    await v.stop();
  });

  it("a push under load: no failed call, every answer from the old or the new revision, then only the new", async () => {
    const oldRevision = (await a.active()).bundle!.revision;
    let stop = false;
    const seen: { revision: string; decision: Decision }[] = [];
    let failed = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          try {
            const r = await v.client.call<CheckResponse>("check", allowed);
            seen.push({ revision: r.bundleRevision, decision: r.decision });
          } catch {
            failed++;
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const pushed = await a.push(noEdits("r-freeze"));
    assert.equal(pushed.activated, true);
    assert.equal(pushed.bundle!.revision, "r-freeze");
    assert.equal(await decide(v), Decision.DENY, "after the push returns, answers come from the new revision");
    stop = true;
    await load;
    assert.equal(failed, 0);
    assert.ok(seen.length > 50, `${seen.length} checks during the push`);
    for (const s of seen) {
      if (s.revision === oldRevision) assert.equal(s.decision, Decision.ALLOW);
      else if (s.revision === "r-freeze") assert.equal(s.decision, Decision.DENY);
      else assert.fail(`unexpected revision ${s.revision}`);
    }
  });

  it("refuses bad bundles with a message that names the problem; the active revision stays", async () => {
    const before = (await a.active()).bundle!.revision;
    const broken = withRevision("r-syntax");
    broken.set("bad.cedar", utf8("permit(principal, action resource);"));
    await assert.rejects(a.push(broken), failedPrecondition(/bad\.cedar:1:/));
    const invalid = withRevision("r-schema");
    invalid.set("bad.cedar", utf8(`@id("typo") permit(principal, action, resource) when { principal.departmnt == "x" };`));
    await assert.rejects(a.push(invalid), failedPrecondition(/\[typo\].*departmnt/));
    const failing = withRevision("r-tests");
    failing.set("tests/admin_always_denied.json", utf8(JSON.stringify({ request: JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests/admin_can_delete_in_own_tenant.json"), "utf8")).request, expect: { decision: "deny" } })));
    await assert.rejects(a.push(failing), failedPrecondition(/1 of 28 policy tests failed \(admin_always_denied\)/));
    await assert.rejects(a.push(tarGz([{ name: "manifest.json", content: '{"name":"x"}' }, { name: "../escape.cedar", content: "permit(principal, action, resource);" }])), failedPrecondition(/\.\.\/escape\.cedar: path traversal/));
    const d = 140;
    const poison = withRevision("r-poison");
    poison.set("poison.cedar", utf8(`permit(principal, action, resource) when { ${"(".repeat(d)}true${")".repeat(d)} };`));
    await assert.rejects(a.push(poison), failedPrecondition(/brackets nest 141 deep/));
    assert.equal((await a.active()).bundle!.revision, before);
    assert.equal((await v.client.call<CheckResponse>("check", example("viewer_cannot_delete_document"))).decision, Decision.DENY, "Checks keep deciding");
    assert.equal(await decide(v), before === "r-freeze" ? Decision.DENY : Decision.ALLOW);
  });

  it("a dry run tests without activating", async () => {
    const before = (await a.active()).bundle!.revision;
    const out = await a.push(withRevision("r-dry"), true);
    assert.equal(out.activated, false);
    assert.ok(out.tests.length >= 20 && out.tests.every((t) => t.passed));
    assert.equal((await a.active()).bundle!.revision, before);
  });

  it("rolls back only on purpose: an old revision is refused as a push, accepted by ActivateBundle", async () => {
    await a.push(withRevision("r-open"));
    assert.equal(await decide(v), Decision.ALLOW);
    await a.push(noEdits("r-freeze-2"));
    assert.equal(await decide(v), Decision.DENY);
    await assert.rejects(a.push(withRevision("r-open")), failedPrecondition(/r-open was active before; use ActivateBundle/));
    await a.activate("r-open");
    assert.equal(await decide(v), Decision.ALLOW, "the old decisions return");
    const list = await a.list();
    assert.equal(list.bundles[0]!.revision, "r-open");
    assert.ok(list.bundles[0]!.active);
    assert.ok(list.bundles.some((b) => b.revision === "r-freeze-2"));
  });

  it("refuses callers without a token, with a wrong token, and on the decision listener", async () => {
    const none = admin(v, "");
    await assert.rejects(none.active(), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);
    none.close();
    const wrong = admin(v, "nope");
    await assert.rejects(wrong.active(), (err: grpc.ServiceError) => err.code === grpc.status.PERMISSION_DENIED);
    wrong.close();
    const onDecision = createServiceClient(PolicyAdminService, v.grpcAddr);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    await assert.rejects(onDecision.call("getActiveBundle", create(GetActiveBundleRequestSchema, {}), md), (err: grpc.ServiceError) => err.code === grpc.status.UNIMPLEMENTED);
    onDecision.close();
  });
});

describe("signed bundles only, when a key is configured", () => {
  it("refuses unsigned and wrongly signed pushes, accepts the signed one; an older signature is a replay", async () => {
    const keys = generateKeyPairSync("ed25519");
    const other = generateKeyPairSync("ed25519");
    const dir = writeBundle({});
    const pub = join(dir.dir, "pub.pem");
    writeFileSync(pub, keys.publicKey.export({ type: "spki", format: "pem" }));
    const sign = async (files: Map<string, Uint8Array>, revision: string, key = keys.privateKey) =>
      new Map([...files, [SIGNATURE_FILE, utf8(await signBundle(files, { name: "example-docs-api", revision }, key, "EdDSA"))]]);
    // The start-up bundle must be signed too.
    const startup = writeBundle({});
    const first = await sign(withRevision("r1"), "r1");
    for (const [p, b] of first) {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(join(startup.dir, p, ".."), { recursive: true });
      writeFileSync(join(startup.dir, p), b);
    }
    const older = await sign(withRevision("r0"), "r0");
    await new Promise((r) => setTimeout(r, 1100)); // signatures carry whole seconds
    const v = await startVerdict(startup.dir, { "admin.token": TOKEN, "bundles.verificationKey": pub });
    const a = admin(v);
    try {
      await assert.rejects(a.push(withRevision("r2")), failedPrecondition(/not signed/));
      await assert.rejects(a.push(await sign(withRevision("r2"), "r2", other.privateKey)), failedPrecondition(/does not verify/));
      const tampered = await sign(withRevision("r2"), "r2");
      tampered.set("extra.cedar", utf8(`permit(principal, action, resource);`));
      await assert.rejects(a.push(tampered), failedPrecondition(/extra\.cedar: not covered/));
      assert.equal((await a.push(await sign(withRevision("r2"), "r2"))).activated, true);
      await assert.rejects(a.push(older), failedPrecondition(/signed before the active revision/));
    } finally {
      a.close();
      await v.stop();
      dir.cleanup();
      startup.cleanup();
    }
  });
});

describe("fleet fan-out through Redis", () => {
  let redis: TestRedis;
  before(async () => (redis = await startRedis()));
  after(() => redis.kill());

  it("a push to one replica reaches the others, and a replica started later starts on it", async () => {
    const settings = { "admin.token": TOKEN, "redis.url": redis.url, "cache.macSecret": "fleet-secret-0123456789", "bundles.fanoutCheckMs": 500 };
    const one = await startVerdict(EXAMPLE_BUNDLE, settings);
    const two = await startVerdict(EXAMPLE_BUNDLE, settings);
    const a = admin(one);
    try {
      await a.push(noEdits("r-fleet"));
      const until = Date.now() + 5000;
      while ((await two.client.call<CheckResponse>("check", allowed)).bundleRevision !== "r-fleet") {
        if (Date.now() > until) assert.fail("replica two never followed the push");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await decide(two), Decision.DENY);
      const three = await startVerdict(EXAMPLE_BUNDLE, settings);
      try {
        assert.equal((await three.client.call<CheckResponse>("check", allowed)).bundleRevision, "r-fleet");
      } finally {
        await three.stop();
      }
    } finally {
      a.close();
      await one.stop();
      await two.stop();
    }
  });
});
