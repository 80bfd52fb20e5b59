import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { GetStatusRequestSchema, type GetStatusResponse, PolicyAdminService } from "../../src/gen/verdict/v1/admin_pb.js";
import { admin, allowed, TOKEN, withRevision } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE, REPO } from "../helpers/bundles.js";
import { startRedis, type TestRedis } from "../helpers/redis-server.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { utf8 } from "../helpers/wire.js";

const MAIN = join(REPO, "dist", "src", "main.js");
const run = promisify(execFile);

describe("GetStatus and `verdict status`", () => {
  let redis: TestRedis;
  let v: RunningVerdict;
  let plain: RunningVerdict;
  before(async () => {
    redis = await startRedis();
    v = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN, "redis.url": redis.url, "cache.macSecret": "a-secret-of-sixteen-chars", "decisionLog.destination": "off" });
    plain = await startVerdict(EXAMPLE_BUNDLE, { "admin.token": TOKEN, "cache.enabled": false });
  });
  after(async () => {
    await v.stop();
    await plain.stop();
    await redis.kill();
  });
  const status = (r: RunningVerdict) => {
    const client = createServiceClient(PolicyAdminService, r.adminAddr);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    return client.call<GetStatusResponse>("getStatus", create(GetStatusRequestSchema, {}), md).finally(() => client.close());
  };

  it("reports the bundle and how it was activated, the last refused activation, Redis, breaker and cache sizes", async () => {
    await v.client.call("check", allowed);
    const a = admin(v);
    try {
      const broken = withRevision("r-broken");
      broken.set("broken.cedar", utf8("permit(principal, action, resource) when { nonsense };"));
      await assert.rejects(a.push(broken));
      const s = await status(v);
      assert.equal(s.bundle?.name, "example-docs-api");
      assert.equal(s.bundle!.activatedBy, `startup:${EXAMPLE_BUNDLE}`, "how it was activated: the start-up folder");
      assert.ok(!Number.isNaN(Date.parse(s.bundle!.activatedAt)), "activation time");
      assert.match(s.lastActivationError?.message ?? "", /broken|nonsense|parse|unknown/i, "the refused push's reason");
      assert.match(s.lastActivationError!.by, /^admin:/);
      assert.deepEqual({ configured: s.redis?.configured, topology: s.redis?.topology, up: s.redis?.up, breaker: s.redis?.breaker, endpoints: s.redis?.endpoints }, {
        configured: true,
        topology: "standalone",
        up: true,
        breaker: "closed",
        endpoints: [`127.0.0.1:${redis.port}`],
      });
      assert.equal(s.cache?.enabled, true);
      assert.ok(s.cache!.localEntries >= 1n, "the decided check is cached locally");
      assert.equal(s.decisionLog[0]?.name, "local");
      assert.equal(s.tracing?.enabled, false);
    } finally {
      a.close();
    }
  });

  it("a replica without Redis or cache says so; no activation error before any", async () => {
    const s = await status(plain);
    assert.equal(s.redis?.configured, false);
    assert.equal(s.cache?.enabled, false);
    assert.equal(s.lastActivationError, undefined);
  });

  it("`verdict status` prints every replica asked, and fails when one cannot be reached", async () => {
    const env = { ...process.env, VERDICT_ADMIN_TOKEN: TOKEN };
    const { stdout } = await run(process.execPath, [MAIN, "status", "--addr", v.adminAddr, plain.adminAddr], { env, timeout: 20_000 });
    assert.match(stdout, new RegExp(`${v.adminAddr} .*\\n  bundle:     example-docs-api`));
    assert.match(stdout, /redis:      standalone .* up, breaker closed/);
    assert.match(stdout, /redis:      not configured/);
    assert.match(stdout, /cache:      off/);
    const json = await run(process.execPath, [MAIN, "status", "--json", "--addr", v.adminAddr], { env, timeout: 20_000 });
    assert.equal((JSON.parse(json.stdout) as { bundle: { name: string } }).bundle.name, "example-docs-api");
    await assert.rejects(run(process.execPath, [MAIN, "status", "--addr", v.adminAddr, "127.0.0.1:1"], { env, timeout: 20_000 }), (err: { code: number; stdout: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stdout, /127\.0\.0\.1:1: status failed: cannot reach the admin listener/);
      return true;
    });
  });
});
