import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ComparisonOperator, PlanKind, type PlanRequest, PlanRequestSchema, type PlanResponse, PlanResponseSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { runCliAsync } from "../helpers/cli.js";
import { EXAMPLE_BUNDLE, writeBundle } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const viewer = {
  principal: {
    uid: { type: "App::User", id: "bob" },
    attrs: { tenant: { entity: { type: "App::Tenant", id: "acme" } }, department: { string: "sales" }, suspended: { bool: false } },
    parents: [{ type: "App::Role", id: "viewer" }],
  },
  action: { type: "App::Action", id: "view" },
  resourceType: "App::Document",
  context: { mfa: { bool: false }, sourceIp: { extension: { fn: "ip", arg: "10.1.2.3" } } },
  requestId: "list-1",
};
const request = (over: Record<string, unknown> = {}): PlanRequest => fromJson(PlanRequestSchema, { ...viewer, ...over } as JsonValue);

async function refused(verdict: RunningVerdict, req: PlanRequest, code: grpc.status, mentions: RegExp): Promise<void> {
  await assert.rejects(verdict.client.call("plan", req), (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.match(err.details, mentions);
    return true;
  });
}

describe("Plan over gRPC, example bundle", () => {
  let verdict: RunningVerdict;
  before(async () => {
    verdict = await startVerdict(EXAMPLE_BUNDLE);
  });
  after(() => verdict.stop());

  it("a viewer may view the non-confidential documents of their tenant (without MFA)", async () => {
    const res = await verdict.client.call<PlanResponse>("plan", request());
    assert.equal(res.kind, PlanKind.CONDITIONAL);
    assert.equal(res.requestId, "list-1");
    assert.match(res.bundleRevision, /^sha256-[0-9a-f]{16}$/);
    assert.deepEqual((toJson(PlanResponseSchema, res) as { filter?: unknown }).filter, {
      and: {
        filters: [
          { compare: { op: "COMPARISON_OPERATOR_EQ", left: { attribute: { names: ["tenant"] } }, right: { value: { entity: { type: "App::Tenant", id: "acme" } } } } },
          { not: { compare: { op: "COMPARISON_OPERATOR_EQ", left: { attribute: { names: ["classification"] } }, right: { value: { string: "confidential" } } } } },
        ],
      },
    });
    assert.deepEqual(res.forbidPolicies, ["tenant-isolation", "confidential-needs-mfa"]);
    assert.ok(res.permitPolicies.includes("viewer-read"));
  });
  it("a suspended account is always denied, naming the forbid", async () => {
    const principal = { ...viewer.principal, attrs: { ...viewer.principal.attrs, suspended: { bool: true } } };
    const res = await verdict.client.call<PlanResponse>("plan", request({ principal }));
    assert.equal(res.kind, PlanKind.ALWAYS_DENIED);
    assert.equal(res.filter, undefined);
    assert.ok(res.forbidPolicies.includes("suspended-accounts"));
  });
  it("an admin with MFA on the corporate network: the tenant alone", async () => {
    const principal = { ...viewer.principal, parents: [{ type: "App::Role", id: "admin" }] };
    const context = { ...viewer.context, mfa: { bool: true } };
    const res = await verdict.client.call<PlanResponse>("plan", request({ principal, context, action: { type: "App::Action", id: "delete" } }));
    assert.equal(res.kind, PlanKind.CONDITIONAL);
    assert.equal(res.filter?.node.case, "compare");
    assert.equal(res.filter?.node.case === "compare" && res.filter.node.value.op, ComparisonOperator.EQ);
  });
  it("an unknown resource type, an unknown action, one that does not apply: INVALID_ARGUMENT naming it", async () => {
    await refused(verdict, request({ resourceType: "App::Spreadsheet" }), grpc.status.INVALID_ARGUMENT, /resource_type: "App::Spreadsheet" is not an entity type/);
    await refused(verdict, request({ action: { type: "App::Action", id: "teleport" } }), grpc.status.INVALID_ARGUMENT, /action: App::Action::"teleport" is not an action/);
    await refused(verdict, request({ resourceType: "App::Project" }), grpc.status.INVALID_ARGUMENT, /resource_type: action App::Action::"view" does not apply to App::Project/);
    await refused(verdict, request({ action: { type: "App::Action", id: "read" } }), grpc.status.INVALID_ARGUMENT, /does not apply to App::Document \(it applies to no resource type\)/);
  });
  it("malformed requests are refused with the field named, limits as for Check", async () => {
    await refused(verdict, create(PlanRequestSchema, { action: { type: "App::Action", id: "view" }, resourceType: "App::Document" }), grpc.status.INVALID_ARGUMENT, /^principal: required/);
    await refused(verdict, request({ resourceType: "" }), grpc.status.INVALID_ARGUMENT, /^resource_type: must not be empty/);
    await refused(verdict, request({ resourceType: "App::Doc ument" }), grpc.status.INVALID_ARGUMENT, /^resource_type: .* is not a Cedar type name/);
    await refused(verdict, request({ context: { mfa: { string: "yes" }, sourceIp: viewer.context.sourceIp } }), grpc.status.INVALID_ARGUMENT, /context/);
    const entities = Array.from({ length: 1001 }, (_, i) => ({ uid: { type: "App::User", id: `u${i}` } }));
    await refused(verdict, request({ entities }), grpc.status.RESOURCE_EXHAUSTED, /entities: 1001 entities is over the limit of 1000/);
  });
  it("plans are counted by kind, refusals under api=plan", async () => {
    const text = await (await fetch(`${verdict.httpUrl}/metrics`)).text();
    assert.match(text, /verdict_plans_total\{kind="conditional"\} [1-9]/);
    assert.match(text, /verdict_plans_total\{kind="always_denied"\} [1-9]/);
    assert.match(text, /verdict_invalid_requests_total\{api="plan"\} [1-9]/);
  });
  it("`verdict plan` asks the server and prints the plan with its SQL", async () => {
    const { dir, cleanup } = writeBundle({
      "request.json": JSON.stringify(viewer),
      "map.json": JSON.stringify({ columns: { tenant: "tenant_id", classification: "classification" } }),
    });
    try {
      const r = await runCliAsync(["plan", "--addr", verdict.grpcAddr, "--request", join(dir, "request.json"), "--sql", join(dir, "map.json")]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { plan: { kind: string }; sql: unknown };
      assert.equal(out.plan.kind, "PLAN_KIND_CONDITIONAL");
      assert.deepEqual(out.sql, { where: "(tenant_id = $1 AND NOT (classification IS NOT NULL AND classification = $2))", params: ["acme", "confidential"] });
    } finally {
      cleanup();
    }
  });
});

describe("Plan over gRPC: a policy no filter can express", () => {
  let verdict: RunningVerdict;
  let cleanup: () => void;
  before(async () => {
    const bundle = writeBundle({
      "manifest.json": JSON.stringify({ name: "geo" }),
      "schema.cedarschema": "entity User; entity Site = { addr: ipaddr }; action visit appliesTo { principal: User, resource: Site };",
      "p.cedar": `@id("corp-sites") permit(principal, action, resource) when { resource.addr.isInRange(ip("10.0.0.0/8")) };`,
    });
    cleanup = bundle.cleanup;
    verdict = await startVerdict(bundle.dir);
  });
  after(async () => {
    await verdict.stop();
    cleanup();
  });

  it("is refused with FAILED_PRECONDITION naming the policy and the construct, never guessed", async () => {
    const req = create(PlanRequestSchema, { principal: { uid: { type: "User", id: "u" } }, action: { type: "Action", id: "visit" }, resourceType: "Site" });
    await refused(verdict, req, grpc.status.FAILED_PRECONDITION, /policy "corp-sites": the extension function isInRange\(\) on the resource's attributes cannot be expressed as a resource filter for Site/);
  });
});
