import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// The published AuthZEN Todo interop vectors (Authorization API 1.0, draft 02 shape), copied
// unchanged from the openid/authzen repository; see shared/conformance/authzen-todo/SCENARIO.md.
const vectors = JSON.parse(readFileSync(join(REPO, "test/authzen/fixtures/todo-decisions-authorization-api-1_0-02.json"), "utf8")) as {
  evaluation: { request: unknown; expected: boolean }[];
  evaluations: { request: unknown; expected: { decision: boolean }[] }[];
};
const BUNDLE = join(REPO, "policies/examples/authzen-todo");
const RICK = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

describe("AuthZEN Todo interop suite over HTTP", () => {
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(BUNDLE)));
  after(() => v.stop());
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${v.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: "undefined", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  it(`gives every one of the ${vectors.evaluation.length} single-evaluation vectors its published decision`, async () => {
    assert.equal(vectors.evaluation.length, 40);
    for (const [i, vector] of vectors.evaluation.entries()) {
      const res = await post("/access/v1/evaluation", vector.request);
      assert.equal(res.status, 200, `vector ${i}`);
      assert.deepEqual(await res.json(), { decision: vector.expected }, `vector ${i}: ${JSON.stringify(vector.request)}`);
    }
  });

  it(`gives every batch vector exactly the published items (bare {"decision": bool})`, async () => {
    assert.equal(vectors.evaluations.length, 3);
    for (const [i, vector] of vectors.evaluations.entries()) {
      const res = await post("/access/v1/evaluations", vector.request);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { evaluations: unknown[] };
      assert.equal(JSON.stringify(body.evaluations), JSON.stringify(vector.expected), `batch vector ${i}`);
    }
  });

  describe("Authorization API 1.0 behaviour (certification scenario)", () => {
    const base = { subject: { type: "user", id: RICK }, action: { name: "can_read_todos" }, resource: { type: "todo", id: "todo-1" } };
    it("echoes X-Request-ID", async () => {
      const res = await post("/access/v1/evaluation", base, { "x-request-id": "req-42" });
      assert.equal(res.headers.get("x-request-id"), "req-42");
    });
    it("ignores unknown members", async () => {
      const res = await post("/access/v1/evaluation", { ...base, extra: 1, subject: { ...base.subject, note: "x" } });
      assert.deepEqual(await res.json(), { decision: true });
    });
    it("answers 400 with a message for missing or mistyped members and invalid JSON", async () => {
      for (const body of [{ ...base, subject: undefined }, { ...base, action: { name: 5 } }, { ...base, resource: { type: "todo" } }, { ...base, subject: "rick" }, "{not json", "[]"]) {
        const res = await post("/access/v1/evaluation", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok((await res.text()).length > 0);
      }
    });
    it("refuses a 10 MB body with 413 and keeps serving", async () => {
      const res = await post("/access/v1/evaluation", JSON.stringify({ ...base, context: { pad: "x".repeat(10 * 1024 * 1024) } }));
      assert.equal(res.status, 413);
      assert.equal((await post("/access/v1/evaluation", base)).status, 200);
    });
    it("applies top-level defaults to each item, items replacing members whole; a bad item fails alone", async () => {
      const res = await post("/access/v1/evaluations", {
        subject: base.subject,
        action: { name: "can_update_todo" },
        resource: { type: "todo", id: "t", properties: { ownerID: "rick@the-citadel.com" } },
        evaluations: [{}, { action: { name: "can_read_user" }, resource: { type: "user", id: "x" } }, { resource: { type: "todo" } }],
      });
      const body = (await res.json()) as { evaluations: { decision: boolean; context?: unknown }[] };
      assert.equal(body.evaluations.length, 3);
      assert.equal(body.evaluations[0]!.decision, true);
      assert.equal(body.evaluations[1]!.decision, true);
      assert.equal(body.evaluations[2]!.decision, false);
      assert.match(JSON.stringify(body.evaluations[2]!.context), /resource\.id/);
    });
    it("honours evaluations_semantic", async () => {
      const items = [{ action: { name: "can_read_todos" } }, { action: { name: "can_create_todo" }, subject: { type: "user", id: "nobody" } }, { action: { name: "can_read_todos" } }];
      const run = async (semantic: string) =>
        ((await (await post("/access/v1/evaluations", { subject: base.subject, resource: base.resource, evaluations: items, options: { evaluations_semantic: semantic } })).json()) as { evaluations: unknown[] }).evaluations;
      assert.deepEqual(await run("execute_all"), [{ decision: true }, { decision: false }, { decision: true }]);
      assert.deepEqual(await run("deny_on_first_deny"), [{ decision: true }, { decision: false }]);
      assert.deepEqual(await run("permit_on_first_permit"), [{ decision: true }]);
      assert.equal((await post("/access/v1/evaluations", { ...base, options: { evaluations_semantic: "nope" } })).status, 400);
    });
    it("an empty batch behaves like a single evaluation", async () => {
      assert.deepEqual(await (await post("/access/v1/evaluations", { ...base, evaluations: [] })).json(), { decision: true });
    });
    it("publishes the discovery document", async () => {
      const res = await fetch(`${v.httpUrl}/.well-known/authzen-configuration`);
      const doc = (await res.json()) as Record<string, string>;
      assert.equal(doc["policy_decision_point"], v.httpUrl);
      assert.equal(doc["access_evaluation_endpoint"], `${v.httpUrl}/access/v1/evaluation`);
      assert.equal(doc["access_evaluations_endpoint"], `${v.httpUrl}/access/v1/evaluations`);
    });
    it("counts decisions under api=\"authzen\"", async () => {
      const text = await (await fetch(`${v.httpUrl}/metrics`)).text();
      assert.match(text, /verdict_decisions_total\{api="authzen",decision="allow"\} [1-9]/);
    });
  });
});

describe("AuthZEN caller authentication", () => {
  it("needs the configured bearer token: 401 without, 403 wrong", async () => {
    const v = await startVerdict(BUNDLE, { "authzen.token": "pep-token" });
    try {
      const body = JSON.stringify({ subject: { type: "user", id: RICK }, action: { name: "can_read_todos" }, resource: { type: "todo", id: "todo-1" } });
      const post = (auth?: string) => fetch(`${v.httpUrl}/access/v1/evaluation`, { method: "POST", headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) }, body });
      assert.equal((await post()).status, 401);
      assert.equal((await post("Bearer nope")).status, 403);
      assert.equal((await post("Bearer pep-token")).status, 200);
    } finally {
      await v.stop();
    }
  });
});
