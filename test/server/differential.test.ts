import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type CheckRequest, CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { oracle } from "../helpers/cedar-oracle.js";
import { exampleBundleForOracle, exampleRequest, policiesOf } from "../helpers/example-requests.js";
import { rng } from "../helpers/random.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const e = (type: string, id: string) => ({ kind: { case: "entity" as const, value: { type, id } } });

async function compare(verdict: RunningVerdict, req: CheckRequest, policies: Record<string, string>, entities: unknown[], schema?: string) {
  const want = oracle(req, policies, entities, schema);
  assert.ok(!("error" in want), `oracle refused: ${"error" in want ? want.error : ""}`);
  const got = await verdict.client.call<CheckResponse>("check", req);
  assert.equal(got.decision, want.decision === "allow" ? Decision.ALLOW : Decision.DENY);
  assert.deepEqual([...got.determiningPolicies].sort(), want.reasons);
}

describe("decisions equal cedar-wasm's isAuthorized", () => {
  describe("example bundle (schema, static entities)", () => {
    let verdict: RunningVerdict;
    before(async () => (verdict = await startVerdict(EXAMPLE_BUNDLE)));
    after(() => verdict.stop());
    it("agrees on 300 random requests", async () => {
      const { policies, entities, schema } = exampleBundleForOracle();
      const r = rng(20261123);
      let allows = 0;
      for (let i = 0; i < 300; i++) {
        const req = exampleRequest(r);
        await compare(verdict, req, policies, entities, schema);
        if ((await verdict.client.call<CheckResponse>("check", req)).decision === Decision.ALLOW) allows++;
      }
      assert.ok(allows > 20 && allows < 280, `a useful mix of outcomes (${allows} allows)`);
    });
  });

  describe("a bundle without schema", () => {
    const texts = [
      `@id("p-owner") permit(principal, action, resource) when { resource.owner == principal };`,
      `@id("p-group") permit(principal in Group::"staff", action == Action::"read", resource);`,
      `@id("f-level") forbid(principal, action, resource) when { principal has level && principal.level < 3 };`,
    ];
    const bundle = writeBundle({ "manifest.json": '{"name":"noschema"}', "p.cedar": texts.join("\n") });
    let verdict: RunningVerdict;
    before(async () => (verdict = await startVerdict(bundle.dir)));
    after(async () => {
      await verdict.stop();
      bundle.cleanup();
    });
    it("agrees on 200 random requests", async () => {
      const policies = policiesOf(texts);
      const r = rng(7);
      for (let i = 0; i < 200; i++) {
        const who = r.pick(["u1", "u2", "u3"]);
        const attrs: Record<string, unknown> = r.bool() ? { level: { kind: { case: "long", value: BigInt(r.int(6)) } } } : {};
        const req = create(CheckRequestSchema, {
          principal: { uid: { type: "User", id: who }, attrs: attrs as never, parents: r.bool() ? [{ type: "Group", id: r.pick(["staff", "guests"]) }] : [] },
          action: { type: "Action", id: r.pick(["read", "write"]) },
          resource: { uid: { type: "Doc", id: "d" }, attrs: { owner: e("User", r.pick(["u1", "u2", "u3"])) } },
        });
        await compare(verdict, req, policies, []);
      }
    });
  });
});
