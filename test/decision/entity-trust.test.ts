import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { writeBundle } from "../helpers/bundles.js";
import { startVerdict } from "../helpers/start-verdict.js";

// A gateway may say who the user is, but not which bundle-owned roles it holds.
const bundle = writeBundle({
  "manifest.json": JSON.stringify({ name: "trust", trustedEntityTypes: ["Role"] }),
  "p.cedar": `@id("admins") permit(principal in Role::"admin", action, resource);`,
  "entities.json": JSON.stringify([
    { uid: { type: "Role", id: "admin" }, attrs: {}, parents: [] },
    { uid: { type: "User", id: "root" }, attrs: {}, parents: [{ type: "Role", id: "admin" }] },
  ]),
});
after(() => bundle.cleanup());

const ask = (user: string, parents: { type: string; id: string }[] = [], extra: object[] = []) =>
  create(CheckRequestSchema, {
    principal: { uid: { type: "User", id: user }, parents },
    action: { type: "Action", id: "read" },
    resource: { uid: { type: "Doc", id: "d" } },
    entities: extra as never,
  });

describe("bundle-owned entity types", () => {
  it("refuse a claimed membership and a redefinition; the bundle's own membership counts", async () => {
    const v = await startVerdict(bundle.dir);
    try {
      await assert.rejects(v.client.call("check", ask("mallory", [{ type: "Role", id: "admin" }])), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, /principal\.parents: membership in Role::"admin" \(a bundle-owned type\) cannot be claimed/);
        return true;
      });
      await assert.rejects(v.client.call("check", ask("mallory", [], [{ uid: { type: "Role", id: "staff" }, parents: [{ type: "Role", id: "admin" }] }])), (err: grpc.ServiceError) =>
        /entities\[0\]: Role::"staff" is of a bundle-owned type/.test(err.details),
      );
      assert.equal((await v.client.call<CheckResponse>("check", ask("root"))).decision, Decision.ALLOW);
      assert.equal((await v.client.call<CheckResponse>("check", ask("mallory"))).decision, Decision.DENY);
    } finally {
      await v.stop();
    }
  });

  it("in ignore mode the claimed data is dropped, never granting access", async () => {
    const v = await startVerdict(bundle.dir, { "engine.untrustedEntityData": "ignore" });
    try {
      const res = await v.client.call<CheckResponse>("check", ask("mallory", [{ type: "Role", id: "admin" }]));
      assert.equal(res.decision, Decision.DENY);
    } finally {
      await v.stop();
    }
  });
});
