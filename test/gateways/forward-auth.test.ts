import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/load-config.js";
import { gatewayBundle, token } from "../helpers/gateway-idp.js";
import { send, sendRaw } from "../helpers/gateways.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const GATEWAY_TOKEN = "gateway-token-for-tests-0123456789";
const DOC = "/v1/tenants/acme/documents/d1";

describe("the forward-auth endpoint's contract", () => {
  let v: RunningVerdict;
  let dir = "";
  const logDir = mkdtempSync(join(tmpdir(), "verdict-fa-log-"));
  before(async () => {
    dir = await gatewayBundle((r) => r.replace("unmatched: deny", "unmatched: allow"));
    v = await startVerdict(dir, {
      "forwardAuth.enabled": true,
      "forwardAuth.token": GATEWAY_TOKEN,
      "forwardAuth.peerHeader": "x-client-spiffe-id",
      "forwardAuth.forwardPrincipal": true,
      "decisionLog.destination": join(logDir, "decisions.log"),
    });
  });
  after(async () => {
    await v.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });
  // Node's client sends an array as separate header lines (fetch would join them).
  const call = async (path: string, headers: Record<string, string | string[]>, method = "GET") => {
    const res = await send(Number(new URL(v.httpUrl).port), { method, path, headers });
    return { status: res.status, headers: new Headers(Object.entries(res.headers).map(([k, x]) => [k, String(x)] as [string, string])), body: res.body };
  };
  const gateway = (over: Record<string, string | string[]> = {}): Record<string, string | string[]> => ({
    "x-verdict-gateway-token": GATEWAY_TOKEN,
    "x-forwarded-method": "GET",
    "x-forwarded-uri": DOC,
    "x-forwarded-host": "api.example.test",
    "x-forwarded-proto": "https",
    "x-forwarded-for": "198.51.100.7",
    ...over,
  });
  const viewer = async () => ({ authorization: `Bearer ${await token()}` });

  it("answers 200 with the decision id and principal only on allow, 403 with the decision id on deny", async () => {
    const ok = await call("/forward-auth", gateway(await viewer()));
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("x-verdict-decision-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(ok.headers.get("x-verdict-principal"), "alice");
    const no = await call("/forward-auth", gateway({ ...(await viewer()), "x-forwarded-method": "DELETE" }));
    assert.equal(no.status, 403);
    assert.equal(JSON.parse(no.body).decision, "deny");
    assert.equal(no.headers.get("x-verdict-principal"), null);
  });
  it("a caller without the gateway token is refused whatever it asserts", async () => {
    for (const token of [undefined, "wrong", [GATEWAY_TOKEN, GATEWAY_TOKEN]]) {
      const headers: Record<string, string | string[]> = gateway(await viewer());
      if (token === undefined) delete headers["x-verdict-gateway-token"];
      else headers["x-verdict-gateway-token"] = token;
      const r = await call("/forward-auth", headers);
      assert.equal(r.status, 403, JSON.stringify(token));
      assert.match(r.body, /not a trusted gateway/);
    }
  });
  it("a missing or ambiguous forwarded header is a deny with the reason, never a guess from the auth call", async () => {
    const auth = await viewer();
    const cases: [Record<string, string | string[]>, RegExp][] = [
      [{ "x-forwarded-method": "" }, /no original method/],
      [{ "x-forwarded-uri": "" }, /no original URI/],
      [{ "x-forwarded-host": "" }, /no original host/],
      [{ "x-forwarded-for": "" }, /x-forwarded-for/],
      [{ "x-forwarded-uri": [DOC, "/admin/users"] }, /sent more than once/],
      [{ "x-original-uri": "/admin/users" }, /x-forwarded-uri and x-original-uri disagree/],
      [{ "x-original-method": "DELETE" }, /disagree/],
      [{ "x-forwarded-proto": "gopher" }, /x-forwarded-proto/],
      [{ "x-forwarded-for": "not-an-ip" }, /not an IP address/],
    ];
    for (const [over, reason] of cases) {
      const headers = gateway({ ...auth, ...over });
      for (const [k, val] of Object.entries(over)) if (val === "") delete headers[k];
      const r = await call("/forward-auth", headers);
      assert.equal(r.status, 400, JSON.stringify(over));
      assert.match(JSON.parse(r.body).error, reason);
    }
    // The same value under both names is one answer.
    assert.equal((await call("/forward-auth", gateway({ ...auth, "x-original-uri": DOC, "x-original-method": "GET" }))).status, 200);
  });
  it("the source address is the entry the gateway appended: a forged left part is ignored, IPv4-mapped is IPv4", async () => {
    const auth = await viewer();
    assert.equal((await call("/forward-auth", gateway({ ...auth, "x-forwarded-for": "bogus, ::ffff:198.51.100.7" }))).status, 200);
  });
  it("401 with www-authenticate without credentials, invalid_token for a bad token", async () => {
    const none = await call("/forward-auth", gateway());
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="verdict"');
    const bad = await call("/forward-auth", gateway({ authorization: `Bearer ${await token({}, { foreign: true })}` }));
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("www-authenticate"), 'Bearer realm="verdict", error="invalid_token"');
  });
  it("Envoy's HTTP-service mode: the original path appended, method and Host kept", async () => {
    const base = { "x-verdict-gateway-token": GATEWAY_TOKEN, "x-forwarded-for": "198.51.100.7, 10.0.0.2", ...(await viewer()) };
    assert.equal((await call(`/forward-auth${DOC}`, base)).status, 200);
    assert.equal((await call(`/forward-auth${DOC}`, base, "HEAD")).status, 200);
    assert.equal((await call(`/forward-auth${DOC}`, base, "DELETE")).status, 403);
    const raw = { "x-verdict-gateway-token": GATEWAY_TOKEN, "x-forwarded-for": "198.51.100.7", authorization: base.authorization };
    assert.equal(await sendRaw(Number(new URL(v.httpUrl).port), "GET", `/forward-auth${DOC}?x=1`, raw), 200);
    assert.equal(await sendRaw(Number(new URL(v.httpUrl).port), "get", `/forward-auth${DOC}?x=1`, raw), 400, "a non-canonical method is refused");
    const mixed = await call(`/forward-auth${DOC}`, { ...base, "x-forwarded-uri": "/admin/users" });
    assert.equal(mixed.status, 400);
    assert.match(JSON.parse(mixed.body).error, /ambiguous/);
  });
  it("an mTLS identity the gateway passes is a principal only when its trust domain is allowed", async () => {
    assert.equal((await call("/forward-auth", gateway({ "x-client-spiffe-id": "spiffe://cluster.local/ns/jobs/sa/indexer" }))).status, 200);
    assert.equal((await call("/forward-auth", gateway({ "x-client-spiffe-id": "spiffe://elsewhere.example/ns/jobs/sa/indexer" }))).status, 401);
  });
  it("an unmatched request under unmatched: allow gets 200 with no decision id", async () => {
    const r = await call("/forward-auth", gateway({ "x-forwarded-uri": "/v2/status" }));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).decision, "unmatched");
    assert.equal(r.headers.get("x-verdict-decision-id"), null);
  });
  it("decisions are logged and counted under api=\"forward_auth\"", async () => {
    const ok = await call("/forward-auth", gateway({ ...(await viewer()), "x-request-id": "fa-log-1" }));
    const id = ok.headers.get("x-verdict-decision-id");
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && line === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      let text = "";
      try {
        text = readFileSync(join(logDir, "decisions.log"), "utf8");
      } catch {
        continue;
      }
      line = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l["decision_id"] === id);
    }
    assert.equal(line?.["api"], "forward_auth");
    assert.equal(line?.["request_id"], "fa-log-1");
    const metrics = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.match(metrics, /verdict_decisions_total\{api="forward_auth",decision="allow"\} [1-9]/);
    assert.match(metrics, /verdict_invalid_requests_total\{api="forward_auth"\} [1-9]/);
  });
});

