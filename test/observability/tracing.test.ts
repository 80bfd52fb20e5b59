import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { Authorization, CheckRequestSchema as EnvoyCheckRequestSchema, type CheckResponse as EnvoyCheckResponse } from "../../src/gen/envoy/service/auth/v3/external_auth_pb.js";
import { BatchCheckRequestSchema, type CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import { allowed, example } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE, REPO } from "../helpers/bundles.js";
import { gatewayBundle, token } from "../helpers/gateway-idp.js";
import { send } from "../helpers/gateways.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../helpers/otlp-receiver.js";
import { startVerdict } from "../helpers/start-verdict.js";

const traceparent = (sampled = true) => {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${sampled ? "01" : "00"}` };
};
const withTrace = (header: string, state?: string) => {
  const md = new grpc.Metadata();
  md.set("traceparent", header);
  if (state !== undefined) md.set("tracestate", state);
  return md;
};
const byTrace = (spans: ReceivedSpan[], traceId: string) => spans.filter((s) => s.traceId === traceId);

/** Runs `body` against a server exporting to a fresh receiver; spans are read after the server stops (shutdown flushes). */
async function traced(settings: Record<string, unknown>, body: (v: Awaited<ReturnType<typeof startVerdict>>) => Promise<void>, dir = EXAMPLE_BUNDLE): Promise<OtlpReceiver> {
  const receiver = await startOtlpReceiver();
  const v = await startVerdict(dir, { "tracing.enabled": true, "tracing.endpoint": receiver.url, ...settings });
  try {
    await body(v);
  } finally {
    await v.stop();
    await receiver.close();
  }
  return receiver;
}

describe("OpenTelemetry decision spans over OTLP/HTTP protobuf", () => {
  it("a Check carrying traceparent yields a decision span under the caller's span, an evaluate span under it, and no request values", async () => {
    const first = traceparent();
    const second = traceparent();
    let policies: string[] = [];
    const receiver = await traced({ "tracing.resourceAttributes": "deployment.environment=test,service.namespace=authz" }, async (v) => {
      const r = await v.client.call<CheckResponse>("check", allowed, withTrace(first.header, "vendor=abc"));
      assert.equal(r.decision, 1);
      policies = r.determiningPolicies;
      await v.client.call<CheckResponse>("check", allowed, withTrace(second.header));
    });
    const [decision, ...rest] = byTrace(receiver.spans, first.traceId).sort((a, b) => a.name.localeCompare(b.name));
    assert.equal(decision?.name, "verdict.decision");
    assert.equal(decision.parentSpanId, first.spanId, "child of the caller's span");
    assert.equal(decision.kind, 2, "SERVER");
    assert.equal(decision.traceState, "vendor=abc", "tracestate carried along");
    assert.ok(decision.endNs > decision.startNs);
    assert.deepEqual(
      { ...decision.attributes, "verdict.decision_id": "-", "verdict.bundle.revision": "-" },
      {
        "verdict.api": "check",
        "verdict.cache": "miss",
        "verdict.evaluated": true,
        "verdict.bundle.revision": "-",
        "verdict.decision": "allow",
        "verdict.determining_policies": policies,
        "verdict.decision_id": "-",
        "verdict.error_count": 0,
      },
    );
    assert.match(String(decision.attributes["verdict.decision_id"]), /^[0-9a-f-]{36}$/);
    const evaluate = rest.find((s) => s.name === "verdict.evaluate");
    assert.equal(evaluate?.parentSpanId, decision.spanId, "evaluation under the decision");
    assert.ok(evaluate.startNs >= decision.startNs && evaluate.endNs <= decision.endNs);
    assert.equal(decision.resource["service.name"], "verdict");
    assert.equal(decision.resource["deployment.environment"], "test");
    // The repeat is answered from the local cache: no evaluation span.
    const repeat = byTrace(receiver.spans, second.traceId);
    assert.deepEqual(
      repeat.map((s) => [s.name, s.attributes["verdict.cache"], s.parentSpanId]),
      [["verdict.decision", "hit_local", second.spanId]],
    );
    const everything = JSON.stringify(receiver.spans.map((s) => s.attributes));
    for (const value of [allowed.principal!.uid!.id, allowed.resource!.uid!.id]) assert.ok(!everything.includes(`"${value}"`), `${value} is a request value`);
  });

  it("every BatchCheck item and an AuthZEN evaluation are traced under their caller's span", async () => {
    const batch = traceparent();
    const authzen = traceparent();
    const receiver = await traced({}, async (v) => {
      await v.client.call("batchCheck", create(BatchCheckRequestSchema, { checks: [allowed, example("viewer_cannot_delete_document")] }), withTrace(batch.header));
      const res = await fetch(`${v.httpUrl}/access/v1/evaluation`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: authzen.header },
        body: JSON.stringify({
          subject: { type: "App::User", id: "alice", properties: { tenant: { type: "App::Tenant", id: "acme" }, department: "eng", suspended: false } },
          action: { name: "view" },
          resource: { type: "App::Document", id: "d1", properties: { tenant: { type: "App::Tenant", id: "acme" }, owner: { type: "App::User", id: "alice" }, department: "eng", classification: "internal" } },
          context: { mfa: true, sourceIp: "10.0.0.1" },
        }),
      });
      assert.equal(res.status, 200, await res.text());
    });
    const decisions = (t: { traceId: string }) => byTrace(receiver.spans, t.traceId).filter((s) => s.name === "verdict.decision");
    assert.deepEqual(decisions(batch).map((s) => [s.parentSpanId, s.attributes["verdict.api"], s.attributes["verdict.decision"]]).sort(), [
      [batch.spanId, "batch", "allow"],
      [batch.spanId, "batch", "deny"],
    ]);
    assert.deepEqual(decisions(authzen).map((s) => [s.parentSpanId, s.attributes["verdict.api"]]), [[authzen.spanId, "authzen"]]);
  });

  it("the traceparent among the HTTP headers inside an Envoy CheckRequest parents the decision span", async () => {
    const envoy = traceparent();
    const receiver = await traced(
      {},
      async (v) => {
        const client = createServiceClient(Authorization, v.grpcAddr);
        try {
          const r = await client.call<EnvoyCheckResponse>("check", envoyCheck("/v1/tenants/acme/documents/d1", { traceparent: envoy.header }));
          assert.equal(r.httpResponse.case, "okResponse");
        } finally {
          client.close();
        }
      },
      `${REPO}/policies/examples/envoy-gateway`,
    );
    assert.deepEqual(
      byTrace(receiver.spans, envoy.traceId).filter((s) => s.name === "verdict.decision").map((s) => [s.parentSpanId, s.attributes["verdict.api"], s.attributes["verdict.decision"]]),
      [[envoy.spanId, "envoy", "allow"]],
    );
  });

  it("the traceparent a gateway forwards to the forward-auth endpoint parents the decision span", async () => {
    const gateway = traceparent();
    const dir = await gatewayBundle();
    try {
      const receiver = await traced(
        { "forwardAuth.enabled": true },
        async (v) => {
          const headers = { authorization: `Bearer ${await token()}`, "x-forwarded-method": "GET", "x-forwarded-uri": "/v1/tenants/acme/documents/d1", "x-forwarded-host": "api.example.test", "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7", traceparent: gateway.header };
          const r = await send(Number(new URL(v.httpUrl).port), { method: "GET", path: "/forward-auth", headers });
          assert.equal(r.status, 200, r.body);
        },
        dir,
      );
      assert.deepEqual(
        byTrace(receiver.spans, gateway.traceId).filter((s) => s.name === "verdict.decision").map((s) => [s.parentSpanId, s.attributes["verdict.api"], s.attributes["verdict.decision"]]),
        [[gateway.spanId, "forward_auth", "allow"]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the sampling ratio applies to traces that start here; a sampled caller is followed, an unsampled one is not", async () => {
    const sampled = traceparent(true);
    const unsampled = traceparent(false);
    const receiver = await traced({ "tracing.samplingRatio": 0 }, async (v) => {
      for (let i = 0; i < 20; i++) await v.client.call("check", allowed);
      await v.client.call("check", allowed, withTrace(sampled.header));
      await v.client.call("check", allowed, withTrace(unsampled.header));
    });
    assert.deepEqual(
      receiver.spans.map((s) => s.traceId),
      [sampled.traceId],
    );
  });

  it("at ratio 1 every decision without a caller context starts its own trace", async () => {
    const receiver = await traced({ "tracing.samplingRatio": 1 }, async (v) => {
      for (let i = 0; i < 5; i++) await v.client.call("check", allowed);
    });
    const decisions = receiver.spans.filter((s) => s.name === "verdict.decision");
    assert.equal(decisions.length, 5);
    assert.equal(new Set(decisions.map((s) => s.traceId)).size, 5);
    for (const s of decisions) assert.equal(s.parentSpanId, "");
  });
});

/** An Envoy CheckRequest as Envoy fills it, the caller identified by jwt_authn's verified payload. */
const envoyCheck = (path: string, headers: Record<string, string>) =>
  create(EnvoyCheckRequestSchema, {
    attributes: {
      source: { address: { address: { case: "socketAddress", value: { address: "10.0.0.5", portSpecifier: { case: "portValue", value: 41000 } } } } },
      request: {
        http: { id: "req-1", method: "GET", path, host: "api.example.test", scheme: "https", headers: { ":method": "GET", ":path": path, ...headers } },
      },
      metadataContext: { filterMetadata: { "envoy.filters.http.jwt_authn": { jwt_payload: { sub: "alice", tenant: "acme", roles: ["viewer"] } } } },
    },
  } as MessageInitShape<typeof EnvoyCheckRequestSchema>);
