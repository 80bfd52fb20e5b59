import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { Authorization, type CheckResponse as EnvoyResponse, CheckRequestSchema as EnvoyRequestSchema } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import {
  BatchCheckRequestSchema,
  type BatchCheckResponse,
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
  Decision,
  PlanRequestSchema,
} from "../../src/gen/verdict/v1/authorization_pb.js";
import { REPO } from "../helpers/bundles.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

// The envoy-gateway example, plus one static user, so a bare uid can refer to it.
const dir = mkdtempSync(join(tmpdir(), "verdict-bare-"));
cpSync(join(REPO, "policies/examples/envoy-gateway"), dir, { recursive: true });
const staticEntities = JSON.parse(readFileSync(join(dir, "entities.json"), "utf8")) as unknown[];
staticEntities.push({ uid: { type: "Gw::User", id: "static-ann" }, attrs: { tenant: "acme" }, parents: [{ type: "Gw::Role", id: "viewer" }] });
writeFileSync(join(dir, "entities.json"), JSON.stringify(staticEntities));
after(() => rmSync(dir, { recursive: true, force: true }));

const str = (value: string) => ({ kind: { case: "string" as const, value } });
const context = {
  method: str("GET"),
  path: str("/v1/tenants/globex/documents/d1"),
  host: str("api.example.test"),
  sourceIp: { kind: { case: "extension" as const, value: { fn: "ip", arg: "10.0.0.5" } } },
  clientCert: { kind: { case: "bool" as const, value: false } },
  requestTime: { kind: { case: "long" as const, value: 1_700_000_000n } },
  headers: { kind: { case: "record" as const, value: { fields: { "x-tenant": str("globex") } } } },
};
type EntityInit = { uid: { type: string; id: string }; attrs?: Record<string, unknown>; parents?: { type: string; id: string }[] };
const read = (principal: EntityInit, entities: EntityInit[] = [], more: Record<string, unknown> = {}): CheckRequest =>
  create(CheckRequestSchema, {
    principal,
    action: { type: "Gw::Action", id: "read" },
    resource: { uid: { type: "Gw::Document", id: "globex/d1" }, attrs: { tenant: str("globex") } },
    context: { ...context, ...more },
    entities,
  } as MessageInitShape<typeof CheckRequestSchema>);
const user = (id: string) => ({ uid: { type: "Gw::User", id } });
const MISSING_TENANT = /Gw::User::"mallory".*attribute `tenant`/;

// As Envoy sends it when jwt_authn verified a token that has `sub` and nothing else.
const envoyRead = (jwtPayload: Record<string, unknown>) =>
  create(EnvoyRequestSchema, {
    attributes: {
      source: { address: { address: { case: "socketAddress", value: { address: "10.0.0.5", portSpecifier: { case: "portValue", value: 41000 } } } } },
      request: {
        time: { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 },
        http: { method: "GET", path: "/v1/tenants/globex/documents/d1", host: "api.example.test", headers: { ":method": "GET", ":path": "/v1/tenants/globex/documents/d1" } },
      },
      metadataContext: { filterMetadata: { "envoy.filters.http.jwt_authn": { jwt_payload: jwtPayload } } },
    },
  } as MessageInitShape<typeof EnvoyRequestSchema>);

