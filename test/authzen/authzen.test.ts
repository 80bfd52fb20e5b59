import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// The published AuthZEN Todo interop data (Authorization API 1.0, draft 02 vectors, the newest
// published), copied unchanged into fixtures/ from the shared conformance folder so the tests
// do not depend on files outside the repository; see that folder's SCENARIO.md for provenance.
const fixture = (name: string) => JSON.parse(readFileSync(join(REPO, "test/authzen/fixtures", name), "utf8")) as unknown;
type Batch = { request: Record<string, unknown>; expected: { decision: boolean }[] };
const decisions = fixture("todo-decisions-authorization-api-1_0-02.json") as { evaluation: { request: unknown; expected: boolean }[]; evaluations: Batch[] };
const evaluations = fixture("todo-evaluations-authorization-api-1_0-02.json") as { evaluations: Batch[] };
const directory = fixture("todo-directory.json") as Record<string, { id: string; email: string; roles: string[] }>;
const BUNDLE = join(REPO, "policies/examples/authzen-todo");
const RICK = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const MORTY = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

it("`verdict test` passes on the AuthZEN example bundles (Todo and certification fixture)", () => {
  for (const bundle of [BUNDLE, join(REPO, "policies/examples/authzen-certification")]) {
    const r = runCli(["test", bundle]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / passed, 0 failed/);
  }
});

describe("AuthZEN Todo interop suite over HTTP", () => {
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(BUNDLE)));
  after(() => v.stop());
  // As the upstream harness does: JSON as stored, and `Authorization: undefined` when no key is set.
  const post = (path: string, body: unknown) =>
    fetch(`${v.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: "undefined" }, body: JSON.stringify(body) });

  it("the bundle's users are the published directory: PID ids, email attributes, roles as parents", () => {
    const entities = JSON.parse(readFileSync(join(BUNDLE, "entities.json"), "utf8")) as { uid: { type: string; id: string }; attrs: { email?: string }; parents: { id: string }[] }[];
    const users = entities.filter((e) => e.uid.type === "Todo::User");
    assert.deepEqual(users.map((u) => u.uid.id).sort(), Object.keys(directory).sort());
    for (const u of users) {
      assert.equal(u.attrs.email, directory[u.uid.id]!.email);
      assert.deepEqual(u.parents.map((p) => p.id).sort(), [...directory[u.uid.id]!.roles].sort());
    }
  });

  // Twice: the second pass is answered from the decision cache and must not change a decision.
  for (const pass of ["engine", "cache"]) {
    it(`gives all ${decisions.evaluation.length} single-evaluation vectors their published decision (${pass})`, async () => {
      assert.equal(decisions.evaluation.length, 40);
      for (const [i, vector] of decisions.evaluation.entries()) {
        const res = await post("/access/v1/evaluation", vector.request);
        assert.equal(res.status, 200, `vector ${i}`);
        assert.equal(res.headers.get("content-type"), "application/json");
        assert.deepEqual(await res.json(), { decision: vector.expected }, `vector ${i}: ${JSON.stringify(vector.request)}`);
      }
    });
  }

  it("gives every batch vector exactly the published array, items bare {\"decision\": bool} (decisions.json and evaluations.json)", async () => {
    assert.deepEqual(evaluations.evaluations, decisions.evaluations, "evaluations.json is the batch part of decisions.json");
    const all = [...decisions.evaluations, ...evaluations.evaluations];
    assert.equal(all.length, 6);
    for (const [i, vector] of all.entries()) {
      const res = await post("/access/v1/evaluations", vector.request);
      assert.equal(res.status, 200);
      // The upstream harness compares the serialised arrays as strings.
      const body = (await res.json()) as { evaluations: unknown[] };
      assert.equal(JSON.stringify(body.evaluations), JSON.stringify(vector.expected), `batch vector ${i}`);
    }
  });

  it("answers the live Todo backend's shapes: single calls with an empty context, one batch per todo list", async () => {
    const own = { type: "todo", id: "7240d0db-8ff0-41ec-98b2-34a096273b91", properties: { ownerID: "morty@the-citadel.com" } };
    const res = await post("/access/v1/evaluation", { subject: { type: "user", id: MORTY }, action: { name: "can_update_todo" }, resource: own, context: {} });
    assert.deepEqual(await res.json(), { decision: true });
    const list = await post("/access/v1/evaluations", {
      subject: { type: "user", id: MORTY },
      action: { name: "can_update_todo" },
      evaluations: [{ resource: own }, { resource: { ...own, properties: { ownerID: "rick@the-citadel.com" } } }],
    });
    assert.equal(JSON.stringify(await list.json()), '{"evaluations":[{"decision":true},{"decision":false}]}');
  });

  it("the directory, not the caller, says who a user is: subject properties cannot grant a role or an email", async () => {
    const res = await post("/access/v1/evaluation", {
      subject: { type: "user", id: MORTY, properties: { email: "rick@the-citadel.com", roles: ["admin"] } },
      action: { name: "can_delete_todo" },
      resource: { type: "todo", id: "t", properties: { ownerID: "rick@the-citadel.com" } },
    });
    assert.deepEqual(await res.json(), { decision: false });
  });

  it("an unknown user, or a user id that is an email, is a deny or an allow, never an error", async () => {
    const read = await post("/access/v1/evaluation", { subject: { type: "user", id: RICK }, action: { name: "can_read_user" }, resource: { type: "user", id: RICK } });
    assert.deepEqual(await read.json(), { decision: true });
    const stranger = await post("/access/v1/evaluation", { subject: { type: "user", id: "nobody" }, action: { name: "can_create_todo" }, resource: { type: "todo", id: "todo-1" } });
    assert.deepEqual(await stranger.json(), { decision: false });
  });

  it("counts the decisions under api=\"authzen\"", async () => {
    const text = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.match(text, /verdict_decisions_total\{api="authzen",decision="allow"\} [1-9]/);
    assert.match(text, /verdict_decisions_total\{api="authzen",decision="deny"\} [1-9]/);
  });
});
