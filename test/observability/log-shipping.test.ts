import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckResponse } from "../../src/gen/verdict/v1/authorization_pb.js";
import type { SinkAccount } from "../../src/observability/status/log-accounting.js";
import { TOKENS } from "../../src/tokens.js";
import { allowed, example } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { type Behaviour, type LogReceiver, startLogReceiver } from "../helpers/log-receiver.js";
import { metricValue } from "../helpers/metrics.js";
import { freePort } from "../helpers/redis-server.js";
import { startVerdict } from "../helpers/start-verdict.js";

const denied = example("viewer_cannot_delete_document");
const DECISIONS = 23;
const FAST = { "logShipping.batchSize": 5, "logShipping.flushMs": 20, "logShipping.maxRetries": 4, "logShipping.retryBaseMs": 5, "logShipping.retryMaxMs": 40, "logShipping.timeoutMs": 5_000 };

interface Run {
  readonly account: SinkAccount;
  readonly ids: string[];
  readonly metrics: string;
}

/** Decides DECISIONS requests (allow and deny) on a server shipping to `url`, stops it (which flushes), returns the http sink's account. */
async function ship(url: string, settings: Record<string, unknown> = {}, concurrent = false, drain = false): Promise<Run> {
  const v = await startVerdict(EXAMPLE_BUNDLE, { "logShipping.url": url, "decisionLog.mask": "context.sourceIp", "decisionLog.maskSecret": "log-shipping-test-secret", ...FAST, ...settings });
  const ids: string[] = [];
  const one = async (i: number) => ids.push((await v.client.call<CheckResponse>("check", i % 3 === 0 ? denied : allowed)).decisionId);
  if (concurrent) await Promise.all(Array.from({ length: DECISIONS }, (_, i) => one(i)));
  else for (let i = 0; i < DECISIONS; i++) await one(i);
  // With `drain`, the sink gets time to recover and empty its backlog before shutdown (no timing asserted).
  const status = v.container.resolve(TOKENS.ReplicaStatus);
  for (let i = 0; drain && i < 200 && status.view().decisionLog.find((s) => s.name === "http")!.backlog > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const metrics = await (await fetch(`${v.httpUrl}/metrics`)).text();
  await v.stop();
  const account = v.container.resolve(TOKENS.ReplicaStatus).view().decisionLog.find((s) => s.name === "http");
  assert.ok(account, "the http sink is in the status");
  return { account, ids, metrics };
}

/** decisions = shipped + dropped + sampled out, nothing left behind. */
const assertAccounted = (run: Run) => {
  const { shipped, dropped, sampledOut, backlog } = run.account;
  assert.equal(backlog, 0, "nothing left after close");
  assert.equal(shipped + dropped + sampledOut, DECISIONS, `shipped ${shipped} + dropped ${dropped} + sampled out ${sampledOut}`);
};
const receivedIds = (r: LogReceiver) => r.batches.flat().map((l) => l["decision_id"] as string);

async function withReceiver(behave: (n: number) => Behaviour, body: (r: LogReceiver) => Promise<void>): Promise<void> {
  const receiver = await startLogReceiver(behave);
  try {
    await body(receiver);
  } finally {
    await receiver.close();
  }
}

describe("decision logs shipped to an HTTP sink", () => {
  it("a healthy sink receives every decision once, in gzip JSON batches, masked, with the bearer token", () =>
    withReceiver(
      () => "ok",
      async (receiver) => {
        const run = await ship(receiver.url, { "logShipping.token": "sink-token" });
        assertAccounted(run);
        assert.equal(run.account.shipped, DECISIONS);
        assert.deepEqual(receivedIds(receiver).sort(), [...run.ids].sort(), "each decision exactly once");
        for (const req of receiver.requests) {
          assert.equal(req.headers["content-encoding"], "gzip");
          assert.equal(req.headers["content-type"], "application/json");
          assert.equal(req.headers["authorization"], "Bearer sink-token");
        }
        assert.ok(receiver.batches.every((b) => b.length <= 5), "batches of at most batchSize");
        const line = receiver.batches[0]![0]!;
        assert.ok(!Number.isNaN(Date.parse(line["time"] as string)));
        assert.match((line["context"] as Record<string, string>)["sourceIp"]!, /^hmac-sha256:[0-9a-f]{16,}$/, "masked before it left the process");
        const sourceIp = JSON.stringify(allowed.context["sourceIp"]);
        assert.ok(!JSON.stringify(receiver.batches).includes((allowed.context["sourceIp"]!.kind.value as { arg: string }).arg), `no clear ${sourceIp}`);
        assert.equal(metricValue(run.metrics, "verdict_decision_logs_shipped_total", { sink: "http" }) > 0, true);
      },
    ));

  it("a sink that is down: every decision answered, every line dropped after its retries, and counted", async () => {
    const port = await freePort();
    const run = await ship(`http://127.0.0.1:${port}/logs`);
    assert.equal(run.ids.length, DECISIONS, "decisions never wait for the sink");
    assertAccounted(run);
    assert.deepEqual([run.account.shipped, run.account.dropped], [0, DECISIONS]);
    assert.match(run.account.lastError, /ECONNREFUSED|fetch failed|connect/i);
  });

  it("a sink answering 5xx a few times: the batches are retried and all arrive", () =>
    withReceiver(
      (n) => (n < 3 ? "5xx" : "ok"),
      async (receiver) => {
        const run = await ship(receiver.url, {}, false, true);
        assertAccounted(run);
        assert.equal(run.account.shipped, DECISIONS);
        assert.deepEqual(receivedIds(receiver).sort(), [...run.ids].sort());
        assert.ok(metricValue(run.metrics, "verdict_decision_logs_ship_retries_total", { sink: "http" }) >= 3);
      },
    ));

  it("a sink that always answers 5xx: lines dropped as retries exhausted, exactly", () =>
    withReceiver(
      () => "5xx",
      async (receiver) => {
        const run = await ship(receiver.url, { "logShipping.maxRetries": 1 });
        assertAccounted(run);
        assert.deepEqual([run.account.shipped, run.account.dropped], [0, DECISIONS]);
        assert.equal(run.account.lastError, "HTTP 503");
      },
    ));

  it("a sink refusing the batch (4xx) is not retried; the lines are dropped as rejected", () =>
    withReceiver(
      () => "reject",
      async (receiver) => {
        const run = await ship(receiver.url);
        assertAccounted(run);
        assert.equal(run.account.dropped, DECISIONS);
        assert.equal(metricValue(run.metrics, "verdict_decision_logs_ship_retries_total", { sink: "http" }), 0);
      },
    ));

  it("a slow sink (answers after the timeout): retried, nothing lost, at-least-once", () =>
    withReceiver(
      (n) => (n < 2 ? { slowMs: 1_000 } : "ok"),
      async (receiver) => {
        const run = await ship(receiver.url, { "logShipping.timeoutMs": 300 }, false, true);
        assertAccounted(run);
        assert.equal(run.account.shipped, DECISIONS);
        assert.deepEqual([...new Set(receivedIds(receiver))].sort(), [...run.ids].sort(), "every decision arrived (timed-out batches may arrive twice)");
      },
    ));

  it("a sink closing connections mid-batch: the batches are sent again and all arrive", () =>
    withReceiver(
      (n) => (n < 3 ? "reset" : "ok"),
      async (receiver) => {
        const run = await ship(receiver.url, {}, false, true);
        assertAccounted(run);
        assert.equal(run.account.shipped, DECISIONS);
        assert.deepEqual(receivedIds(receiver).sort(), [...run.ids].sort());
      },
    ));

  it("a full buffer drops new lines and counts them; the rest arrive", () =>
    withReceiver(
      () => ({ slowMs: 200 }),
      async (receiver) => {
        const run = await ship(receiver.url, { "logShipping.bufferLines": 4, "logShipping.batchSize": 2, "logShipping.timeoutMs": 5_000 }, true);
        assertAccounted(run);
        assert.ok(run.account.dropped > 0, "some dropped");
        assert.equal(metricValue(run.metrics, "verdict_decision_logs_ship_dropped_total", { sink: "http", reason: "buffer_full" }) > 0, true);
        assert.equal(new Set(receivedIds(receiver)).size, run.account.shipped);
      },
    ));

  it("sampled-out ALLOWs are counted per sink", () =>
    withReceiver(
      () => "ok",
      async (receiver) => {
        const run = await ship(receiver.url, { "decisionLog.allowSampleRate": 0 });
        assertAccounted(run);
        const denies = Math.ceil(DECISIONS / 3);
        assert.deepEqual([run.account.shipped, run.account.sampledOut], [denies, DECISIONS - denies]);
        assert.ok(receiver.batches.flat().every((l) => l["decision"] === "deny"));
      },
    ));
});
