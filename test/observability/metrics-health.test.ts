import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createServiceClient } from "../../src/cli/grpc-client.js";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Serving, type HealthCheckResponse } from "../../src/gen/grpc/health/v1/health_pb.js";
import { BatchCheckRequestSchema, type CheckRequest, CheckRequestSchema } from "../../src/gen/verdict/v1/authorization_pb.js";
import { TOKENS } from "../../src/tokens.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { metricValue as sample } from "../helpers/metrics.js";
import { type RunningVerdict, startVerdict } from "../helpers/start-verdict.js";
import { concat, lenField, utf8 } from "../helpers/wire.js";

const example = (name: string): CheckRequest =>
  fromJson(CheckRequestSchema, (JSON.parse(readFileSync(`${EXAMPLE_BUNDLE}/tests/${name}.json`, "utf8")) as { request: JsonValue }).request);

describe("metrics", () => {
  let verdict: RunningVerdict;
  // Without the cache every check reaches the engine, so evaluation counts are exact.
  before(async () => (verdict = await startVerdict(EXAMPLE_BUNDLE, { "cache.enabled": false })));
  after(() => verdict.stop());
  const scrape = async () => (await fetch(`${verdict.httpUrl}/metrics`)).text();

  it("count each decision exactly once with bounded labels, and refusals separately", async () => {
    const before = await scrape();
    const allow = example("editor_can_edit_document");
    const deny = example("viewer_cannot_delete_document");
    for (let i = 0; i < 7; i++) await verdict.client.call("check", allow);
    for (let i = 0; i < 5; i++) await verdict.client.call("check", deny);
    await verdict.client.call("batchCheck", create(BatchCheckRequestSchema, { checks: [allow, deny, deny] }));
    const bad = example("editor_can_edit_document");
    bad.principal!.uid!.id = "";
    await assert.rejects(verdict.client.call("check", bad));
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta("verdict_decisions_total", { api: "check", decision: "allow" }), 7);
    assert.equal(delta("verdict_decisions_total", { api: "check", decision: "deny" }), 5);
    assert.equal(delta("verdict_decisions_total", { api: "batch", decision: "allow" }), 1);
    assert.equal(delta("verdict_decisions_total", { api: "batch", decision: "deny" }), 2);
    assert.equal(delta("verdict_check_duration_seconds_count", { api: "check" }), 12);
    assert.equal(delta("verdict_evaluation_duration_seconds_count"), 15);
    assert.equal(delta("verdict_invalid_requests_total", { api: "check" }), 1);
    assert.equal(delta("verdict_batch_size_count"), 1);
    assert.equal(sample(after, "verdict_bundle_info", { name: "example-docs-api" }), 1);
    assert.equal(sample(after, "verdict_bundle_policies"), 12);
    assert.equal(sample(after, "verdict_redis_up"), 0);
    assert.ok(sample(after, "process_cpu_user_seconds_total") > 0, "default process metrics");
    assert.doesNotMatch(after, /alice|bob|eng-plan/, "no principal or resource in any label");
  });

  it("count a refused bundle", async () => {
    const activator = verdict.container.resolve(TOKENS.BundleActivator);
    await assert.rejects(activator.activate(new Map([["manifest.json", utf8('{"name":"x"}')], ["a.cedar", utf8("permit(")]]), "test"));
    assert.equal(sample(await scrape(), "verdict_bundle_activations_total", { result: "failure" }), 1);
  });

  it("/metrics answers while Checks are in flight", async () => {
    const load = Promise.all(Array.from({ length: 200 }, () => verdict.client.call("check", example("editor_can_edit_document"))));
    const res = await fetch(`${verdict.httpUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    await load;
  });
});

describe("gRPC health and reflection", () => {
  it("SERVING while a bundle is active, NOT_SERVING once shutdown begins", async () => {
    const verdict = await startVerdict(EXAMPLE_BUNDLE, { "server.shutdownDelayMs": 300 });
    const health = createServiceClient(Health, verdict.grpcAddr);
    try {
      const status = async (service = "") => (await health.call<HealthCheckResponse>("check", create(HealthCheckRequestSchema, { service }))).status;
      assert.equal(await status(), Serving.SERVING);
      assert.equal(await status("verdict.v1.AuthorizationService"), Serving.SERVING);
      await assert.rejects(health.call("check", create(HealthCheckRequestSchema, { service: "nope" })), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
      const stopping = verdict.stop();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await status(), Serving.NOT_SERVING);
      assert.equal((await fetch(`${verdict.httpUrl}/readyz`)).status, 503);
      await stopping;
    } finally {
      health.close();
      await verdict.stop();
    }
  });

  it("reflection lists the services without proto files", async () => {
    const verdict = await startVerdict(EXAMPLE_BUNDLE);
    const client = new grpc.Client(verdict.grpcAddr, grpc.credentials.createInsecure());
    try {
      // ServerReflectionRequest { list_services (7): "" }, on the bidi stream.
      const call = client.makeBidiStreamRequest("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", (x: Buffer) => x, (x: Buffer) => x);
      const answer = new Promise<Buffer>((resolve, reject) => {
        call.on("data", (d: Buffer) => resolve(d));
        call.on("error", reject);
      });
      call.write(Buffer.from(concat(lenField(7, []))));
      const text = (await answer).toString("latin1");
      call.end();
      for (const name of ["verdict.v1.AuthorizationService", "grpc.health.v1.Health"]) assert.ok(text.includes(name), `${name} listed`);
    } finally {
      client.close();
      await verdict.stop();
    }
  });
});
