import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { normalizePath } from "../../src/routes/normalize-path.js";
import { type Claims, gatewayBundle, token } from "../helpers/gateway-idp.js";
import { type Gateway, type Received, send, startGateway, startUpstream } from "../helpers/gateways.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const GATEWAY_TOKEN = "gateway-token-for-tests-0123456789";
const DOC = "/v1/tenants/acme/documents/d1";
const bearer = async (claims?: Claims) => ({ authorization: `Bearer ${await token(claims)}` });

// Every route of policies/examples/envoy-gateway/routes.yaml, allowed and denied, with a JWT.
const ROUTES: [string, string, Claims, number][] = [
  ["GET", DOC, {}, 200],
  ["HEAD", DOC, {}, 200],
  ["GET", "/v1/tenants/globex/documents/d1", {}, 403],
  ["PUT", DOC, { roles: ["editor"] }, 200],
  ["PUT", DOC, {}, 403],
  ["PATCH", DOC, { roles: ["editor"] }, 200],
  ["PATCH", DOC, {}, 403],
  ["DELETE", DOC, { roles: ["admin"] }, 200],
  ["DELETE", DOC, { roles: ["editor"] }, 403],
  ["POST", "/v1/tenants/acme/projects/p1/documents", { roles: ["editor"] }, 200],
  ["POST", "/v1/tenants/acme/projects/p1/documents", {}, 403],
  ["POST", "/v1/tenants/globex/projects/p1/documents", { roles: ["editor"] }, 403],
  ["GET", "/admin/users", { roles: ["admin"] }, 200],
  ["POST", "/admin/users", { roles: ["admin"] }, 200],
  ["GET", "/admin/users", {}, 403],
  ["GET", "/v2/reports/1", { roles: ["admin"] }, 403],
];

