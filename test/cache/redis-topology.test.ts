import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config/load-config.js";
import { parseRedisUrl, topologyMismatch } from "../../src/cache/redis-topology.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { metricValue } from "../helpers/metrics.js";
import { type SentinelSetup, startSentinelSetup } from "../helpers/redis-topologies.js";
import { startVerdict } from "../helpers/start-verdict.js";

describe("redis.url: one setting for every topology", () => {
  it("parses standalone, TLS, Sentinel and Cluster forms", () => {
    assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6380/2"), { tls: false, kind: "standalone", node: { host: "127.0.0.1", port: 6380 }, db: 2 });
    assert.deepEqual(parseRedisUrl("rediss://app:p%40ss@cache.internal"), { username: "app", password: "p@ss", tls: true, kind: "standalone", node: { host: "cache.internal", port: 6379 }, db: 0 });
    assert.deepEqual(parseRedisUrl("redis://:secret@h:1"), { password: "secret", tls: false, kind: "standalone", node: { host: "h", port: 1 }, db: 0 });
    assert.deepEqual(parseRedisUrl("redis+sentinel://:pw@s1,s2:26380,[::1]:26381/mymaster/3?sentinelPassword=spw"), {
      password: "pw",
      tls: false,
      kind: "sentinel",
      sentinels: [{ host: "s1", port: 26379 }, { host: "s2", port: 26380 }, { host: "::1", port: 26381 }],
      masterName: "mymaster",
      db: 3,
      sentinelPassword: "spw",
    });
    assert.deepEqual(parseRedisUrl("rediss+cluster://n1:7000,n2:7001"), { tls: true, kind: "cluster", nodes: [{ host: "n1", port: 7000 }, { host: "n2", port: 7001 }] });
  });

  it("refuses a wrong URL at start with a message that names the problem, never ioredis jargon", () => {
    const cases: [string, RegExp][] = [
      ["http://h:6379", /scheme "http:" is not supported; expected one of: redis:\/\//],
      ["sentinel://h:26379/m", /scheme "sentinel:" is not supported/],
      ["redis://a:1,b:2", /takes one host; for several, use redis\+sentinel:\/\/ \(Sentinel\) or redis\+cluster:\/\//],
      ["redis+sentinel://h:26379", /needs the master name as its path/],
      ["redis+cluster://h:7000/0", /a cluster has no database number/],
      ["redis://h:99999", /port 99999 of "h:99999" is out of range/],
      ["redis://h/abc", /database "abc" must be a number/],
      ["redis+sentinel://h/m?password=x", /unknown parameter "password" \(known: sentinelPassword, sentinelUsername\)/],
      ["localhost:6379", /is not a URL/],
    ];
    for (const [url, message] of cases) {
      assert.throws(() => loadConfig({ env: { VERDICT_REDIS_URL: url, VERDICT_CACHE_MAC_SECRET: "0123456789abcdef" } }), message, url);
    }
    // A password never appears in the message.
    assert.throws(() => loadConfig({ env: { VERDICT_REDIS_URL: "redis//user:hunter2@h", VERDICT_CACHE_MAC_SECRET: "0123456789abcdef" } }), (err: Error) => !err.message.includes("hunter2"));
  });

  it("names the mistake when a plain URL reaches a Sentinel, a Cluster node or a replica", () => {
    const plain = parseRedisUrl("redis://h:26379");
    assert.match(topologyMismatch(plain, "redis_mode:sentinel\r\n")!, /points at a Redis Sentinel.*use redis\+sentinel:\/\/h:26379\/<master name>/);
    assert.match(topologyMismatch(plain, "redis_mode:cluster\r\n")!, /Redis Cluster node: use redis\+cluster:\/\//);
    assert.match(topologyMismatch(plain, "role:slave\r\nredis_mode:standalone\r\n")!, /read-only replica/);
    assert.equal(topologyMismatch(plain, "role:master\r\nredis_mode:standalone\r\n"), undefined);
  });

  describe("against real processes", () => {
    let s: SentinelSetup;
    it("a plain redis:// URL pointed at a Sentinel: verdict_redis_up stays 0 and decisions go on", { timeout: 60_000 }, async () => {
      s = await startSentinelSetup();
      const v = await startVerdict(EXAMPLE_BUNDLE, { "redis.url": `redis://127.0.0.1:${s.sentinels[0]!.port}`, "cache.macSecret": "0123456789abcdef" });
      // The same kind of URL to the master itself, for comparison: it comes up.
      const control = await startVerdict(EXAMPLE_BUNDLE, { "redis.url": `redis://127.0.0.1:${s.master.port}`, "cache.macSecret": "0123456789abcdef" });
      const up = async (x: typeof v) => metricValue(await (await fetch(`${x.httpUrl}/metrics`)).text(), "verdict_redis_up");
      try {
        const end = Date.now() + 15_000;
        while ((await up(control)) !== 1) {
          if (Date.now() > end) assert.fail("the control replica never came up");
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(await up(v), 0, "a Sentinel is not a usable Redis");
        assert.equal((await fetch(`${v.httpUrl}/readyz`)).status, 200, "readiness does not depend on Redis");
      } finally {
        await v.stop();
        await control.stop();
        await s.stop();
      }
    });
  });
});
