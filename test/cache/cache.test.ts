import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { clone, fromBinary, fromJson, type JsonValue, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, status } from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { cacheKey } from "../../src/cache/cache-key.js";
import { CacheStatus, type CheckRequest, CheckRequestSchema, type CheckResponse, CheckResponseSchema, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { fromCheckRequest } from "../../src/server/authorization/check-mapping.js";
import { TOKENS } from "../../src/tokens.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { lenField, utf8 } from "../helpers/wire.js";

const cases = readdirSync(join(EXAMPLE_BUNDLE, "tests"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests", f), "utf8")) as { request: JsonValue; expect: { decision: string } })
  .map((t) => ({ request: fromJson(CheckRequestSchema, t.request), want: t.expect.decision === "allow" ? Decision.ALLOW : Decision.DENY }));
const allowCase = cases.find((c) => c.want === Decision.ALLOW)!;
const denyCase = cases.find((c) => c.want === Decision.DENY)!;
const otherDenyCase = cases.find((c) => c !== denyCase && c.want === Decision.DENY)!;
const SECRET = "test-secret-0123456789";
// A generous timeout: these tests check behaviour on a machine busy with other tests, not speed.
const shared = (redis: TestRedis) => ({ "redis.url": redis.url, "cache.macSecret": SECRET, "redis.commandTimeoutMs": 200, "cache.breakerCooldownMs": 300 });
const check = (v: RunningVerdict, r: CheckRequest) => v.client.call<CheckResponse>("check", r, undefined, { deadline: Date.now() + 5000 });
const metric = async (v: RunningVerdict, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(await (await fetch(`${v.httpUrl}/metrics`)).text())?.[1] ?? NaN);
/** Sends hand-built CheckRequest bytes; resolves with the response bytes. */
async function rawCheck(v: RunningVerdict, bytes: Uint8Array): Promise<Buffer> {
  const client = new Client(v.grpcAddr, credentials.createInsecure());
  try {
    return await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest("/verdict.v1.AuthorizationService/Check", (x: Buffer) => x, (x: Buffer) => x, Buffer.from(bytes), (err, res) => (err ? reject(err) : resolve(res!))),
    );
  } finally {
    client.close();
  }
}
async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("in-process cache", () => {
  it("answers the same question from L1 with the same decision and policies", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE);
    try {
      const first = await check(v, allowCase.request);
      const second = await check(v, allowCase.request);
      assert.equal(first.cache, CacheStatus.MISS);
      assert.equal(second.cache, CacheStatus.HIT_LOCAL);
      assert.equal(second.decision, first.decision);
      assert.deepEqual(second.determiningPolicies, first.determiningPolicies);
      assert.notEqual(second.decisionId, first.decisionId, "every answer has its own decision id");
    } finally {
      await v.stop();
    }
  });

  it("never answers from a previous revision", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE);
    try {
      assert.equal((await check(v, allowCase.request)).decision, Decision.ALLOW);
      const files = new Map<string, Uint8Array>();
      for (const f of ["manifest.json", "schema.cedarschema", "entities.json"]) files.set(f, readFileSync(join(EXAMPLE_BUNDLE, f)));
      files.set("nothing.cedar", utf8(`@id("none") forbid(principal, action, resource);`));
      await v.container.resolve(TOKENS.BundleActivator).activate(files, "test");
      const after = await check(v, allowCase.request);
      assert.equal(after.decision, Decision.DENY);
      assert.equal(after.cache, CacheStatus.MISS);
    } finally {
      await v.stop();
    }
  });

  it("a repeat with another request_id is a hit that echoes the new id; the same question encoded differently is a hit too", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE);
    try {
      const first = await check(v, { ...allowCase.request, requestId: "first" });
      const second = await check(v, { ...allowCase.request, requestId: "second" });
      assert.equal(first.requestId, "first");
      assert.equal(second.requestId, "second");
      assert.equal(second.cache, CacheStatus.HIT_LOCAL);
      assert.deepEqual([second.decision, second.determiningPolicies], [first.decision, first.determiningPolicies]);
      // Context keys in reverse order: other bytes, same question, answered by the request hash.
      const reordered = clone(CheckRequestSchema, allowCase.request);
      reordered.context = Object.fromEntries(Object.entries(reordered.context).reverse());
      assert.ok(Object.keys(reordered.context).length > 1, "the case has context keys to reorder");
      assert.notDeepEqual(toBinary(CheckRequestSchema, reordered), toBinary(CheckRequestSchema, allowCase.request));
      const third = await check(v, reordered);
      assert.equal(third.cache, CacheStatus.HIT_LOCAL);
      assert.equal(third.decision, first.decision);
      // Two request_id fields: decoding keeps the last, and so does the echo.
      const bytes = Buffer.concat([toBinary(CheckRequestSchema, allowCase.request), lenField(6, utf8("one")), lenField(6, utf8("two"))]);
      const fourth = fromBinary(CheckResponseSchema, await rawCheck(v, bytes));
      assert.equal(fourth.requestId, "two");
      assert.equal(fourth.cache, CacheStatus.HIT_LOCAL);
    } finally {
      await v.stop();
    }
  });

  it("a repeat still reaches the decision log with the request's principal, action, resource and input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "verdict-log-"));
    const log = join(dir, "decisions.log");
    const v = await startVerdict(EXAMPLE_BUNDLE, { "decisionLog.destination": log, "decisionLog.includeInput": true });
    try {
      await check(v, { ...allowCase.request, requestId: "a" });
      await check(v, { ...allowCase.request, requestId: "b" });
    } finally {
      await v.stop();
    }
    const [miss, hit] = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(hit!["cache"], "hit_local");
    assert.equal(hit!["request_id"], "b");
    for (const k of ["principal", "action", "resource", "decision", "determining_policies", "context", "principal_attrs", "resource_attrs"]) {
      assert.deepEqual(hit![k], miss![k], k);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("malformed bytes are refused every time and counted as invalid requests", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE);
    try {
      const bytes = Buffer.concat([toBinary(CheckRequestSchema, allowCase.request), Buffer.from([0x0a, 0x7f])]); // a truncated field
      for (let i = 0; i < 2; i++) await assert.rejects(rawCheck(v, bytes), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
      assert.equal(await metric(v, 'verdict_invalid_requests_total\\{api="check"\\}'), 2);
    } finally {
      await v.stop();
    }
  });

  it("is bypassed when disabled", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE, { "cache.enabled": false });
    try {
      await check(v, allowCase.request);
      assert.equal((await check(v, allowCase.request)).cache, CacheStatus.BYPASS);
    } finally {
      await v.stop();
    }
  });
});

