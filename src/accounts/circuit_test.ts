import assert from "node:assert/strict";
import { CIRCUIT_OPEN_MS, CircuitBreaker } from "./circuit.ts";

function openBreaker(at: number): CircuitBreaker {
  const c = new CircuitBreaker();
  for (let i = 0; i < 5; i++) c.recordFailure(at);
  return c;
}

Deno.test("CircuitBreaker stays closed below 5 consecutive failures", () => {
  const c = new CircuitBreaker();
  for (let i = 0; i < 4; i++) c.recordFailure(0);
  assert.equal(c.state, "closed");
  assert.equal(c.isUnhealthy, true);
  assert.equal(c.tryAcquire(0), "pass");
  c.recordSuccess();
  assert.equal(c.consecutiveFailures, 0);
  assert.equal(c.isUnhealthy, false);
  for (let i = 0; i < 4; i++) c.recordFailure(0);
  assert.equal(c.state, "closed", "a success resets the streak");
});

Deno.test("CircuitBreaker opens on the 5th failure and rejects for 300 s", () => {
  const c = openBreaker(1_000);
  assert.equal(c.state, "open");
  assert.equal(c.canAttempt(1_000 + CIRCUIT_OPEN_MS - 1), false);
  assert.equal(c.tryAcquire(1_000 + CIRCUIT_OPEN_MS - 1), "rejected");
  assert.deepEqual(c.snapshot(1_000 + 100_000), {
    state: "open",
    consecutiveFailures: 5,
    retryInMs: CIRCUIT_OPEN_MS - 100_000,
  });
  assert.equal(c.reopensAt(), 1_000 + CIRCUIT_OPEN_MS);
});

Deno.test("CircuitBreaker admits one half-open probe; a success closes it", () => {
  const c = openBreaker(0);
  assert.equal(c.canAttempt(CIRCUIT_OPEN_MS), true);
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "probe");
  assert.equal(c.state, "half_open");
  assert.equal(c.canAttempt(CIRCUIT_OPEN_MS), false);
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "rejected");
  c.recordSuccess();
  assert.equal(c.state, "closed");
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "pass");
});

Deno.test("CircuitBreaker re-opens when the probe fails", () => {
  const c = openBreaker(0);
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "probe");
  c.recordFailure(CIRCUIT_OPEN_MS + 5);
  assert.equal(c.state, "open");
  assert.equal(c.canAttempt(2 * CIRCUIT_OPEN_MS), false);
  assert.equal(c.canAttempt(2 * CIRCUIT_OPEN_MS + 5), true);
});

Deno.test("CircuitBreaker.releaseProbe() frees the slot of an attempt with no verdict", () => {
  const c = openBreaker(0);
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "probe");
  c.releaseProbe();
  assert.equal(c.state, "half_open");
  assert.equal(c.tryAcquire(CIRCUIT_OPEN_MS), "probe");
});

Deno.test("CircuitBreaker honours custom thresholds", () => {
  const c = new CircuitBreaker({ failureThreshold: 2, openMs: 10 });
  c.recordFailure(0);
  c.recordFailure(0);
  assert.equal(c.state, "open");
  assert.equal(c.tryAcquire(10), "probe");
});
