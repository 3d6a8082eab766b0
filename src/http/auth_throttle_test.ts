import assert from "node:assert/strict";
import { AuthThrottle } from "./auth_throttle.ts";

Deno.test("AuthThrottle refuses an address after its burst, then forgives one per refill period", () => {
  let now = 0;
  const logs: string[] = [];
  const t = new AuthThrottle({
    clock: () => now,
    log: (m) => logs.push(m),
    burst: 3,
    refillMs: 1000,
  });
  assert.equal(t.retryAfterS("10.0.0.1"), 0, "unknown address passes");
  for (let i = 0; i < 3; i++) {
    assert.equal(t.retryAfterS("10.0.0.1"), 0);
    t.fail("10.0.0.1");
  }
  assert.equal(t.retryAfterS("10.0.0.1"), 1, "burst spent: wait for one token");
  assert.equal(t.retryAfterS("10.0.0.2"), 0, "other addresses are unaffected");
  assert.equal(logs.length, 1);
  assert.match(logs[0], /from 10\.0\.0\.1: 3 failed, 0 refused/);

  now += 1000;
  assert.equal(t.retryAfterS("10.0.0.1"), 0, "one token back after refillMs");
  t.fail("10.0.0.1");
  assert.equal(t.retryAfterS("10.0.0.1"), 1);
  assert.equal(logs.length, 1, "at most one line per minute per address");

  now += 60_000;
  t.fail("10.0.0.1");
  assert.equal(logs.length, 1, "a minute later, with tokens back, a failure is not worth a line");
  for (let i = 0; i < 3; i++) t.fail("10.0.0.1");
  assert.equal(logs.length, 2);
  assert.match(logs[1], /from 10\.0\.0\.1: \d+ failed, \d+ refused/);
});
