import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import fc from "fast-check";
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
  ValueSchema,
} from "../../src/gen/verdict/v1/authorization_pb.js";
import { REPO } from "../helpers/bundles.js";
import { cedarRequestOf } from "../helpers/cedar-oracle.js";
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

// Random request entities of every shape (bare or with data, wrong or unknown attributes,
// parents of allowed and disallowed types, listed again in `entities`) through Check: Verdict
// refuses exactly what cedar-wasm refuses given the same entities (a bare uid meaning the
// bundle's or the request's entity of that uid), and otherwise decides exactly as it does.
describe("request entities of random shapes: Verdict refuses and decides as cedar-wasm with the schema", () => {
  const schema = readFileSync(join(dir, "schema.cedarschema"), "utf8");
  const policies = Object.fromEntries(
    readFileSync(join(dir, "policies.cedar"), "utf8")
      .split(/\n(?=@id)/)
      .map((text) => [/@id\("([^"]+)"\)/.exec(text)![1]!, text]),
  );
  let v: RunningVerdict;
  before(async () => (v = await startVerdict(dir, { "engine.strict": false })));
  after(() => v.stop());

  // Mostly conforming shapes, with every kind of violation mixed in.
  const tenantArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom<unknown>(str("acme"), str("globex")) }, fc.constantFrom<unknown>({ kind: { case: "long", value: 5n } }, { kind: { case: "bool", value: true } }));
  const attrsArb = fc
    .record({ tenant: fc.option(tenantArb, { freq: 6, nil: undefined }), nickname: fc.option(fc.constant<unknown>(str("x")), { freq: 1, nil: undefined }) })
    .map((a) => Object.fromEntries(Object.entries(a).filter(([, x]) => x !== undefined)));
  const roles = [{ type: "Gw::Role", id: "viewer" }, { type: "Gw::Role", id: "admin" }, { type: "Gw::Role", id: "editor" }];
  const parentArb = fc.oneof(
    { weight: 5, arbitrary: fc.subarray(roles) },
    fc.subarray([...roles, { type: "Gw::Role", id: "ghost" }, { type: "Gw::User", id: "static-ann" }, { type: "Gw::Document", id: "globex/d1" }]),
  );
  const uidArb = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom({ type: "Gw::User", id: "mallory" }, { type: "Gw::User", id: "static-ann" }, { type: "Gw::Service", id: "svc" }) },
    fc.constantFrom({ type: "Gw::Role", id: "viewer" }, { type: "Gw::Project", id: "p" }, { type: "Gw::Nope", id: "n" }),
  );
  const entityArb = fc.record({ uid: uidArb, attrs: attrsArb, parents: parentArb, bare: fc.boolean() }).map((e): EntityInit =>
    // Static entities are only ever mentioned bare (redefining one is refused by design).
    e.bare || e.uid.id === "static-ann" || e.uid.type === "Gw::Role" ? { uid: e.uid } : { uid: e.uid, attrs: e.attrs, parents: e.uid.type === "Gw::User" ? e.parents : [] },
  );
  const caseArb = fc.record({
    principal: entityArb,
    resourceTenant: fc.option(tenantArb, { freq: 8, nil: undefined }),
    extra: fc.oneof({ weight: 3, arbitrary: fc.constant<EntityInit[]>([]) }, fc.array(entityArb, { maxLength: 2 })),
    clientCert: fc.boolean(),
  });

  /** cedar-wasm with the bundle's entities and the request's; bare mentions resolved as documented. */
  function cedarAnswer(req: CheckRequest) {
    const call = cedarRequestOf(req);
    const isBare = (e: { attrs: object; parents: unknown[] }) => Object.keys(e.attrs).length === 0 && e.parents.length === 0;
    const key = (e: { uid: { type: string; id: string } }) => `${e.uid.type}/${e.uid.id}`;
    const statics = new Set((staticEntities as { uid: { type: string; id: string } }[]).map(key));
    const withData = new Set(call.entities.filter((e) => !isBare(e)).map(key));
    const seen = new Set<string>();
    const own = call.entities.filter((e) => {
      if (!isBare(e)) return true;
      if (statics.has(key(e)) || withData.has(key(e)) || seen.has(key(e))) return false;
      seen.add(key(e));
      return true;
    });
    const answer = cedar.isAuthorized({ ...call, context: call.context as never, policies: { staticPolicies: policies }, entities: [...staticEntities, ...own] as never, schema, validateRequest: true });
    if (answer.type === "failure") return { refused: answer.errors.map((e) => e.message).join("; ") };
    return { decision: answer.response.decision, reasons: [...answer.response.diagnostics.reason].sort() };
  }

  it("agrees on 200 random requests", async () => {
    let refusals = 0;
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const req = read(c.principal, c.extra, { clientCert: { kind: { case: "bool", value: c.clientCert } } });
        if (c.resourceTenant === undefined) req.resource!.attrs = {};
        else req.resource!.attrs["tenant"] = create(ValueSchema, c.resourceTenant as never);
        const want = cedarAnswer(req);
        const got = await v.client.call<CheckResponse>("check", req).catch((err: grpc.ServiceError) => err);
        if ("refused" in want) {
          refusals++;
          assert.ok(got instanceof Error, `Cedar refuses (${want.refused}) but Verdict decided ${JSON.stringify(got)}`);
          assert.equal(got.code, grpc.status.INVALID_ARGUMENT, got.details);
        } else {
          decided++;
          assert.ok(!(got instanceof Error), `Cedar decides ${want.decision} but Verdict refused: ${got instanceof Error ? got.details : ""}`);
          assert.equal(got.decision, want.decision === "allow" ? Decision.ALLOW : Decision.DENY);
          assert.deepEqual([...got.determiningPolicies].sort(), want.reasons);
        }
      }),
      { numRuns: 200, seed: 1512 },
    );
    assert.ok(refusals > 30 && decided > 50, `a useful mix (${refusals} refused, ${decided} decided)`);
  });
});
