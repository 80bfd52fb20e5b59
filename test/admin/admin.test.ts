import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { GetActiveBundleRequestSchema, PolicyAdminService } from "../../src/gen/verdict/v1/admin_pb.js";
import { type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { admin, allowed, example, failedPrecondition, noEdits, signed, TOKEN, waitForRevision, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { signedSetup } from "../helpers/signed-bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { tarGz } from "../helpers/tar.js";
import { utf8 } from "../helpers/wire.js";

const decide = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).decision;

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
    await assert.rejects(a.push(failing), failedPrecondition(/1 of \d+ policy tests failed \(admin_always_denied\)/));
    await assert.rejects(a.push(tarGz([{ name: "manifest.json", content: '{"name":"x"}' }, { name: "../escape.cedar", content: "permit(principal, action, resource);" }])), failedPrecondition(/\.\.\/escape\.cedar: path traversal/));
    const d = 140;
    const poison = withRevision("r-poison");
    poison.set("poison.cedar", utf8(`permit(principal, action, resource) when { ${"(".repeat(d)}true${")".repeat(d)} };`));
    await assert.rejects(a.push(poison), failedPrecondition(/brackets nest 141 deep/));
    const deep = withRevision("r-poison-deep");
    deep.set("poison.cedar", utf8(`permit(principal, action, resource) when { ${"(".repeat(10_000)}true${")".repeat(10_000)} };`));
    await assert.rejects(a.push(deep), failedPrecondition(/poison\.cedar.*brackets nest/));
    const older = withRevision("r-dup-id");
    older.set("dup.cedar", utf8(`@id("edit-freeze") permit(principal, action, resource);\n@id("edit-freeze") permit(principal, action, resource);`));
    await assert.rejects(a.push(older), failedPrecondition(/edit-freeze/));
    await assert.rejects(a.activate("r-never-pushed"), failedPrecondition(/r-never-pushed is not known/));
    assert.equal((await a.active()).bundle!.revision, before);
    assert.equal((await v.client.call<CheckResponse>("check", example("viewer_cannot_delete_document"))).decision, Decision.DENY, "Checks keep deciding");
    assert.equal(await decide(v), before === "r-freeze" ? Decision.DENY : Decision.ALLOW);
  });

  it("refuses an archive over bundles.maxPushBytes with RESOURCE_EXHAUSTED", async () => {
    const small = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN, "bundles.maxPushBytes": 64 * 1024 });
    const sa = admin(small);
    try {
      await assert.rejects(sa.push(Buffer.alloc(256 * 1024, 1)), (err: grpc.ServiceError) => err.code === grpc.status.RESOURCE_EXHAUSTED);
      await assert.rejects(sa.push(Buffer.alloc(60 * 1024, 1)), (err: grpc.ServiceError) => err.code === grpc.status.FAILED_PRECONDITION && /not a gzip archive/.test(err.details));
    } finally {
      sa.close();
      await small.stop();
    }
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
    await assert.rejects(a.push(withRevision("r-open")), failedPrecondition(/r-open was active before; to return to it on purpose run `verdict bundle activate r-open`/));
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