for (const kind of ["nginx", "caddy"] as const) {
  describe(`${kind} in front of Verdict's forward-auth endpoint`, () => {
    let v: RunningVerdict | undefined;
    let dir = "";
    let upstream: Awaited<ReturnType<typeof startUpstream>>;
    let gw: Gateway;
    let verdictPort = 0;
    before(async () => {
      dir = await gatewayBundle();
      v = await startVerdict(dir, { "forwardAuth.enabled": true, "forwardAuth.token": GATEWAY_TOKEN, "forwardAuth.forwardPrincipal": true });
      verdictPort = Number(new URL(v.httpUrl).port);
      upstream = await startUpstream();
      gw = await startGateway(kind, { verdictPort, upstreamPort: upstream.port, token: GATEWAY_TOKEN });
    });
    after(async () => {
      await gw?.stop();
      await v?.stop();
      await upstream?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    /** Sends through the gateway; returns the status and what the upstream received for it (if anything). */
    const through = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const before = upstream.seen.length;
      const res = await send(gw.port, { method, path, headers });
      const seen: Received[] = upstream.seen.slice(before);
      return { ...res, seen };
    };

    it("every route of the envoy-gateway example, with and without a JWT: allowed requests reach the upstream with the decision id, denied ones never do", async (t) => {
      for (const [method, path, claims, want] of ROUTES) {
        const r = await through(method, path, await bearer(claims));
        t.diagnostic(`${kind} ${method} ${path} ${JSON.stringify(claims.roles ?? ["viewer"])} -> ${r.status}; upstream saw ${r.seen.map((x) => `${x.method} ${x.url} decision-id=${x.headers["x-verdict-decision-id"] ? "yes" : "no"}`).join(", ") || "nothing"}`);
        assert.equal(r.status, want, `${method} ${path} ${JSON.stringify(claims)}: ${r.body}`);
        if (want === 200) {
          assert.equal(r.seen.length, 1, `${method} ${path} reached the upstream once`);
          assert.equal(r.seen[0]!.method, method);
          assert.equal(r.seen[0]!.url, path);
          assert.match(String(r.seen[0]!.headers["x-verdict-decision-id"]), /^[0-9a-f-]{36}$/);
        } else assert.equal(r.seen.length, 0, `${method} ${path} must not reach the upstream`);
        // The same request without a JWT: 401 (routes.yaml's last source, mTLS, has no peer here).
        const anonymous = await through(method, path);
        const wantAnonymous = path.startsWith("/v2/") ? 403 : 401; // no route: denied before any principal is looked for
        assert.equal(anonymous.status, wantAnonymous, `${method} ${path} without a token`);
        assert.equal(anonymous.seen.length, 0, `${method} ${path} without a token must not reach the upstream`);
      }
    });

    it("without credentials or with a bad token: 401 with www-authenticate, nothing upstream", async (t) => {
      const none = await through("GET", DOC);
      t.diagnostic(`${kind} no credentials -> ${none.status} ${String(none.headers["www-authenticate"])}; upstream saw ${none.seen.length} request(s)`);
      assert.equal(none.status, 401);
      assert.equal(none.headers["www-authenticate"], 'Bearer realm="verdict"');
      assert.equal(none.seen.length, 0);
      const bad = await through("GET", DOC, { authorization: `Bearer ${await token({}, { foreign: true })}` });
      assert.equal(bad.status, 401);
      assert.equal(bad.headers["www-authenticate"], 'Bearer realm="verdict", error="invalid_token"');
      assert.equal(bad.seen.length, 0);
    });

    it("path tricks are decided as the upstream sees the path", async (t) => {
      const viewer = await bearer();
      const admin = await bearer({ roles: ["admin"] });
      for (const path of ["//admin/users", "/v1/../admin/users", "/v1/%2e%2e/admin/users", "/v1/tenants/acme/documents/d1/../../../../../admin/users", "/admin//users"]) {
        const denied = await through("GET", path, viewer);
        assert.notEqual(denied.status, 200, `${path} as a viewer`);
        assert.equal(denied.seen.length, 0, `${path} as a viewer must not reach the upstream`);
        const allowed = await through("GET", path, admin);
        t.diagnostic(`${kind} ${path}: viewer -> ${denied.status}, upstream saw ${denied.seen.length}; admin -> ${allowed.status}, upstream saw ${allowed.seen.map((x) => x.url).join(", ") || "nothing"}`);
        if (allowed.status === 200) {
          // What the upstream got normalizes to the admin route Verdict decided on.
          assert.equal(allowed.seen.length, 1);
          const n = normalizePath(allowed.seen[0]!.url);
          assert.ok(n.ok && n.path === "/admin/users", `${path} reached the upstream as ${allowed.seen[0]!.url}`);
        } else assert.equal(allowed.seen.length, 0);
      }
      for (const path of ["/admin%2Fusers", "/v1/tenants/acme%2F..%2Fglobex/documents/d1", "/admin;x/users", "/v1/tenants/acme/documents/d1;jsessionid=x", "/admin/users%00", "/admin/%5cusers", "/GET/../../admin/users"]) {
        const r = await through("GET", path, admin);
        t.diagnostic(`${kind} ${path}: admin -> ${r.status}, upstream saw ${r.seen.length}`);
        assert.notEqual(r.status, 200, path);
        assert.equal(r.seen.length, 0, `${path} must not reach the upstream`);
      }
    });

    it("a client's own X-Original-URI or X-Forwarded-Method cannot change what is decided", async () => {
      const viewer = await bearer();
      const smuggled: Record<string, string>[] = [{ "x-original-uri": DOC }, { "x-original-method": "GET" }, { "x-forwarded-uri": DOC }, { "x-forwarded-method": "GET" }];
      for (const headers of smuggled) {
        const r = await through("DELETE", "/admin/users", { ...viewer, ...headers });
        assert.notEqual(r.status, 200, JSON.stringify(headers));
        assert.equal(r.seen.length, 0, JSON.stringify(headers));
      }
    });

    it("the upstream gets Verdict's decision id and principal, never the client's own copies", async () => {
      const r = await through("GET", DOC, { ...(await bearer()), "x-verdict-principal": "root", "x-verdict-decision-id": "forged" });
      assert.equal(r.status, 200);
      assert.equal(r.seen[0]?.headers["x-verdict-principal"], "alice");
      assert.match(String(r.seen[0]?.headers["x-verdict-decision-id"]), /^[0-9a-f-]{36}$/);
    });

    it("decisions are counted under api=\"forward_auth\"", async () => {
      const metrics = await (await fetch(`${v!.httpUrl}/metrics`)).text();
      assert.match(metrics, /verdict_decisions_total\{api="forward_auth",decision="allow"\} [1-9]/);
      assert.match(metrics, /verdict_decisions_total\{api="forward_auth",decision="deny"\} [1-9]/);
    });

    it("Verdict answering an error, then Verdict stopped: the gateway refuses and the upstream sees nothing", async (t) => {
      const admin = await bearer({ roles: ["admin"] });
      await v!.stop();
      v = undefined;
      const failing: Server = createServer((req, res) => {
        req.resume();
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("boom");
      });
      await new Promise<void>((r) => failing.listen(verdictPort, "127.0.0.1", r));
      try {
        const r = await through("GET", "/admin/users", admin);
        t.diagnostic(`${kind} Verdict answers 500 -> ${r.status}; upstream saw ${r.seen.length}`);
        assert.ok(r.status >= 400, `status ${r.status} while Verdict answers 500`);
        assert.equal(r.seen.length, 0);
      } finally {
        failing.closeAllConnections();
        await new Promise<void>((r) => failing.close(() => r()));
      }
      const down = await through("GET", "/admin/users", admin);
      t.diagnostic(`${kind} Verdict down -> ${down.status}; upstream saw ${down.seen.length}`);
      assert.ok(down.status >= 500, `status ${down.status} while Verdict is down`);
      assert.equal(down.seen.length, 0);
    });
  });
}
