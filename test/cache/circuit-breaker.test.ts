import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BreakerState, CircuitBreaker } from "../../src/cache/circuit-breaker.js";

describe("circuit breaker", () => {
  const setup = () => {
    let now = 0;
    const states: BreakerState[] = [];
    const breaker = new CircuitBreaker({ failures: 3, windowMs: 1000, cooldownMs: 500 }, (s) => states.push(s), () => now);
    return { breaker, states, advance: (ms: number) => (now += ms) };
  };

  it("opens after N failures within the window, and only then", () => {
    const { breaker, advance } = setup();
    breaker.failure();
    breaker.failure();
    advance(1500); // the first two have left the window
    breaker.failure();
    assert.equal(breaker.state, "closed");
    breaker.failure();
    breaker.failure();
    assert.equal(breaker.state, "open");
    assert.equal(breaker.allow(), false);
  });

  it("lets one probe through after the cooldown; success closes, failure re-opens", () => {
    const { breaker, states, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(500);
    assert.equal(breaker.allow(), true, "the probe");
    assert.equal(breaker.allow(), false, "only one probe at a time");
    breaker.failure();
    assert.equal(breaker.state, "open");
    advance(500);
    assert.equal(breaker.allow(), true);
    breaker.success();
    assert.equal(breaker.state, "closed");
    assert.deepEqual(states, ["open", "half-open", "open", "half-open", "closed"]);
  });
});
