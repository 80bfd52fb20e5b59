import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// The AuthZEN Authorization API 1.0 certification scenario (openid/authzen,
// certification/authorization-api-1_0-scenario.md): its fixture is the bundle
// policies/examples/authzen-certification; each test names the section it covers.
const BUNDLE = join(REPO, "policies/examples/authzen-certification");
const alice = { type: "user", id: "alice" };
const bob = { type: "user", id: "bob" };
const read = { name: "read" };
const write = { name: "write" };
const record1 = { type: "record", id: "record-1" };
const record2 = { type: "record", id: "record-2" };
const archived2 = { ...record2, properties: { status: "archived" } };

describe("AuthZEN certification scenario (Basic, Batch, Discovery)", () => {
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(BUNDLE)));
  after(() => v.stop());
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${v.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const decision = async (body: unknown) => {
    const res = await post("/access/v1/evaluation", body);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(res.headers.get("content-type"), "application/json");
    return ((await res.json()) as { decision: unknown }).decision;
  };
  const batch = async (body: unknown) => {
    const res = await post("/access/v1/evaluations", body);
    assert.equal(res.status, 200, JSON.stringify(body));
    return (await res.json()) as { evaluations: { decision: boolean; context?: unknown }[] };
  };
  const status = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await post("/access/v1/evaluation", body, headers);
    const text = await res.text();
    if (res.status !== 200) assert.ok(text.length > 0, "an error carries a message");
    return res.status;
  };

  it("2.2.1–2.2.9: the eight fixture decisions, optional context, additional properties, unknown fields", async () => {
    assert.equal(await decision({ subject: alice, action: read, resource: record1 }), true);
    assert.equal(await decision({ subject: alice, action: write, resource: record1 }), true);
    assert.equal(await decision({ subject: bob, action: read, resource: record1 }), true);
    assert.equal(await decision({ subject: bob, action: write, resource: record1 }), false);
    assert.equal(await decision({ subject: alice, action: write, resource: archived2 }), false);
    assert.equal(await decision({ subject: { ...bob, properties: { role: "admin" } }, action: write, resource: archived2 }), true);
    assert.equal(await decision({ subject: alice, action: { name: "delete", properties: { soft: true } }, resource: record1 }), true);
    assert.equal(await decision({ subject: alice, action: { name: "delete", properties: { soft: false } }, resource: record1 }), false);
    assert.equal(await decision({ subject: alice, action: read, resource: record1, context: { time: "2025-06-27T18:03-07:00", ip: "192.168.1.1" } }), true);
    assert.equal(
      await decision({
        subject: { ...alice, properties: { department: "Sales", role: "manager" } },
        action: { name: "read", properties: { method: "GET" } },
        resource: { ...record1, properties: { status: "active", owner: "bob" } },
      }),
      true,
    );
    assert.equal(await decision({ subject: alice, action: read, resource: record1, foo: "bar", futureField: { nested: true } }), true);
  });

  it("context members are typed through the schema: a bad ip address is refused, naming it", async () => {
    const res = await post("/access/v1/evaluation", { subject: alice, action: read, resource: record1, context: { ip: "not-an-ip" } });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /ip/);
  });

  it("2.4.1–2.4.2, 2.4.6: missing members, missing sub-fields and wrong types are 400", async () => {
    for (const body of [
      { action: read, resource: record1 },
      { subject: alice, resource: record1 },
      { subject: alice, action: read },
      { subject: { id: "alice" }, action: read, resource: record1 },
      { subject: { type: "user" }, action: read, resource: record1 },
      { subject: alice, action: {}, resource: record1 },
      { subject: alice, action: read, resource: { id: "record-1" } },
      { subject: alice, action: read, resource: { type: "record" } },
      { subject: "alice", action: read, resource: record1 },
      { subject: alice, action: { name: 123 }, resource: record1 },
      { subject: { ...alice, properties: "x" }, action: read, resource: record1 },
      { subject: alice, action: read, resource: record1, context: [] },
      { subject: alice, action: read, resource: record1, context: { __entity: { type: "Cert::User", id: "x" } } },
    ]) {
      assert.equal(await status(body), 400, JSON.stringify(body));
    }
  });

  it("2.4.3–2.4.5: a wrong Content-Type, malformed JSON, an empty body or a non-object body are 400", async () => {
    assert.equal(await status({ subject: alice, action: read, resource: record1 }, { "content-type": "text/plain" }), 400);
    assert.equal(await status("subject=alice", { "content-type": "application/x-www-form-urlencoded" }), 400);
    assert.equal(await status({ subject: alice, action: read, resource: record1 }, { "content-type": "application/json; charset=utf-8" }), 200);
    for (const body of ["{not json", "", "[]", "null", '"x"']) assert.equal(await status(body), 400, JSON.stringify(body));
  });

  it("a 10 MB body is refused with 413 (declared or streamed), and the server keeps serving", async () => {
    const big = JSON.stringify({ subject: alice, action: read, resource: record1, context: { pad: "x".repeat(10 * 1024 * 1024) } });
    assert.equal(await status(big), 413);
    // Chunked, with no Content-Length: refused once the limit is crossed, not after reading it all.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${v.httpUrl}/access/v1/evaluation`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(64 * 1024, "x");
      let sent = 0;
      const pump = () => {
        while (sent < 10 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      req.write('{"pad":"');
      pump();
    });
    assert.equal(streamed, 413);
    assert.equal(await decision({ subject: alice, action: read, resource: record1 }), true);
  });

  it("2.5: X-Request-ID is echoed, also on errors; without one the PDP sends its own", async () => {
    const echoed = await post("/access/v1/evaluation", { subject: alice, action: read, resource: record1 }, { "x-request-id": "bfe9eb29-ab87-4ca3-be83-a1d5d8305716" });
    assert.equal(echoed.headers.get("x-request-id"), "bfe9eb29-ab87-4ca3-be83-a1d5d8305716");
    const failed = await post("/access/v1/evaluations", "{", { "x-request-id": "req-bad" });
    assert.equal(failed.status, 400);
    assert.equal(failed.headers.get("x-request-id"), "req-bad");
    const generated = await post("/access/v1/evaluation", { subject: alice, action: read, resource: record1 });
    assert.equal(generated.status, 200);
    assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  it("2.6: the same request gets the same decision every time", async () => {
    for (let i = 0; i < 5; i++) assert.equal(await decision({ subject: bob, action: write, resource: record1 }), false);
  });

  it("3.2.1–3.2.7: batches with defaults, overrides, context inheritance and identifier fallback, answered in order", async () => {
    const one = await batch({ subject: alice, action: read, evaluations: [{ resource: record1 }, { resource: record2 }] });
    assert.equal(one.evaluations.length, 2);
    assert.ok(one.evaluations.every((e) => typeof e.decision === "boolean"));
    assert.deepEqual(await batch({ subject: bob, resource: record1, evaluations: [{ action: read }, { action: write }] }), { evaluations: [{ decision: true }, { decision: false }] });
    assert.deepEqual(
      await batch({ subject: alice, action: write, evaluations: [{ resource: { ...record1, properties: { status: "active" } } }, { resource: archived2 }] }),
      { evaluations: [{ decision: true }, { decision: false }] },
    );
    assert.deepEqual(
      await batch({ action: write, resource: archived2, evaluations: [{ subject: alice }, { subject: { ...bob, properties: { role: "admin" } } }] }),
      { evaluations: [{ decision: false }, { decision: true }] },
    );
    assert.deepEqual(
      await batch({ evaluations: [{ subject: alice, action: read, resource: record1 }, { subject: bob, action: write, resource: record1 }] }),
      { evaluations: [{ decision: true }, { decision: false }] },
    );
    const inherited = await batch({
      subject: alice,
      action: read,
      context: { time: "2025-06-27T18:03-07:00" },
      evaluations: [{ resource: record1 }, { resource: record2, context: { time: "2025-06-27T19:00-07:00", source: "batch-override" } }],
    });
    assert.equal(inherited.evaluations.length, 2);
    assert.deepEqual(
      await batch({
        subject: alice,
        action: write,
        resource: { type: "record" },
        evaluations: [{ resource: { id: "record-1", properties: { status: "active" } } }, { resource: archived2 }],
      }),
      { evaluations: [{ decision: true }, { decision: false }] },
    );
  });

  it("an item's member replaces the default whole: its properties are not merged with the default's", async () => {
    const res = await batch({ subject: alice, action: write, resource: archived2, evaluations: [{}, { resource: { type: "record", id: "record-2" } }] });
    assert.deepEqual(res, { evaluations: [{ decision: false }, { decision: true }] });
  });

  it("3.4.1: a bad item fails alone with decision false and the error in its context; the others are answered", async () => {
    const res = await batch({ subject: alice, action: read, evaluations: [{ resource: record1 }, {}, "item", { resource: { ...record1, properties: { __extn: 1 } } }] });
    assert.equal(res.evaluations.length, 4);
    assert.deepEqual(res.evaluations[0], { decision: true });
    for (const [i, item] of res.evaluations.slice(1).entries()) {
      assert.equal(item.decision, false);
      const error = (item.context as { error: { status: number; message: string } }).error;
      assert.equal(error.status, 400);
      assert.match(error.message, new RegExp(`^evaluations\\[${i + 1}\\]: `));
    }
    assert.match(JSON.stringify(res.evaluations[1]), /resource: required object/);
  });

  it("3.4.2–3.4.3: without items, or with none, the batch endpoint answers like a single evaluation", async () => {
    assert.deepEqual(await batch({ subject: alice, action: read, resource: record1 }), { decision: true });
    assert.deepEqual(await batch({ subject: alice, action: read, resource: record1, evaluations: [] }), { decision: true });
    const res = await post("/access/v1/evaluations", { subject: alice, action: read, evaluations: [] });
    assert.equal(res.status, 400);
  });

  it("evaluations_semantic: execute_all, deny_on_first_deny, permit_on_first_permit", async () => {
    const items = [{ action: read }, { action: write }, { action: read }];
    const run = async (semantic?: string) => (await batch({ subject: bob, resource: record1, evaluations: items, ...(semantic ? { options: { evaluations_semantic: semantic } } : {}) })).evaluations;
    assert.deepEqual(await run(), [{ decision: true }, { decision: false }, { decision: true }]);
    assert.deepEqual(await run("execute_all"), [{ decision: true }, { decision: false }, { decision: true }]);
    assert.deepEqual(await run("deny_on_first_deny"), [{ decision: true }, { decision: false }]);
    assert.deepEqual(await run("permit_on_first_permit"), [{ decision: true }]);
    const errorFirst = await batch({ subject: bob, resource: record1, evaluations: [{}, ...items].map((x, i) => (i === 0 ? { action: {} } : x)), options: { evaluations_semantic: "deny_on_first_deny" } });
    assert.equal(errorFirst.evaluations.length, 1, "an error counts as a deny");
    for (const bad of [{ evaluations_semantic: "first" }, "all"]) {
      assert.equal((await post("/access/v1/evaluations", { subject: bob, resource: record1, evaluations: items, options: bad })).status, 400);
    }
    assert.equal((await post("/access/v1/evaluations", { subject: bob, resource: record1, evaluations: {} })).status, 400);
  });

  it("a batch over the batch limit is refused as a whole", async () => {
    const res = await post("/access/v1/evaluations", { subject: bob, resource: record1, action: read, evaluations: Array.from({ length: 101 }, () => ({})) });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /batch limit of 100/);
  });

  it("6: the metadata document names this PDP's base URL and its endpoints", async () => {
    const res = await fetch(`${v.httpUrl}/.well-known/authzen-configuration`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.deepEqual(await res.json(), {
      policy_decision_point: v.httpUrl,
      access_evaluation_endpoint: `${v.httpUrl}/access/v1/evaluation`,
      access_evaluations_endpoint: `${v.httpUrl}/access/v1/evaluations`,
    });
  });

  it("refusals are counted as invalid requests under api=\"authzen\"", async () => {
    const text = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.match(text, /verdict_invalid_requests_total\{api="authzen"\} [1-9]/);
  });
});

describe("AuthZEN caller authentication and public URL", () => {
  it("needs the configured bearer token (from a file): 401 without, 403 wrong; discovery stays open", async () => {
    const file = join(tmpdir(), `authzen-token-${process.pid}`);
    writeFileSync(file, "pep-token\n");
    const v = await startVerdict(BUNDLE, { "authzen.tokenFile": file, "authzen.publicUrl": "https://pdp.example.com/tenant1" });
    try {
      const body = JSON.stringify({ subject: alice, action: read, resource: record1 });
      const post = (auth?: string) => fetch(`${v.httpUrl}/access/v1/evaluation`, { method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) }, body });
      const missing = await post();
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await post("undefined")).status, 401);
      assert.equal((await post("Bearer nope")).status, 403);
      const ok = await post("Bearer pep-token");
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { decision: true });
      const meta = (await (await fetch(`${v.httpUrl}/.well-known/authzen-configuration`)).json()) as Record<string, string>;
      assert.equal(meta["policy_decision_point"], "https://pdp.example.com/tenant1");
      assert.equal(meta["access_evaluation_endpoint"], "https://pdp.example.com/tenant1/access/v1/evaluation");
    } finally {
      await v.stop();
    }
  });
});
