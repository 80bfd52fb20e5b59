import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { packBundle } from "../../src/bundle/signing/bundle-archive.js";
import { type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { admin, allowed, asText, noEdits, signed, TOKEN, waitForRevision, withRevision } from "../helpers/admin.js";
import { writeBundle } from "../helpers/bundles.js";
import { metricValue } from "../helpers/metrics.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { signedSetup } from "../helpers/signed-bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const SECRET = "fleet-secret-0123456789";
const decide = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).decision;
const served = async (v: RunningVerdict) => (await v.client.call<CheckResponse>("check", allowed)).bundleRevision;
const activations = async (v: RunningVerdict, result: string) => metricValue(await (await fetch(`${v.httpUrl}/metrics`)).text(), "verdict_bundle_activations_total", { result });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Signatures carry whole seconds: wait so the next one is strictly later. */
const nextSecond = () => sleep(1100);

describe("a Redis writer cannot roll the fleet back", () => {
  let redis: TestRedis;
  before(async () => (redis = await startRedis()));
  after(() => redis.kill());

  it("an older signed archive, unsealed or replayed with its old sealed record, is refused by both replicas; ActivateBundle still rolls back everywhere", async () => {
    const s = await signedSetup();
    const settings = { "admin.token": TOKEN, "redis.url": redis.url, "redis.namespace": "rollback", "cache.macSecret": SECRET, "bundles.fanoutCheckMs": 300, "bundles.verificationKey": s.pub };
    const key = "verdict:v1:rollback:bundle";
    const raw = new Redis(redis.url);
    await nextSecond();
    const one = await startVerdict(s.startupDir, settings);
    const two = await startVerdict(s.startupDir, settings);
    const a = admin(one);
    try {
      const r2 = await signed(withRevision("r2"), "r2", s.keys.privateKey);
      await a.push(r2);
      await waitForRevision(two, "r2");
      const oldRecord = await raw.hgetallBuffer(key);
      await nextSecond();
      // r3 revokes: the editor's edit becomes a deny.
      await a.push(await signed(noEdits("r3"), "r3", s.keys.privateKey));
      await waitForRevision(two, "r3");
      assert.equal(await decide(two), Decision.DENY);

      // 1. The older, validly signed archive written straight into the record, as an attacker would.
      await raw.del(key);
      await raw.hset(key, { revision: "r2", digest: oldRecord["digest"]!, archive: await packBundle(r2) });
      await raw.publish("verdict:v1:rollback:bundles", "r2");
      await sleep(1200);
      for (const v of [one, two]) {
        assert.equal(await served(v), "r3", "an unsealed record is refused");
        assert.equal(await decide(v), Decision.DENY, "the revoked permission stays revoked");
        assert.ok((await activations(v, "unsealed")) >= 1, "the refusal is counted");
      }

      // 2. The old record replayed byte for byte: its seal is valid, but it is older than what the replicas acted on.
      await raw.del(key);
      await raw.hset(key, oldRecord);
      await raw.publish("verdict:v1:rollback:bundles", "r2");
      await sleep(1200);
      for (const v of [one, two]) {
        assert.equal(await served(v), "r3", "a replayed sealed record is refused");
        assert.equal(await decide(v), Decision.DENY);
        assert.ok((await activations(v, "stale")) >= 1, "the replay is counted as stale");
      }
      // The replicas wrote back the record they last accepted, so a replica started now starts on r3.
      const late = await startVerdict(s.startupDir, settings);
      try {
        assert.equal(await served(late), "r3");
      } finally {
        await late.stop();
      }

      // 3. A deliberate rollback still reaches every replica.
      await a.activate("r2");
      await waitForRevision(one, "r2");
      await waitForRevision(two, "r2");
      assert.equal(await decide(two), Decision.ALLOW);
    } finally {
      raw.disconnect();
      a.close();
      await one.stop();
      await two.stop();
      s.cleanup();
    }
  });
});

describe("the local state folder follows the same rule", () => {
  it("an older signed archive dropped into bundles.stateDir does not roll a restarted replica back; a sealed ActivateBundle does survive the restart", async () => {
    const s = await signedSetup();
    // r1 (the setup's) is the older signed bundle; the deployment now ships r5.
    const older = await packBundle(await signed(withRevision("r1"), "r1", s.keys.privateKey));
    await nextSecond();
    const startup = writeBundle(asText(await signed(withRevision("r5"), "r5", s.keys.privateKey)));
    const state = mkdtempSync(join(tmpdir(), "verdict-state-"));
    const settings = { "admin.token": TOKEN, "cache.macSecret": SECRET, "bundles.stateDir": state, "bundles.verificationKey": s.pub };
    try {
      // Someone with write access to the folder puts the older signed archive there (no record, or a forged "activate" one).
      writeFileSync(join(state, "active.tar.gz"), older);
      for (const record of [undefined, { revision: "r1", digest: "x", signedAt: "1", seq: "9", kind: "activate", mac: "0".repeat(64) }]) {
        if (record !== undefined) writeFileSync(join(state, "active.json"), JSON.stringify(record));
        const v = await startVerdict(startup.dir, settings);
        try {
          assert.equal(await served(v), "r5", "the start-up bundle keeps serving");
          assert.equal(await activations(v, "stale") + (await activations(v, "unsealed")), 1, "the refusal is counted");
        } finally {
          await v.stop();
        }
      }

      // An operator's rollback (to r5, older than the pushed r6) is sealed, so it survives a restart.
      const v = await startVerdict(startup.dir, settings);
      const a = admin(v);
      try {
        await nextSecond();
        await a.push(await signed(noEdits("r6"), "r6", s.keys.privateKey));
        await a.activate("r5");
      } finally {
        a.close();
        await v.stop();
      }
      const restarted = await startVerdict(startup.dir, settings);
      try {
        assert.equal(await served(restarted), "r5", "the sealed activation is honoured after a restart");
        assert.equal(await activations(restarted, "stale"), 0);
      } finally {
        await restarted.stop();
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
      startup.cleanup();
      s.cleanup();
    }
  });
});