for (const strict of [true, false]) {
  describe(`a request entity without attributes is validated against the schema (engine.strict=${strict})`, () => {
    let v: RunningVerdict;
    let envoy: ReturnType<typeof createServiceClient>;
    before(async () => {
      v = await startVerdict(dir, { "engine.strict": strict });
      envoy = createServiceClient(Authorization, v.grpcAddr);
    });
    after(async () => {
      envoy.close();
      await v.stop();
    });
    const refused = (call: Promise<unknown>, mentions: RegExp) =>
      assert.rejects(call, (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, mentions);
        return true;
      });

    it("Check: a bare principal whose type requires `tenant` is refused, naming the attribute (twice: the cache must not answer it)", async () => {
      for (let i = 0; i < 2; i++) await refused(v.client.call("check", read(user("mallory"))), MISSING_TENANT);
    });
    it("Check: a bare principal also listed in entities without data is refused the same way", async () => {
      await refused(v.client.call("check", read(user("mallory"), [user("mallory")])), MISSING_TENANT);
    });
    it("Check: the same principal with its tenant is decided (cross-tenant: denied by the forbid)", async () => {
      const r = await v.client.call<CheckResponse>("check", read({ ...user("mallory"), attrs: { tenant: str("acme") } }));
      assert.equal(r.decision, Decision.DENY);
      assert.deepEqual(r.determiningPolicies, ["tenant-isolation"]);
    });
    it("Check: a bare principal refers to the request's entity of that uid that has data", async () => {
      const r = await v.client.call<CheckResponse>("check", read(user("mallory"), [{ ...user("mallory"), attrs: { tenant: str("globex") } }]));
      assert.equal(r.decision, Decision.ALLOW);
    });
    it("Check: a bare principal refers to the bundle's static entity of that uid", async () => {
      const r = await v.client.call<CheckResponse>("check", read(user("static-ann")));
      assert.equal(r.decision, Decision.DENY, "static-ann is in tenant acme, the document in globex");
      assert.deepEqual(r.determiningPolicies, ["tenant-isolation"]);
    });
    it("Check: a bare principal of a type with no attributes is valid", async () => {
      const svc = read({ uid: { type: "Gw::Service", id: "spiffe://x/billing" } }, [], { clientCert: { kind: { case: "bool", value: true } } });
      assert.equal((await v.client.call<CheckResponse>("check", svc)).decision, Decision.ALLOW);
    });
    it("Check: a bare resource whose type requires `tenant` is refused too", async () => {
      const req = read({ ...user("mallory"), attrs: { tenant: str("globex") } });
      req.resource = create(CheckRequestSchema, { resource: { uid: { type: "Gw::Document", id: "globex/d2" } } }).resource!;
      await refused(v.client.call("check", req), /Gw::Document::"globex\/d2".*attribute `tenant`/);
    });
    it("Check: a bare extra entity of a type with required attributes is refused", async () => {
      await refused(v.client.call("check", read({ ...user("ok"), attrs: { tenant: str("globex") } }, [user("mallory")])), MISSING_TENANT);
    });
    it("BatchCheck: the item with a bare principal fails alone with INVALID_ARGUMENT", async () => {
      const res = await v.client.call<BatchCheckResponse>("batchCheck", create(BatchCheckRequestSchema, { checks: [read(user("static-ann")), read(user("mallory"))] }));
      assert.equal((res.results[0]!.result.value as CheckResponse).decision, Decision.DENY);
      assert.equal(res.results[1]!.result.case, "error");
      assert.equal((res.results[1]!.result.value as { code: number }).code, grpc.status.INVALID_ARGUMENT);
      assert.match((res.results[1]!.result.value as { message: string }).message, MISSING_TENANT);
    });
    it("Plan: a bare principal whose type requires `tenant` is refused", async () => {
      const plan = create(PlanRequestSchema, { principal: user("mallory"), action: { type: "Gw::Action", id: "read" }, resourceType: "Gw::Document", context } as never);
      await refused(v.client.call("plan", plan), MISSING_TENANT);
    });
    it("AuthZEN: a subject without properties whose type requires `tenant` is a 400", async () => {
      const res = await fetch(`${v.httpUrl}/access/v1/evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          subject: { type: "Gw::User", id: "mallory" },
          action: { name: "read" },
          resource: { type: "Gw::Document", id: "globex/d1", properties: { tenant: "globex" } },
          context: { method: "GET", path: "/x", host: "h", sourceIp: "10.0.0.5", clientCert: false, requestTime: 1, headers: { "x-tenant": "globex" } },
        }),
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /attribute `tenant`/);
    });
    it("Envoy: a token with `sub` only (no tenant claim) is refused with 400, not allowed across tenants", async () => {
      for (let i = 0; i < 2; i++) {
        const r = await envoy.call<EnvoyResponse>("check", envoyRead({ sub: "mallory" }));
        assert.equal(r.httpResponse.case, "deniedResponse");
        assert.equal(r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.status?.code : 200, 400);
      }
      const withTenant = await envoy.call<EnvoyResponse>("check", envoyRead({ sub: "mallory", tenant: "globex" }));
      assert.equal(withTenant.httpResponse.case, "okResponse");
    });
  });
}
