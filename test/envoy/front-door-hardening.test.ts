import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { Authorization, type CheckResponse } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { type EnvoyHttp, envoyRequest } from "../helpers/envoy-request.js";
import { gatewayBundle, token } from "../helpers/gateway-idp.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const DOC = "/v1/tenants/acme/documents/d1";
const statusOf = (r: CheckResponse) => (r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.status?.code : 200);
const removed = (r: CheckResponse) => (r.httpResponse.case === "okResponse" ? r.httpResponse.value.headersToRemove : []);
const headerOf = (r: CheckResponse, name: string) => (r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.headers : []).find((h) => h.header?.key === name)?.header?.value;
const bodyOf = (r: CheckResponse) => (r.httpResponse.case === "deniedResponse" ? r.httpResponse.value.body : "");

/** A Verdict serving the envoy-gateway example (routes.yaml edited by `edit`) with `settings`. */
function door(settings: Record<string, unknown>, edit?: (routes: string) => string) {
  const state = { v: undefined as RunningVerdict | undefined, dir: "", client: undefined as ReturnType<typeof createServiceClient> | undefined };
  before(async () => {
    state.dir = await gatewayBundle(edit);
    state.v = await startVerdict(state.dir, settings);
    state.client = createServiceClient(Authorization, state.v.grpcAddr);
  });
  after(async () => {
    state.client?.close();
    await state.v?.stop();
    rmSync(state.dir, { recursive: true, force: true });
  });
  return (http: EnvoyHttp) => state.client!.call<CheckResponse>("check", envoyRequest(http));
}

