import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientDecisionCache } from "../../clients/typescript/src/decision-cache.js";
import { CheckRequestSchema as ClientCheckRequestSchema } from "../../clients/typescript/src/gen/verdict/v1/authorization_pb.js";
import { datetime, decimal, entity, ip, toCheckRequest, uid, VerdictCallError, VerdictClient } from "../../clients/typescript/src/index.js";
import { startGuardedService } from "../../clients/typescript/examples/node-http-middleware.js";
import { CheckResponseSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { fromJson } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE, REPO } from "../helpers/bundles.js";

const MAIN = join(REPO, "dist", "src", "main.js");

/** `verdict serve` as users run it, on free loopback ports, state in a temp folder. */
function serve(dir: string): Promise<{ child: ChildProcess; grpc: string }> {
  const env = { PATH: process.env["PATH"] ?? "", HOME: dir, VERDICT_DECISION_LOG_DESTINATION: "off", VERDICT_BUNDLES_STATE_DIR: join(dir, "state"), VERDICT_BUNDLES_WATCH: "false" };
  const child = spawn(process.execPath, [MAIN, "serve", "--policies", EXAMPLE_BUNDLE, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"], { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
  const guard = setTimeout(() => child.kill("SIGKILL"), 300_000).unref();
  child.once("exit", () => clearTimeout(guard));
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /"grpc":"([^"]+)"/.exec(err);
      if (m) resolve({ child, grpc: m[1]! });
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const frank = entity("App::User", "frank", { attrs: { tenant: uid("App::Tenant", "acme"), department: "eng", suspended: false } });
const pressKit = entity("App::Document", "press-kit", { attrs: { tenant: uid("App::Tenant", "acme"), owner: uid("App::User", "alice"), department: "marketing", classification: "public" } });
const view = { principal: frank, action: uid("App::Action", "view"), resource: pressKit, context: { mfa: true, sourceIp: ip("10.1.2.3") } };

describe("TypeScript client against a real verdict serve", () => {
  const dir = mkdtempSync(join(tmpdir(), "verdict-client-"));
  let server: { child: ChildProcess; grpc: string };
  let client: VerdictClient;
  before(async () => {
    server = await serve(dir);
    client = new VerdictClient({ address: server.grpc, deadlineMs: 5_000, cache: { maxEntries: 100, ttlMs: 60_000 } });
  });
  after(async () => {
    client.close();
    const exited = new Promise((r) => server.child.once("exit", r));
    server.child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("builders produce exactly the wire request a policy test writes by hand", () => {
    const test = JSON.parse(readFileSync(join(EXAMPLE_BUNDLE, "tests/anyone_in_tenant_can_view_public.json"), "utf8")) as { request: Record<string, unknown> };
    const hand = fromJson(CheckRequestSchema, { ...test.request, entities: [], requestId: "" } as never);
    const built = toCheckRequest(view);
    assert.deepEqual(Buffer.from(toBinary(ClientCheckRequestSchema, built)), Buffer.from(toBinary(CheckRequestSchema, { ...hand, resource: { ...hand.resource!, parents: [] } })));
  });
  it("values: longs, sets, records, extensions; a float is refused naming its path", () => {
    const r = toCheckRequest({ ...view, context: { n: 2n ** 60n, tags: new Set(["a"]), limits: { max: 3 }, price: decimal("1.5"), at: datetime("2026-01-01T00:00:00Z") } });
    assert.equal(r.context["n"]?.kind.value, 2n ** 60n);
    assert.equal(r.context["tags"]?.kind.case, "set");
    assert.equal(r.context["limits"]?.kind.case, "record");
    assert.throws(() => toCheckRequest({ ...view, context: { ratio: 0.5 } }), /context\.ratio: 0\.5 is not a safe integer/);
    assert.throws(() => uid("App::User", ""), /must not be empty/);
  });
  it("check answers allow with the determining policies; isAllowed is false on deny", async () => {
    const r = await client.check({ ...view, requestId: "client-1" });
    assert.equal(r.decision, "allow");
    assert.deepEqual(r.determiningPolicies, ["public-view"]);
    assert.equal(r.requestId, "client-1");
    assert.match(r.decisionId, /^[0-9a-f-]{36}$/);
    assert.equal(await client.isAllowed({ ...view, action: uid("App::Action", "delete") }), false);
  });
  it("the client cache answers a repeated question, keyed without the request id", async () => {
    const q = { ...view, context: { mfa: false, sourceIp: ip("10.9.9.9") } };
    assert.notEqual((await client.check(q)).cache, "client");
    const again = await client.check({ ...q, requestId: "other" });
    assert.equal(again.cache, "client");
    assert.equal(again.decision, "allow");
    assert.equal(again.requestId, "other");
  });
  it("batchCheck keeps request order, an invalid item fails alone", async () => {
    const [one, two] = await client.batchCheck([view, { ...view, context: { mfa: "yes", sourceIp: ip("10.1.2.3") } }]);
    assert.equal(one?.ok && one.result.decision, "allow");
    assert.equal(two?.ok, false);
    assert.equal(!two?.ok && two?.error.code, grpc.status.INVALID_ARGUMENT);
  });
  it("a schema-invalid check throws INVALID_ARGUMENT and isAllowed is false", async () => {
    const bad = { ...view, context: { mfa: "yes", sourceIp: ip("10.1.2.3") } };
    await assert.rejects(client.check(bad), (e: unknown) => e instanceof VerdictCallError && e.code === grpc.status.INVALID_ARGUMENT);
    assert.equal(await client.isAllowed(bad), false);
  });
  it("the middleware example: 200 on allow, 401 without identity, 403 on deny", async () => {
    const svc = await startGuardedService(client, 0);
    const port = (svc.address() as { port: number }).port;
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/docs/acme/press-kit`, { headers: { "x-user": "frank" } })).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/docs/acme/press-kit`)).status, 401);
      assert.equal((await fetch(`http://127.0.0.1:${port}/docs/acme/press-kit`, { method: "DELETE", headers: { "x-user": "frank" } })).status, 403);
    } finally {
      svc.closeAllConnections();
      await new Promise((r) => svc.close(r));
    }
  });
  it("the README snippet runs as shown", () => {
    const readme = readFileSync(join(REPO, "clients/typescript/README.md"), "utf8");
    const code = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
    const file = join(dir, "snippet.mjs");
    writeFileSync(file, code.replace('"@verdict/client"', JSON.stringify(join(REPO, "dist/clients/typescript/src/index.js"))));
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 30_000, env: { PATH: process.env["PATH"] ?? "", VERDICT_ADDR: server.grpc } });
    assert.equal(run.status, 0, run.stderr);
    const expected = [...code.matchAll(/^console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1]!.replace(/ \(.*\)$/, ""));
    assert.deepEqual(run.stdout.trim().split("\n"), expected);
  });
});