describe("shared cache in Redis", () => {
  let redis: TestRedis;
  let probe: Redis;
  before(async () => {
    redis = await startRedis();
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    probe.on("error", () => {}); // the kill test takes Redis away on purpose
  });
  after(async () => {
    probe.disconnect();
    await redis.kill();
  });

  it("a decision made by one replica is a HIT_SHARED on another", async () => {
    const a = await startVerdict(EXAMPLE_BUNDLE, shared(redis));
    const b = await startVerdict(EXAMPLE_BUNDLE, shared(redis));
    try {
      await until("both replicas connected", async () => (await metric(a, "verdict_redis_up")) === 1 && (await metric(b, "verdict_redis_up")) === 1);
      assert.equal((await check(a, denyCase.request)).cache, CacheStatus.MISS);
      await until("the decision is written to Redis", async () => (await probe.keys("verdict:v1:default:*")).length > 0);
      const fromB = await check(b, denyCase.request);
      assert.equal(fromB.cache, CacheStatus.HIT_SHARED);
      assert.equal(fromB.decision, Decision.DENY);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a value forged in Redis is never served", async () => {
    await probe.flushall();
    const v = await startVerdict(EXAMPLE_BUNDLE, shared(redis));
    try {
      await until("connected", async () => (await metric(v, "verdict_redis_up")) === 1);
      const scope = v.container.resolve(TOKENS.ActiveBundle).snapshot!.cacheScope;
      const key = cacheKey("default", scope, fromCheckRequest(denyCase.request), "strict");
      const allow = JSON.stringify({ d: "allow", p: ["admin-all"], e: [] });
      await probe.set(key, `${"0".repeat(64)}.${allow}`);
      const res = await check(v, denyCase.request);
      assert.equal(res.decision, Decision.DENY);
      assert.equal(res.cache, CacheStatus.MISS);
      assert.equal(await metric(v, "verdict_cache_mac_failures_total"), 1);
      // Garbage is a miss too, and counted; the answer is the engine's.
      const garbageKey = cacheKey("default", scope, fromCheckRequest(otherDenyCase.request), "strict");
      await probe.set(garbageKey, "allow");
      assert.equal((await check(v, otherDenyCase.request)).decision, Decision.DENY);
      assert.equal(await metric(v, "verdict_cache_mac_failures_total"), 2);
      // A correctly sealed value moved to another key fails too.
      await until("the real decision is written", async () => (await probe.get(key))?.includes('"d":"deny"') === true);
      const otherKey = cacheKey("default", scope, fromCheckRequest(allowCase.request), "strict");
      await probe.set(otherKey, (await probe.get(key))!);
      const moved = await check(v, allowCase.request);
      assert.equal(moved.decision, Decision.ALLOW);
    } finally {
      await v.stop();
    }
  });

  it("keeps deciding through a Redis kill and restart, and L2 hits resume by themselves", async () => {
    // A one-entry L1 sends nearly every request on to Redis.
    const a = await startVerdict(EXAMPLE_BUNDLE, { ...shared(redis), "cache.localMaxEntries": 1 });
    const b = await startVerdict(EXAMPLE_BUNDLE, { ...shared(redis), "cache.localMaxEntries": 1 });
    try {
      await until("connected", async () => (await metric(a, "verdict_redis_up")) === 1 && (await metric(b, "verdict_redis_up")) === 1);
      let sent = 0;
      let wrong = 0;
      let failed = 0;
      let killed = false;
      await Promise.all(
        Array.from({ length: 20 }, async (_, w) => {
          for (let i = w; i < 2000; i += 20) {
            if (i >= 600 && !killed) {
              killed = true;
              await redis.kill();
            }
            const c = cases[i % cases.length]!;
            sent++;
            try {
              if ((await check(i % 2 ? a : b, c.request)).decision !== c.want) wrong++;
            } catch {
              failed++;
            }
          }
        }),
      );
      assert.equal(sent, 2000);
      assert.equal(failed, 0, "no failed RPCs");
      assert.equal(wrong, 0, "no wrong decisions");
      await until("redis_up drops to 0", async () => (await metric(a, "verdict_redis_up")) === 0);
      await redis.start();
      await until("both replicas reconnect by themselves", async () => (await metric(a, "verdict_redis_up")) === 1 && (await metric(b, "verdict_redis_up")) === 1, 15_000);
      const fresh = clone(CheckRequestSchema, allowCase.request);
      fresh.context["sourceIp"] = fromJson(CheckRequestSchema, { context: { n: { extension: { fn: "ip", arg: "10.200.0.1" } } } }).context["n"]!;
      await until("A's decision lands in Redis", async () => {
        await check(a, fresh);
        return (await probe.keys("verdict:v1:*")).length > 0;
      });
      await until("B answers from Redis", async () => (await check(b, fresh)).cache === CacheStatus.HIT_SHARED);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a paused Redis costs a bounded wait, then the breaker opens", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE, shared(redis));
    try {
      await until("connected", async () => (await metric(v, "verdict_redis_up")) === 1);
      redis.pause();
      let slowest = 0;
      for (let i = 0; i < 50; i++) {
        const r = clone(CheckRequestSchema, cases[i % cases.length]!.request);
        r.requestId = `paused-${i}`;
        const t = performance.now();
        await check(v, r);
        slowest = Math.max(slowest, performance.now() - t);
      }
      assert.ok(slowest < 1000, `no call waits on the paused Redis (slowest ${Math.round(slowest)} ms)`);
      assert.equal(await metric(v, "verdict_redis_breaker_open"), 1);
    } finally {
      redis.resume();
      await v.stop();
    }
  });
});