describe("forward-auth caller trust at start", () => {
  it("refuses a non-loopback HTTP listener without a token, an mTLS allow-list or an explicit trustNetwork", () => {
    const load = (flags: Record<string, unknown>) => () => loadConfig({ env: {}, flags: { "forwardAuth.enabled": true, "server.httpAddr": "0.0.0.0:9464", ...flags } });
    assert.throws(load({}), /forwardAuth\.enabled on a non-loopback server\.httpAddr needs forwardAuth\.token/);
    assert.doesNotThrow(load({ "forwardAuth.token": GATEWAY_TOKEN }));
    assert.doesNotThrow(load({ "forwardAuth.trustNetwork": true }));
    assert.doesNotThrow(() => loadConfig({ env: {}, flags: { "forwardAuth.enabled": true } }));
    assert.throws(load({ "forwardAuth.token": GATEWAY_TOKEN, "forwardAuth.path": "/fa/" }), /forwardAuth\.path/);
  });
});

describe("forward-auth on a path another route also serves", () => {
  it("is decided by forward-auth, never answered 200 by the health or AuthZEN route", async () => {
    const dir = await gatewayBundle();
    for (const path of ["/healthz", "/access"]) {
      const v = await startVerdict(dir, { "forwardAuth.enabled": true, "forwardAuth.path": path });
      try {
        const headers = { "x-forwarded-method": "DELETE", "x-forwarded-uri": DOC, "x-forwarded-host": "api.example.test", "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7", authorization: `Bearer ${await token()}` };
        const exact = await send(Number(new URL(v.httpUrl).port), { method: "GET", path, headers });
        assert.equal(exact.status, 403, `${path}: ${exact.body}`);
        // Envoy's HTTP-service mode: the original request appended to the auth path (a deny here).
        const below = await send(Number(new URL(v.httpUrl).port), { method: "DELETE", path: `${path}${DOC}`, headers: { authorization: headers.authorization, "x-forwarded-for": "198.51.100.7" } });
        assert.equal(below.status, 403, `${path}${DOC}: ${below.body}`);
      } finally {
        await v.stop();
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