/** A key pair, its public key file, and a signed copy of the example bundle as a start-up folder. */
describe("signed bundles only, when a key is configured", () => {
  it("refuses unsigned, wrongly signed, tampered and stripped pushes, accepts the signed one; an older signature is a replay", async () => {
    const s = await signedSetup();
    const other = generateKeyPairSync("ed25519");
    const older = await signed(withRevision("r0"), "r0", s.keys.privateKey);
    await new Promise((r) => setTimeout(r, 1100)); // signatures carry whole seconds
    const v = await startVerdict(s.startupDir, { "admin.token": TOKEN, "bundles.verificationKey": s.pub });
    const a = admin(v);
    try {
      await assert.rejects(a.push(withRevision("r2")), failedPrecondition(/not signed/));
      await assert.rejects(a.push(await signed(withRevision("r2"), "r2", other.privateKey)), failedPrecondition(/does not verify/));
      const tampered = await signed(withRevision("r2"), "r2", s.keys.privateKey);
      tampered.set("extra.cedar", utf8(`permit(principal, action, resource);`));
      await assert.rejects(a.push(tampered), failedPrecondition(/extra\.cedar: not covered/));
      const changed = await signed(withRevision("r2"), "r2", s.keys.privateKey);
      changed.set("roles.cedar", utf8(`${Buffer.from(changed.get("roles.cedar")!).toString()}\n`));
      await assert.rejects(a.push(changed), failedPrecondition(/roles\.cedar: changed since the bundle was signed/));
      assert.equal((await a.active()).bundle!.revision, "r1");
      assert.equal((await a.push(await signed(withRevision("r2"), "r2", s.keys.privateKey))).activated, true);
      await assert.rejects(a.push(older), failedPrecondition(/signed before the active revision r2, so a push of it is refused as a replay; this replica never served it, so to roll back rebuild and re-sign it with `verdict bundle build/));
      assert.equal((await a.active()).bundle!.revision, "r2");
    } finally {
      a.close();
      await v.stop();
      s.cleanup();
    }
  });

  it("a bad verification key stops the start with the setting's name", async () => {
    const empty = writeBundle({ "empty.pem": "" });
    try {
      await assert.rejects(startVerdict(EXAMPLE_BUNDLE, { "bundles.verificationKey": join(empty.dir, "empty.pem") }), /bundles\.verificationKey: cannot use/);
    } finally {
      empty.cleanup();
    }
  });
});

describe("fleet fan-out through Redis", () => {
  let redis: TestRedis;
  before(async () => (redis = await startRedis()));
  after(() => redis.kill());
  const fleet = (namespace: string, extra: Record<string, unknown> = {}) => ({
    "admin.token": TOKEN,
    "redis.url": redis.url,
    "redis.namespace": namespace,
    "cache.macSecret": "fleet-secret-0123456789",
    "bundles.fanoutCheckMs": 500,
    ...extra,
  });

  it("a push to one replica reaches the others, a replica started later starts on it, and a rollback follows", async () => {
    const one = await startVerdict(EXAMPLE_BUNDLE, fleet("push"));
    const two = await startVerdict(EXAMPLE_BUNDLE, fleet("push"));
    const a = admin(one);
    try {
      const startRevision = (await a.active()).bundle!.revision;
      await a.push(noEdits("r-fleet"));
      await waitForRevision(two, "r-fleet");
      assert.equal(await decide(two), Decision.DENY);
      const three = await startVerdict(EXAMPLE_BUNDLE, fleet("push"));
      try {
        assert.equal((await three.client.call<CheckResponse>("check", allowed)).bundleRevision, "r-fleet", "a later replica starts on the pushed revision");
        await a.activate(startRevision);
        await waitForRevision(two, startRevision);
        await waitForRevision(three, startRevision);
        assert.equal(await decide(two), Decision.ALLOW, "the old decisions return on every replica");
      } finally {
        await three.stop();
      }
    } finally {
      a.close();
      await one.stop();
      await two.stop();
    }
  });

  it("two replicas pushed different revisions at once converge on one", async () => {
    const one = await startVerdict(EXAMPLE_BUNDLE, fleet("race"));
    const two = await startVerdict(EXAMPLE_BUNDLE, fleet("race"));
    const [a, b] = [admin(one), admin(two)];
    try {
      await Promise.all([a.push(noEdits("r-race-a")), b.push(withRevision("r-race-b"))]);
      const until = Date.now() + 10_000;
      while ((await servedBy(one)) !== (await servedBy(two))) {
        if (Date.now() > until) assert.fail(`replicas disagree: ${await servedBy(one)} vs ${await servedBy(two)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(["r-race-a", "r-race-b"].includes(await servedBy(one)));
    } finally {
      a.close();
      b.close();
      await one.stop();
      await two.stop();
    }
  });

  it("B-14 bundle bytes written straight into Redis are verified by every replica and refused unsigned", async () => {
    const s = await signedSetup();
    const settings = fleet("forged", { "bundles.verificationKey": s.pub });
    const one = await startVerdict(s.startupDir, settings);
    const a = admin(one);
    const { Redis } = await import("ioredis");
    const raw = new Redis(redis.url);
    try {
      const { packBundle } = await import("../../src/bundle/signing/bundle-archive.js");
      await raw.hset("verdict:v1:forged:bundle", { revision: "r-forged", digest: "forged", archive: await packBundle(noEdits("r-forged")) });
      await raw.publish("verdict:v1:forged:bundles", "r-forged");
      // A properly signed push afterwards still goes through: the replica was not wedged.
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal((await a.active()).bundle!.revision, "r1", "the forged bundle was refused");
      await a.push(await signed(noEdits("r-signed"), "r-signed", s.keys.privateKey));
      const late = await startVerdict(s.startupDir, settings);
      try {
        assert.equal(await servedBy(late), "r-signed");
      } finally {
        await late.stop();
      }
      await raw.hset("verdict:v1:forged:bundle", { revision: "r-forged-2", digest: "forged-2", archive: await packBundle(withRevision("r-forged-2")) });
      const victim = await startVerdict(s.startupDir, settings);
      try {
        // The forged record is refused; the running replica may already have written its last good record back.
        assert.ok(["r1", "r-signed"].includes(await servedBy(victim)), "a replica starting on a forged record never serves it");
      } finally {
        await victim.stop();
      }
    } finally {
      raw.disconnect();
      a.close();
      await one.stop();
      s.cleanup();
    }
  });
});

const servedBy = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).bundleRevision;
