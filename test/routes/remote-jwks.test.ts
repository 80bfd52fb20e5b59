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
/** A request with this authorization header, as a door hands it to routing. */
/** A route table whose one jwt source fetches its keys from `url`. */
const tableFor = (url: string) =>
  parseRouteTable(
    `principal:
  - jwt: { jwksUrl: "${url}", issuer: https://idp.test, audience: api, type: App::User }
routes:
  - { path: "/docs/{id}", action: read, resource: { type: App::Doc, id: "{id}" } }
`,
    () => undefined,
  );
/** A token for that source, signed with the key of id `kid`. */
const token = (kid: string) =>
  new SignJWT({}).setProtectedHeader({ alg: "ES256", kid }).setSubject("alice").setIssuer("https://idp.test").setAudience("api").setExpirationTime("5m").sign(idp.privateKey);
const facts = (authorization: string): HttpFacts => ({
  method: "GET",
  target: "/docs/1",
  host: "api.test",
  headers: new Map([["authorization", [authorization]]]),
  commaJoined: false,
  source: { address: "10.0.0.1" },
  peerPrincipal: "",
  peerCertificatePresented: false,
  verifiedJwtPayloads: {},
  time: new Date(),
});

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

  const table = () => tableFor(url);

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

  it("fetches the keys when the route table is read, before any request needs them", async () => {
    const before = fetches;
    table();
    for (let i = 0; i < 100 && fetches === before; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fetches, before + 1);
  });
});

describe("a JWKS whose server stalls", () => {
  let server: Server;
  let stall = false;
  const held: (() => void)[] = [];
  let url = "";
  before(async () => {
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: "k1", alg: "ES256", use: "sig" }] });
    server = createServer((_req, res) => {
      const answer = () => {
        res.setHeader("content-type", "application/json");
        res.end(jwks);
      };
      if (stall) held.push(answer);
      else answer();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  after(() => {
    for (const answer of held) answer();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const parse = () => tableFor(url);

  it("a request before the first fetch answers 401 invalid_token while the IdP is still silent, and later ones verify", async () => {
    stall = true;
    const t = parse();
    const r = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    assert.equal(held.length >= 1, true, "the IdP has not answered yet");
    assert.equal(r.kind, "refuse");
    assert.equal(r.kind === "refuse" && r.invalidToken, true);
    assert.match(r.kind === "refuse" ? r.reason : "", /not available yet/);
    stall = false;
    for (const answer of held.splice(0)) answer();
    let ok = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    for (let i = 0; i < 50 && ok.kind !== "request"; i++) {
      await new Promise((res) => setTimeout(res, 20));
      ok = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    }
    assert.equal(ok.kind, "request");
  });
  it("keys already fetched keep verifying while a refetch for an unknown key id stalls", async () => {
    const t = parse();
    let ok = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    for (let i = 0; i < 50 && ok.kind !== "request"; i++) {
      await new Promise((res) => setTimeout(res, 20));
      ok = await resolveHttp(t, facts(`Bearer ${await token("k1")}`));
    }
    assert.equal(ok.kind, "request");
    stall = true;
    const rotated = await resolveHttp(t, facts(`Bearer ${await token("k2")}`));
    assert.equal(rotated.kind === "refuse" && rotated.status, 401);
    assert.equal((await resolveHttp(t, facts(`Bearer ${await token("k1")}`))).kind, "request", "the cached key still serves");
    stall = false;
  });
});
