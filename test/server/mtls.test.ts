import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import { connect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { AuthorizationService, CheckRequestSchema, type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { createPki, type TestPki } from "../helpers/certs.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const request = fromJson(
  CheckRequestSchema,
  (JSON.parse(readFileSync(`${EXAMPLE_BUNDLE}/tests/editor_can_edit_document.json`, "utf8")) as { request: JsonValue }).request,
);

describe("mTLS on the gRPC and HTTP listeners", () => {
  let pki: TestPki;
  let verdict: RunningVerdict;
  let server: { cert: string; key: string };
  const gateway = () => pki.issue(`gw${Math.random().toString(36).slice(2)}`, "URI:spiffe://verdict.test/gateway");

  before(async () => {
    pki = createPki();
    server = pki.issue("server", "DNS:localhost,IP:127.0.0.1");
    const tls = (l: string) => ({
      [`tls.${l}.certFile`]: server.cert,
      [`tls.${l}.keyFile`]: server.key,
      [`tls.${l}.caFile`]: pki.caCert,
      [`tls.${l}.allowedClients`]: "spiffe://verdict.test/gateway",
      [`tls.${l}.reloadMs`]: 1000,
    });
    verdict = await startVerdict(EXAMPLE_BUNDLE, { ...tls("grpc"), ...tls("http") });
  });
  after(async () => {
    await verdict.stop();
    pki.cleanup();
  });

  const creds = (client?: { cert: string; key: string }) =>
    grpc.credentials.createSsl(readFileSync(pki.caCert), client ? readFileSync(client.key) : null, client ? readFileSync(client.cert) : null);
  async function check(client?: { cert: string; key: string }): Promise<CheckResponse> {
    const c = createServiceClient(AuthorizationService, verdict.grpcAddr, creds(client));
    try {
      return await c.call<CheckResponse>("check", request, undefined, { deadline: Date.now() + 5000 });
    } finally {
      c.close();
    }
  }

  it("an allowed gateway gets decisions", async () => {
    assert.equal((await check(gateway())).decision, Decision.ALLOW);
  });
  it("a client without a certificate is refused", async () => {
    await assert.rejects(check(), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });
  it("a verified client with an unknown identity is refused", async () => {
    const intruder = pki.issue("intruder", "URI:spiffe://verdict.test/intruder,DNS:intruder.test");
    await assert.rejects(check(intruder), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.PERMISSION_DENIED);
      assert.match(err.details, /allow-list/);
      return true;
    });
  });
  it("an expired certificate with an allowed identity is refused", async () => {
    const expired = pki.issue("expired", "URI:spiffe://verdict.test/gateway", { start: "20200101000000Z", end: "20200102000000Z" });
    await assert.rejects(check(expired), (err: grpc.ServiceError) => err.code === grpc.status.UNAVAILABLE);
  });
  it("the plaintext port refuses a plaintext client", async () => {
    const c = createServiceClient(AuthorizationService, verdict.grpcAddr);
    await assert.rejects(c.call("check", request, undefined, { deadline: Date.now() + 3000 }));
    c.close();
  });

  it("the HTTP listener applies the same rules", async () => {
    const get = (client?: { cert: string; key: string }) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(`${verdict.httpUrl}/readyz`);
        const socket = connect(
          { host: "127.0.0.1", port: Number(url.port), ca: readFileSync(pki.caCert), servername: "localhost", ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}) },
          () => socket.write("GET /readyz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"),
        );
        let data = "";
        socket.on("data", (d) => (data += d.toString()));
        socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0)));
        socket.on("error", reject);
      });
    assert.equal(await get(gateway()), 200);
    assert.equal(await get(pki.issue("intruder2", "DNS:intruder.test")), 403);
    await assert.rejects(get());
  });

  it("a rotated server certificate is served without a restart", async () => {
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const gw = gateway();
        const port = Number(verdict.grpcAddr.split(":")[1]);
        const s = connect({ host: "127.0.0.1", port, ca: readFileSync(pki.caCert), servername: "localhost", cert: readFileSync(gw.cert), key: readFileSync(gw.key), ALPNProtocols: ["h2"] }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.destroy();
        });
        s.on("error", reject);
      });
    const before = await serial();
    const next = pki.issue("server2", "DNS:localhost,IP:127.0.0.1");
    copyFileSync(next.key, server.key);
    copyFileSync(next.cert, server.cert);
    let now = before;
    for (let i = 0; i < 50 && now === before; i++) {
      await new Promise((r) => setTimeout(r, 200));
      now = await serial();
    }
    assert.notEqual(now, before, "the listener presents the new certificate");
    assert.equal((await check(gateway())).decision, Decision.ALLOW);
  });
});