describe("TypeScript client: deadlines, retries and failing closed", () => {
  let fake: grpc.Server;
  let address = "";
  let calls = 0;
  let answer: "unavailable" | "invalid" | "hang" | "ok" = "unavailable";
  before(async () => {
    fake = new grpc.Server();
    const method = (name: string) => ({ path: `/verdict.v1.AuthorizationService/${name}`, requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b });
    fake.addService({ Check: method("Check") } as grpc.ServiceDefinition, {
      Check: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => {
        calls++;
        if (answer === "unavailable") cb({ code: grpc.status.UNAVAILABLE, details: "down" } as grpc.ServiceError);
        else if (answer === "invalid") cb({ code: grpc.status.INVALID_ARGUMENT, details: "bad" } as grpc.ServiceError);
        else if (answer === "ok") cb(null, Buffer.from(toBinary(CheckResponseSchema, create(CheckResponseSchema, { decision: 1, bundleRevision: `r${calls}` }))));
        // "hang": never answers; the client's deadline ends the call.
      },
    });
    const port = await new Promise<number>((r, j) => fake.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    address = `127.0.0.1:${port}`;
  });
  after(() => fake.forceShutdown());

  it("retries UNAVAILABLE up to maxAttempts, then fails; isAllowed is false", async () => {
    const c = new VerdictClient({ address, deadlineMs: 5_000, retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 } });
    answer = "unavailable";
    calls = 0;
    await assert.rejects(c.check(view), (e: unknown) => e instanceof VerdictCallError && e.code === grpc.status.UNAVAILABLE);
    assert.equal(calls, 3);
    assert.equal(await c.isAllowed(view), false);
    c.close();
  });
  it("never retries another error", async () => {
    const c = new VerdictClient({ address, deadlineMs: 5_000, retry: { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 2 } });
    answer = "invalid";
    calls = 0;
    await assert.rejects(c.check(view), (e: unknown) => e instanceof VerdictCallError && e.code === grpc.status.INVALID_ARGUMENT);
    assert.equal(calls, 1);
    c.close();
  });
  it("the retry budget stops retries when most calls fail", async () => {
    const c = new VerdictClient({ address, deadlineMs: 5_000, retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2, budgetMax: 2, budgetRatio: 0.1 } });
    answer = "unavailable";
    calls = 0;
    for (let i = 0; i < 5; i++) await c.isAllowed(view);
    assert.equal(calls, 5 + 2, "5 first attempts and the 2 retries the budget held");
    c.close();
  });
  it("a server that never answers ends at the deadline as DEADLINE_EXCEEDED, and isAllowed is false", async () => {
    const c = new VerdictClient({ address, deadlineMs: 100 });
    answer = "hang";
    await assert.rejects(c.check(view), (e: unknown) => e instanceof VerdictCallError && e.code === grpc.status.DEADLINE_EXCEEDED);
    assert.equal(await c.isAllowed(view), false);
    c.close();
  });
  it("an unreachable Verdict is a deny for isAllowed", async () => {
    const c = new VerdictClient({ address: "127.0.0.1:1", deadlineMs: 200, retry: { initialBackoffMs: 1, maxBackoffMs: 2 } });
    assert.equal(await c.isAllowed(view), false);
    c.close();
  });
  it("a response under another bundle revision empties the client cache", async () => {
    const c = new VerdictClient({ address, deadlineMs: 5_000, cache: { maxEntries: 10, ttlMs: 60_000 } });
    answer = "ok";
    calls = 0;
    await c.check(view); // r1, cached
    assert.equal((await c.check(view)).cache, "client");
    await c.check({ ...view, context: { mfa: false, sourceIp: ip("10.0.0.1") } }); // r2: the r1 entry goes
    assert.notEqual((await c.check(view)).cache, "client");
    c.close();
  });
});

describe("ClientDecisionCache", () => {
  it("expires entries after ttl, evicts the least recently used, and clears on a new revision", () => {
    let now = 0;
    const cache = new ClientDecisionCache<string>(2, 100, () => now);
    cache.set("a", "A", "r1");
    cache.set("b", "B", "r1");
    assert.equal(cache.get("a"), "A");
    cache.set("c", "C", "r1");
    assert.equal(cache.get("b"), undefined, "b was least recently used");
    now = 100;
    assert.equal(cache.get("a"), undefined, "expired");
    cache.set("d", "D", "r1");
    cache.observeRevision("r2");
    assert.equal(cache.size, 0);
  });
});

it("the client's generated code is the repository's generated code", () => {
  for (const f of ["verdict/v1/authorization_pb.ts", "google/rpc/status_pb.ts"]) {
    assert.equal(readFileSync(join(REPO, "clients/typescript/src/gen", f), "utf8"), readFileSync(join(REPO, "src/gen", f), "utf8"), f);
  }
});
