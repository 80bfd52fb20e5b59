import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient, type ServiceClient } from "../../src/cli/grpc-client.js";
import { ListAnomaliesRequestSchema, type ListAnomaliesResponse, PolicyAdminService } from "../../src/gen/verdict/v1/admin_pb.js";
import { Authorization, CheckRequestSchema, type CheckResponse } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { TOKEN } from "../helpers/admin.js";
import { REPO } from "../helpers/bundles.js";
import { metricValue } from "../helpers/metrics.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";

const MAIN = join(REPO, "dist", "src", "main.js");
const run = promisify(execFile);

/** A gateway request from `source` by a jwt_authn-verified principal of tenant acme. */
const gateway = (method: string, path: string, sub: string, source: string) =>
  create(CheckRequestSchema, {
    attributes: {
      source: { address: { address: { case: "socketAddress", value: { address: source, portSpecifier: { case: "portValue", value: 41000 } } } } },
      request: { http: { id: "r", method, path, host: "api.example.test", scheme: "https", headers: { ":method": method, ":path": path } } },
      metadataContext: { filterMetadata: { "envoy.filters.http.jwt_authn": { jwt_payload: { sub, tenant: "acme", roles: ["viewer"] } } } },
    },
  } as MessageInitShape<typeof CheckRequestSchema>);

describe("anomaly signals on a running server", () => {
  const dir = mkdtempSync(join(tmpdir(), "verdict-anomaly-"));
  const logFile = join(dir, "decisions.log");
  let v: RunningVerdict;
  let envoy: ServiceClient;
  before(async () => {
    cpSync(join(REPO, "policies/examples/envoy-gateway"), join(dir, "bundle"), { recursive: true });
    // A route kept for old clients, marked deprecated.
    appendFileSync(
      join(dir, "bundle", "routes.yaml"),
      `  - methods: [GET]\n    path: /v0/documents/{tenant}/{id}\n    action: read\n    deprecated: true\n    resource: { type: Gw::Document, id: "{tenant}/{id}", attributes: { tenant: "{tenant}" } }\n`,
    );
    v = await startVerdict(join(dir, "bundle"), { "admin.token": TOKEN, "anomalies.enabled": true, "anomalies.warmupMs": 0, "anomalies.enumerationThreshold": 30, "decisionLog.destination": logFile });
    envoy = createServiceClient(Authorization, v.grpcAddr);
  });
  after(async () => {
    envoy.close();
    await v.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an enumeration attack, a deprecated route and a shadow API show in ListAnomalies, `verdict anomalies`, metrics and the decision log", async () => {
    // Normal traffic: ten users reading their own tenant's documents.
    for (let i = 0; i < 40; i++) await envoy.call<CheckResponse>("check", gateway("GET", `/v1/tenants/acme/documents/d${i % 4}`, `user${i % 10}`, "10.0.0.1"));
    // The attack: one principal walks another tenant's document ids (every one denied).
    for (let i = 0; i < 40; i++) {
      const r = await envoy.call<CheckResponse>("check", gateway("GET", `/v1/tenants/globex/documents/${1000 + i}`, "mallory", "10.6.6.6"));
      assert.equal(r.httpResponse.case, "deniedResponse");
    }
    await envoy.call("check", gateway("GET", "/v0/documents/acme/d1", "user1", "10.0.0.1"));
    await envoy.call("check", gateway("GET", "/internal/debug/vars", "user1", "10.7.7.7"));
    await new Promise((r) => setImmediate(r));

    const client = createServiceClient(PolicyAdminService, v.adminAddr);
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${TOKEN}`);
    const report = await client.call<ListAnomaliesResponse>("listAnomalies", create(ListAnomaliesRequestSchema, {}), md).finally(() => client.close());
    const enumeration = report.anomalies.filter((a) => a.kind === "enumeration");
    assert.deepEqual(
      enumeration.map((a) => a.subject),
      ['Gw::User::"mallory"'],
      "only the attacker",
    );
    assert.ok(report.anomalies.some((a) => a.kind === "deprecated_route" && a.subject === "GET /v0/documents/{tenant}/{id}"));
    assert.deepEqual(report.deprecatedRoutes.map((d) => [d.kind, d.count]), [["GET /v0/documents/{tenant}/{id}", 1n]]);
    const shadow = report.shadowApis.find((s) => s.template === "/internal/debug/vars");
    assert.deepEqual(shadow?.callers, ["10.7.7.7"]);
    assert.ok(shadow.firstSeen !== "" && shadow.lastSeen >= shadow.firstSeen);

    const text = await (await fetch(`${v.httpUrl}/metrics`)).text();
    assert.equal(metricValue(text, "verdict_anomalies_total", { kind: "enumeration" }), 1);
    assert.equal(metricValue(text, "verdict_deprecated_route_calls_total", { route: "GET /v0/documents/{tenant}/{id}" }), 1);
    assert.doesNotMatch(text, /mallory/, "no principal in any label");

    const { stdout } = await run(process.execPath, [MAIN, "anomalies", "--addr", v.adminAddr], { env: { ...process.env, VERDICT_ADMIN_TOKEN: TOKEN }, timeout: 20_000 });
    assert.match(stdout, /enumeration\s+Gw::User::"mallory"/);
    assert.match(stdout, /GET \/internal\/debug\/vars\tfirst .*callers 10\.7\.7\.7/);

    await v.stop();
    const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const flagged = lines.filter((l) => l["log"] === "anomaly" && (l["anomaly"] as { kind: string }).kind === "enumeration");
    assert.equal(flagged.length, 1);
    const decision = lines.find((l) => l["decision_id"] === flagged[0]!["decision_id"] && l["log"] === "decision");
    assert.equal(decision?.["principal"], 'Gw::User::"mallory"', "the anomaly line names the decision that raised it");
    assert.equal(lines.filter((l) => l["log"] === "decision").length, 81, "every decision logged once (the unmatched request is no decision), anomaly lines apart");
  });
});
