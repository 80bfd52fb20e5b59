import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, SignJWT } from "jose";
import type { HttpFacts } from "../../src/routes/http-facts.js";
import { resolveHttp } from "../../src/routes/resolve-http.js";
import { parseRouteTable } from "../../src/routes/route-table.js";

const idp = generateKeyPairSync("ec", { namedCurve: "P-256" });

describe("a JWKS fetched from a URL", () => {
  let server: Server;
  let fetches = 0;
  let url = "";
  before(async () => {
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: "k1", alg: "ES256", use: "sig" }] });
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader("content-type", "application/json");
      res.end(jwks);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const table = () =>
    parseRouteTable(
      `principal:
  - jwt: { jwksUrl: "${url}", issuer: https://idp.test, audience: api, type: App::User }
routes:
  - { path: "/docs/{id}", action: read, resource: { type: App::Doc, id: "{id}" } }
`,
      () => undefined,
    );
  const facts = (authorization: string): HttpFacts => ({
    method: "GET",
    target: "/docs/1",
    host: "api.test",
    headers: new Map([["authorization", authorization]]),
    sourceAddress: "10.0.0.1",
    peerPrincipal: "",
    peerCertificatePresented: false,
    verifiedJwtPayloads: {},
    time: new Date(),
  });
  const token = (kid: string) =>
    new SignJWT({}).setProtectedHeader({ alg: "ES256", kid }).setSubject("alice").setIssuer("https://idp.test").setAudience("api").setExpirationTime("5m").sign(idp.privateKey);

  it("verifies tokens with the fetched keys, and unknown kids cause no fetch storm", async () => {
    const t = table();
    const ok = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    assert.equal(ok.kind, "request");
    assert.equal(ok.kind === "request" ? ok.principalId : "", "alice");
    for (let i = 0; i < 20; i++) {
      const r = await resolveHttp(t, facts(`Bearer ${await token(`unknown-${i}`)}`));
      assert.equal(r.kind === "refuse" ? r.status : 0, 401);
    }
    // One fetch, plus at most one refetch if 10 s passed on a very slow machine.
    assert.ok(fetches >= 1 && fetches <= 2, `fetches=${fetches}`);
  });
});
