import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CheckResponse, Decision } from "../../src/gen/verdict/v1/authorization_pb.js";
import { allowed } from "../helpers/admin.js";
import { EXAMPLE_BUNDLE } from "../helpers/bundles.js";
import { metricValue } from "../helpers/metrics.js";
import { startVerdict } from "../helpers/start-verdict.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("event-loop stall detector", () => {
  it("readiness turns false after the loop stalls, the lag is exported, and readiness returns once the loop is quick again", async () => {
    const v = await startVerdict(EXAMPLE_BUNDLE, { "server.readyMaxLagMs": 200, "server.readyRecoverMs": 1000 });
    const ready = async () => (await fetch(`${v.httpUrl}/readyz`)).status;
    try {
      const until = async (what: string, cond: () => Promise<boolean>) => {
        const end = Date.now() + 15_000;
        while (!(await cond())) {
          if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
          await sleep(20);
        }
      };
      await until("ready before the stall", async () => (await ready()) === 200);
      // A Check sent just before the loop stalls is answered after it, correctly.
      const pending = v.client.call<CheckResponse>("check", allowed);
      const end = performance.now() + 700;
      while (performance.now() < end) {
        // Blocks this process's event loop, as a runaway synchronous task would.
      }
      assert.equal((await pending).decision, Decision.ALLOW);
      const status = await fetch(`${v.httpUrl}/readyz`);
      assert.equal(status.status, 503);
      assert.match(((await status.json()) as { status: string }).status, /event loop lagging/);
      const lag = metricValue(await (await fetch(`${v.httpUrl}/metrics`)).text(), "verdict_event_loop_lag_seconds");
      assert.ok(lag >= 0.2, `the stall's lag is exported (${lag} s)`);
      await until("ready again after the loop recovered", async () => (await ready()) === 200);
    } finally {
      await v.stop();
    }
  });
});