describe("Envoy door: unmatched requests with unmatched: allow", () => {
  const check = door({ "envoy.removeAuthorization": true }, (r) => r.replace("unmatched: deny", "unmatched: allow"));
  it("an unmatched request Verdict lets through loses its authorization header too", async () => {
    const r = await check({ path: "/v2/public/status", headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(r.httpResponse.case, "okResponse");
    assert.deepEqual(removed(r), ["authorization", "x-verdict-principal"]);
  });
});

describe("Envoy door: mTLS peers need an allow-listed identity", () => {
  const check = door({});
  it("a SPIFFE id of the allowed trust domain is a principal", async () => {
    assert.equal(statusOf(await check({ path: DOC, peer: "spiffe://cluster.local/ns/jobs/sa/indexer" })), 200);
  });
  it("another trust domain, a subject DN, a DNS SAN or a dotted SPIFFE path is no principal", async () => {
    for (const peer of ["spiffe://evil.example/ns/jobs/sa/indexer", "CN=indexer,OU=jobs,O=Example", "indexer.cluster.local", "spiffe://cluster.local/ns/../sa/x", "spiffe://cluster.local.evil/ns/a", "spiffe://cluster.local"]) {
      const r = await check({ path: DOC, peer });
      assert.equal(statusOf(r), 401, peer);
      assert.match(bodyOf(r), /not on the peer allow-list/, peer);
    }
  });
});

describe("Envoy door: source address", () => {
  describe("from the connection (xffTrustedHops 0)", () => {
    const check = door({});
    const viewer = async () => ({ authorization: `Bearer ${await token()}` });
    it("an IPv4-mapped IPv6 peer is its IPv4 address", async () => {
      assert.equal(statusOf(await check({ path: DOC, headers: await viewer(), source: { ip: "::ffff:10.1.2.3" } })), 200);
    });
    it("a Unix-socket or internal-listener peer is decided, not refused", async () => {
      assert.equal(statusOf(await check({ path: DOC, headers: await viewer(), source: { pipe: "/run/envoy.sock" } })), 200);
      assert.equal(statusOf(await check({ path: DOC, headers: await viewer(), source: { internal: "internal_listener" } })), 200);
    });
    it("x-forwarded-for is ignored: a client cannot choose its address", async () => {
      const r = await check({ path: DOC, headers: { ...(await viewer()), "x-forwarded-for": "not-an-ip" } });
      assert.equal(statusOf(r), 200);
    });
  });
  describe("with xffTrustedHops 1, as Envoy's xff_num_trusted_hops", () => {
    const check = door({ "envoy.xffTrustedHops": 1 });
    const viewer = async () => ({ authorization: `Bearer ${await token()}` });
    it("the entry left of the one Envoy appended is the source; a forged prefix does not matter", async () => {
      assert.equal(statusOf(await check({ path: DOC, headers: { ...(await viewer()), "x-forwarded-for": "garbage, 203.0.113.7, 10.0.0.5" } })), 200);
      assert.equal(statusOf(await check({ path: DOC, headerMap: [["authorization", (await viewer()).authorization], ["x-forwarded-for", "198.51.100.1"], ["x-forwarded-for", "::ffff:203.0.113.7, 10.0.0.5"]] })), 200);
    });
    it("too few entries, or no IP at the trusted hop, is refused with a reason", async () => {
      const few = await check({ path: DOC, headers: { ...(await viewer()), "x-forwarded-for": "10.0.0.5" } });
      assert.equal(statusOf(few), 400);
      assert.match(bodyOf(few), /x-forwarded-for has 1 address/);
      assert.equal(statusOf(await check({ path: DOC, headers: { ...(await viewer()), "x-forwarded-for": "evil, 10.0.0.5" } })), 400);
    });
  });
});

describe("Envoy door: headers, methods, JWT", () => {
  const check = door({});
  it("header_map entries are single occurrences: a comma inside one is no ambiguity, a second occurrence is", async () => {
    const auth = `Bearer ${await token()}`;
    const one = await check({ path: DOC, headerMap: [[":method", "GET"], ["authorization", auth], ["x-tenant", "acme, inc"], ["user-agent", "curl/8, like Gecko"]] });
    assert.equal(statusOf(one), 200, bodyOf(one));
    const two = await check({ path: DOC, headerMap: [["authorization", auth], ["x-tenant", "acme"], ["x-tenant", "globex"]] });
    assert.equal(statusOf(two), 400);
    assert.match(bodyOf(two), /x-tenant header has several values/);
    const tokens = await check({ path: DOC, headerMap: [["authorization", auth], ["authorization", auth]] });
    assert.equal(statusOf(tokens), 401);
  });
  it("a method not in canonical upper case is refused, never matched as its upper-case form", async () => {
    const auth = { authorization: `Bearer ${await token({ roles: ["admin"] })}` };
    for (const method of ["get", "Delete", "pOST"]) {
      const r = await check({ method, path: DOC, headers: auth });
      assert.equal(statusOf(r), 400, method);
      assert.match(bodyOf(r), /canonical upper case/);
    }
  });
  it("exp and nbf are checked against Verdict's clock, not the time Envoy reports", async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = { authorization: `Bearer ${await token()}` };
    assert.equal(statusOf(await check({ path: DOC, headers: valid, time: now + 86_400 })), 200, "a far-future Envoy time does not expire a valid token");
    assert.equal(statusOf(await check({ path: DOC, headers: valid, time: now - 86_400 })), 200);
    const expired = { authorization: `Bearer ${await token({}, { exp: now - 3600, nbf: now - 7200 })}` };
    assert.equal(statusOf(await check({ path: DOC, headers: expired, time: now - 5400 })), 401, "an expired token stays expired whatever time Envoy reports");
    const early = { authorization: `Bearer ${await token({}, { nbf: now + 3600, exp: now + 7200 })}` };
    assert.equal(statusOf(await check({ path: DOC, headers: early, time: now + 5400 })), 401);
  });
  it("exp within the documented 30 s skew is accepted, beyond it refused", async () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(statusOf(await check({ path: DOC, headers: { authorization: `Bearer ${await token({}, { exp: now - 5 })}` } })), 200);
    assert.equal(statusOf(await check({ path: DOC, headers: { authorization: `Bearer ${await token({}, { exp: now - 120 })}` } })), 401);
  });
  it("www-authenticate says invalid_token for a bad token, and carries no error without credentials", async () => {
    const bad = await check({ path: DOC, headers: { authorization: `Bearer ${await token({}, { foreign: true })}` } });
    assert.equal(statusOf(bad), 401);
    assert.equal(headerOf(bad, "www-authenticate"), 'Bearer realm="verdict", error="invalid_token"');
    const none = await check({ path: DOC });
    assert.equal(headerOf(none, "www-authenticate"), 'Bearer realm="verdict"');
  });
});
