import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CompactSign } from "jose";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { Authorization, type CheckResponse, CheckRequestSchema, CheckResponseSchema } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { admin, TOKEN } from "../helpers/admin.js";
import { REPO } from "../helpers/bundles.js";
import { envoyRequest as envoyRequestOf } from "../helpers/envoy-request.js";
import { AUD, type Claims, gatewayBundle, idpPublicKeyPem, ISS, type TokenOptions, token } from "../helpers/gateway-idp.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { concat, lenField, utf8 } from "../helpers/wire.js";

const fromEnvoy = (b: Buffer) => fromBinary(CheckResponseSchema, b);
type Http = { method?: string; path: string; headers?: Record<string, string> };
const envoyRequest = (http: Http, peer?: string, jwtPayload?: Record<string, unknown>) => envoyRequestOf({ ...http, ...(peer ? { peer } : {}), ...(jwtPayload ? { jwtPayload } : {}) });

describe("Envoy ext_authz v3 Check", () => {
  let v: RunningVerdict;
  let client: ReturnType<typeof createServiceClient>;
  let dir = "";
  before(async () => {
    dir = await gatewayBundle();
    v = await startVerdict(dir, { "envoy.removeAuthorization": true, "admin.token": TOKEN });
    client = createServiceClient(Authorization, v.grpcAddr);
  });
  after(async () => {
    client.close();
    await v.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const check = (http: Http, peer?: string, jwtPayload?: Record<string, unknown>) => client.call<CheckResponse>("check", envoyRequest(http, peer, jwtPayload));
  const bearer = async (c?: Claims, o?: TokenOptions) => ({ authorization: `Bearer ${await token(c, o)}` });
  const statusOf = (r: CheckResponse) => (r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.status?.code : 200);
  const bodyOf = (r: CheckResponse) => (r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.body : "");
  const headerOf = (r: CheckResponse, name: string) => {
    const list = r.httpResponse.case === "okResponse" ? r.httpResponse.value.headers : r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.headers : [];
    return list.find((h) => h.header?.key === name)?.header?.value;
  };

  it("allows a route the policies permit, adding the decision id upstream and removing the token", async () => {
    const r = await check({ path: "/v1/tenants/acme/documents/d1", headers: await bearer() });
    assert.equal(r.status?.code, 0);
    assert.equal(r.httpResponse.case, "okResponse");
    assert.match(headerOf(r, "x-verdict-decision-id") ?? "", /^[0-9a-f-]{36}$/);
    // The client's own x-verdict-principal never reaches the upstream.
    assert.deepEqual(r.httpResponse.case === "okResponse" ? r.httpResponse.value.headersToRemove : [], ["authorization", "x-verdict-principal"]);
    assert.equal(r.dynamicMetadata?.["decision"], "allow");
    assert.deepEqual(r.dynamicMetadata?.["determining_policies"], ["members-read"]);
  });
  it("denies a route the policies do not permit with 403 and the decision id, no policy internals", async () => {
    const r = await check({ method: "DELETE", path: "/v1/tenants/acme/documents/d1", headers: await bearer() });
    assert.equal(r.status?.code, 7);
    assert.equal(statusOf(r), 403);
    const body = JSON.parse(bodyOf(r)) as Record<string, unknown>;
    assert.equal(body["decision"], "deny");
    assert.match(String(body["decision_id"]), /^[0-9a-f-]{36}$/);
    assert.doesNotMatch(bodyOf(r), /members-read|admins/);
    assert.equal(headerOf(r, "x-verdict-decision-id"), body["decision_id"]);
    assert.equal(r.dynamicMetadata?.["decision"], "deny");
    assert.equal(r.dynamicMetadata?.["decision_id"], body["decision_id"]);
  });
  it("every route of the example routes.yaml maps to the action the policies expect", async () => {
    const viewer = await bearer();
    const editor = await bearer({ roles: ["editor"] });
    const cases: [string, string, Record<string, string>, number][] = [
      ["GET", "/v1/tenants/acme/documents/d1", viewer, 200],
      ["HEAD", "/v1/tenants/acme/documents/d1", viewer, 200],
      ["PUT", "/v1/tenants/acme/documents/d1", viewer, 403],
      ["PATCH", "/v1/tenants/acme/documents/d1", editor, 200],
      ["DELETE", "/v1/tenants/acme/documents/d1", editor, 403],
      ["POST", "/v1/tenants/acme/projects/p1/documents", editor, 200],
      ["POST", "/v1/tenants/acme/projects/p1/documents", viewer, 403],
      ["POST", "/v1/tenants/globex/projects/p1/documents", editor, 403],
      ["GET", "/admin/users", viewer, 403],
      ["POST", "/admin/users", await bearer({ roles: ["admin"] }), 200],
    ];
    for (const [method, path, headers, want] of cases) assert.equal(statusOf(await check({ method, path, headers })), want, `${method} ${path}`);
  });
  it("the payload Envoy's jwt_authn verified is a principal, before Verdict's own JWT check", async () => {
    const payload = { sub: "carol", tenant: "acme", roles: ["editor"], iss: ISS, aud: AUD };
    const r = await check({ method: "PUT", path: "/v1/tenants/acme/documents/d1" }, undefined, payload);
    assert.equal(r.httpResponse.case, "okResponse");
    assert.deepEqual(r.dynamicMetadata?.["determining_policies"], ["editors-write"]);
  });
  it("a selected header sent twice (Envoy joins the values) is refused, so no value can be smuggled in", async () => {
    const r = await check({ path: "/v1/tenants/acme/documents/d1", headers: { ...(await bearer()), "x-tenant": "acme,globex" } });
    assert.equal(statusOf(r), 400);
    assert.equal(r.status?.code, 7);
    assert.equal((await check({ path: "/v1/tenants/acme/documents/d1", headers: { ...(await bearer()), "x-tenant": "acme" } })).httpResponse.case, "okResponse");
  });
  it("cross-tenant access is denied by the guardrail", async () => {
    assert.equal(statusOf(await check({ path: "/v1/tenants/globex/documents/d1", headers: await bearer({ roles: ["admin"] }) })), 403);
  });
  it("401 with www-authenticate when there are no credentials, or the token is missing, expired, not yet valid, signed by another key, or for another audience", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const headers of [
      {},
      { authorization: "Basic YWxpY2U6cHc=" },
      await bearer({}, { exp: now - 3600 }),
      await bearer({}, { nbf: now + 3600 }),
      await bearer({}, { foreign: true }),
      await bearer({}, { aud: "another-api" }),
    ]) {
      const r = await check({ path: "/v1/tenants/acme/documents/d1", headers });
      assert.equal(statusOf(r), 401, JSON.stringify(headers).slice(0, 60));
      assert.match(headerOf(r, "www-authenticate") ?? "", /^Bearer/);
    }
  });
  it("refuses alg none and HS256 keyed with the RSA public key", async () => {
    const payload = utf8(JSON.stringify({ sub: "mallory", tenant: "acme", roles: ["admin"], iss: ISS, aud: AUD, exp: Math.floor(Date.now() / 1000) + 600 }));
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(payload).toString("base64url")}.`;
    const pem = idpPublicKeyPem();
    const hs = await new CompactSign(payload).setProtectedHeader({ alg: "HS256", kid: "test" }).sign(Buffer.from(pem));
    for (const t of [none, hs]) assert.equal(statusOf(await check({ path: "/admin/users", headers: { authorization: `Bearer ${t}` } })), 401);
  });
  it("an mTLS peer identity is the principal", async () => {
    const r = await check({ path: "/v1/tenants/acme/documents/d1" }, "spiffe://cluster.local/ns/jobs/sa/indexer");
    assert.equal(r.httpResponse.case, "okResponse");
    assert.equal(statusOf(await check({ method: "DELETE", path: "/v1/tenants/acme/documents/d1" }, "spiffe://cluster.local/ns/jobs/sa/indexer")), 403);
  });
  it("a request matching no route is denied and counted", async () => {
    const r = await check({ path: "/v2/reports/2026", headers: await bearer() });
    assert.equal(statusOf(r), 403);
    assert.equal(r.status?.code, 7);
    await check({ method: "POST", path: "/v2/reports/2027?x=1", headers: await bearer() });
    const client = admin(v);
    const inventory = await client.unmatched().finally(() => client.close());
    assert.deepEqual(inventory.routes.map((e) => [e.method, e.template, e.count]), [["GET", "/v2/reports/{n}", 1n], ["POST", "/v2/reports/{n}", 1n]]);
    assert.ok(inventory.routes.every((e) => Date.parse(e.lastSeen) > 0), "each entry says when it was last seen");
    assert.equal(inventory.dropped, 0n);
    const metrics = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.match(metrics, /verdict_unmatched_requests_total\{method="GET"\} [1-9]/);
  });
  it("path tricks are resolved before matching, never to a less-protected route", async () => {
    const viewer = await bearer();
    const admin = await bearer({ roles: ["admin"] });
    for (const path of ["/v1/../admin/users", "/v1/%2e%2e/admin/users", "//admin/users", "///admin/users", "/v1/tenants/acme/documents/d1/../../../../../admin/users?x=1#f"]) {
      assert.equal(statusOf(await check({ path, headers: viewer })), 403, `${path} stays the admin route for a viewer`);
      assert.equal((await check({ path, headers: admin })).httpResponse.case, "okResponse", `${path} is the admin route`);
    }
    for (const path of ["/admin%2Fusers", "/v1/tenants/acme%2F..%2Fglobex/documents/d1", "/admin/users%00", "/admin/%5cusers", "/../admin/users", "/admin/%zz"]) {
      assert.equal(statusOf(await check({ path, headers: admin })), 400, path);
    }
  });
  it("header names are compared without case", async () => {
    const r = await check({ path: "/v1/tenants/acme/documents/d1", headers: { AUTHORIZATION: (await bearer()).authorization } });
    assert.equal(r.httpResponse.case, "okResponse");
  });
  it("identity headers a client could send are never trusted", async () => {
    const r = await check({ path: "/admin/users", headers: { "x-verdict-principal": "root", "x-forwarded-client-cert": "By=spiffe://x;URI=spiffe://cluster.local/ns/admin", "x-envoy-original-path": "/v1/tenants/acme/documents/d1" } });
    assert.equal(statusOf(r), 401);
  });
  it("a non-UTF-8 header and an empty CheckRequest get an explicit deny, never an RPC error", async () => {
    const raw = new grpc.Client(v.grpcAddr, grpc.credentials.createInsecure());
    const send = (bytes: Uint8Array) =>
      new Promise<CheckResponse>((resolve, reject) =>
        raw.makeUnaryRequest("/envoy.service.auth.v3.Authorization/Check", (x: Buffer) => x, (b: Buffer) => fromEnvoy(b), Buffer.from(bytes), (err, res) => (err ? reject(err) : resolve(res!))),
      );
    // headers (field 3) entry {"x-bad": 0xC3 0x28} inside attributes.request.http.
    const badHeader = lenField(3, concat(lenField(1, utf8("x-bad")), lenField(2, [0xc3, 0x28])));
    const http = concat(lenField(2, utf8("GET")), lenField(4, utf8("/v1/tenants/acme/documents/d1")), badHeader);
    const bytes = lenField(1, lenField(4, lenField(2, http)));
    const r = await send(bytes);
    assert.equal(statusOf(r), 400);
    assert.equal(r.status?.code, 7);
    // The same with encode_raw_headers: header_map (13) → HeaderValue{key, raw_value (3)}.
    const rawHeader = lenField(13, lenField(1, concat(lenField(1, utf8("x-bad")), lenField(3, [0xc3, 0x28]))));
    const rawHttp = concat(lenField(2, utf8("GET")), lenField(4, utf8("/v1/tenants/acme/documents/d1")), rawHeader);
    const viaMap = await send(lenField(1, lenField(4, lenField(2, rawHttp))));
    assert.equal(statusOf(viaMap), 400);
    assert.equal(viaMap.status?.code, 7);
    const empty = await send(toBinary(CheckRequestSchema, create(CheckRequestSchema, {})));
    assert.equal(statusOf(empty), 403);
    assert.equal(empty.status?.code, 7);
    raw.close();
  });
  it("decisions are counted under api=\"envoy\"", async () => {
    const metrics = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.match(metrics, /verdict_decisions_total\{api="envoy",decision="allow"\} [1-9]/);
    assert.match(metrics, /verdict_decisions_total\{api="envoy",decision="deny"\} [1-9]/);
  });
});

describe("Envoy ext_authz v3 Check, forwarding the principal upstream", () => {
  let v: RunningVerdict;
  let client: ReturnType<typeof createServiceClient>;
  before(async () => {
    v = await startVerdict(join(REPO, "policies/examples/envoy-gateway"), { "envoy.forwardPrincipal": true });
    client = createServiceClient(Authorization, v.grpcAddr);
  });
  after(async () => {
    client.close();
    await v.stop();
  });
  const okHeaders = async (sub: string) => {
    const r = await client.call<CheckResponse>("check", envoyRequest({ path: "/v1/tenants/acme/documents/d1" }, undefined, { sub, tenant: "acme", roles: ["viewer"] }));
    assert.equal(r.httpResponse.case, "okResponse");
    return r.httpResponse.case === "okResponse" ? r.httpResponse.value : undefined;
  };

  it("adds x-verdict-principal, replacing any value the client sent", async () => {
    const ok = await okHeaders("alice");
    const h = ok?.headers.find((x) => x.header?.key === "x-verdict-principal");
    assert.equal(h?.header?.value, "alice");
    assert.equal(h?.appendAction, 2, "OVERWRITE_IF_EXISTS_OR_ADD");
  });
  it("never echoes a principal id with CR/LF into a header, and strips the client's copy instead", async () => {
    const ok = await okHeaders("eve\r\nx-admin: true");
    assert.equal(ok?.headers.some((x) => x.header?.key === "x-verdict-principal"), false);
    assert.ok(ok?.headersToRemove.includes("x-verdict-principal"));
  });
});
