import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type CheckResponse, CheckRequestSchema, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// Every example request in policies/tests goes through the real gRPC Check and must get the
// decision and determining policies its file names.
describe("example bundle over gRPC Check", () => {
  let verdict: RunningVerdict;
  before(async () => {
    verdict = await startVerdict(EXAMPLE_BUNDLE);
  });
  after(() => verdict.stop());

  const dir = join(EXAMPLE_BUNDLE, "tests");
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  it("has at least 20 example requests", () => assert.ok(files.length >= 20, `${files.length} tests`));

  for (const file of files) {
    it(file.replace(/\.json$/, ""), async () => {
      const t = JSON.parse(readFileSync(join(dir, file), "utf8")) as { request: JsonValue; expect: { decision: string; determiningPolicies: string[] } };
      const res = await verdict.client.call<CheckResponse>("check", fromJson(CheckRequestSchema, t.request));
      assert.equal(res.decision, t.expect.decision === "allow" ? Decision.ALLOW : Decision.DENY);
      assert.deepEqual([...res.determiningPolicies].sort(), [...t.expect.determiningPolicies].sort());
      assert.equal(res.requestId, (t.request as { requestId: string }).requestId);
      assert.match(res.bundleRevision, /^sha256-[0-9a-f]{16}$/);
      assert.match(res.decisionId, /^[0-9a-f-]{36}$/);
    });
  }
});
