import assert from "node:assert/strict";
import {
  DEFAULT_SCORER_OPTIONS,
  estimateReservationTokens,
  scoreAccount,
  scorerOptionsFromConfig,
} from "./scorer.ts";
import type { ScoreInput, ScorerOptions } from "./scorer.ts";
import { resolveConfig } from "../config/schema.ts";

function usage(values: number[]): Float64Array {
  return Float64Array.from(values);
}

function input(patch: Partial<ScoreInput> = {}): ScoreInput {
  return {
    usage: usage([0, 0, 0, 0, 0, 0, 0, 0, 0]),
    weight: 1,
    inFlight: 0,
    reservedTokens: 0,
    estTokens: 0,
    unhealthy: false,
    ...patch,
  };
}

const NO_SPEND: ScorerOptions = { ...DEFAULT_SCORER_OPTIONS, spendCapMicros: undefined };

Deno.test("scoreAccount() is max(p) + 0.15 × mean(p) over request and token utilization", () => {
  // 5 h: 249 requests done (+1 for this one) of 2 500 → 0.1; tokens negligible.
  const c = scoreAccount(input({ usage: usage([249, 0, 0, 249, 0, 0, 249, 0, 0]) }), NO_SPEND);
  assert.equal(c.p5h, 0.1);
  assert.equal(c.p7d, 250 / 35_000);
  assert.equal(c.peak, 0.1);
  const mean = (0.1 + 250 / 35_000 + 250 / 150_000) / 3;
  assert.ok(Math.abs(c.score - (0.1 + 0.15 * mean)) < 1e-12);
  assert.equal(c.overCap, false);
});

Deno.test("scoreAccount() takes the token dimension when it is the tighter one", () => {
  const c = scoreAccount(
    input({ usage: usage([0, 250_000_000, 0, 0, 0, 0, 0, 0, 0]), estTokens: 0 }),
    NO_SPEND,
  );
  assert.equal(c.p5h, 0.5);
});

Deno.test("scoreAccount() scales capacities by weight (≤ 0 counts as 1)", () => {
  const u = usage([499, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(scoreAccount(input({ usage: u, weight: 2 }), NO_SPEND).p5h, 0.1);
  assert.equal(scoreAccount(input({ usage: u, weight: 0 }), NO_SPEND).p5h, 0.2);
});

Deno.test("scoreAccount() adds the in-flight and health penalties", () => {
  const base = scoreAccount(input(), NO_SPEND).score;
  const busy = scoreAccount(input({ inFlight: 3 }), NO_SPEND);
  assert.ok(Math.abs(busy.inflight - 3 * 100_000 / 12_000_000) < 1e-12);
  assert.ok(busy.score > base + busy.inflight - 1e-9);
  const sick = scoreAccount(input({ unhealthy: true }), NO_SPEND);
  assert.ok(Math.abs(sick.health - 500_000 / 12_000_000) < 1e-12);
});

Deno.test("scoreAccount() counts spend against [limits] as one more dimension", () => {
  const u = usage([0, 0, 6_000_000, 0, 0, 6_000_000, 0, 0, 6_000_000]);
  const c = scoreAccount(input({ usage: u }), DEFAULT_SCORER_OPTIONS);
  assert.equal(c.p5h, 0.5);
  assert.equal(c.p7d, 0.2);
  const offset = scoreAccount(
    input({ usage: u, spendOffsetMicros: [6_000_000, 0, 0] }),
    DEFAULT_SCORER_OPTIONS,
  );
  assert.equal(offset.p5h, 1);
  assert.equal(offset.overCap, true);
  assert.equal(scoreAccount(input({ usage: u }), NO_SPEND).p5h, 1 / 2500);
});

Deno.test("scoreAccount() marks an account at capacity, counting in-flight reservations", () => {
  const u = usage([2_499, 0, 0, 2_499, 0, 0, 2_499, 0, 0]);
  assert.equal(scoreAccount(input({ usage: u }), NO_SPEND).overCap, false);
  assert.equal(scoreAccount(input({ usage: u, inFlight: 1 }), NO_SPEND).overCap, true);
  const zero = { ...NO_SPEND, requestCapacity: [0, 1, 1] as const };
  assert.equal(scoreAccount(input(), zero).p5h, Number.POSITIVE_INFINITY);
});

Deno.test("estimateReservationTokens() is bytes/3 within [1 000, 128 000]", () => {
  assert.equal(estimateReservationTokens(0), 1_000);
  assert.equal(estimateReservationTokens(30_000), 10_000);
  assert.equal(estimateReservationTokens(30_001), 10_001);
  assert.equal(estimateReservationTokens(10_000_000), 128_000);
});

Deno.test("scorerOptionsFromConfig() reads [routing] and [limits]", () => {
  const r = resolveConfig({
    routing: {
      near_tie_epsilon: 0.05,
      randomize_near_ties: false,
      local_quota_mode: "hard_cap",
      fairness_mode: "random",
      inflight_penalty: 120_000,
    },
    limits: { five_hour_microdollars: 24_000_000 },
  }, { defaultDatabasePath: ":memory:" });
  assert.ok(r.ok);
  const o = scorerOptionsFromConfig(r.config);
  assert.equal(o.nearTieEpsilon, 0);
  assert.equal(o.fairnessEpsilon, 0);
  assert.equal(o.hardCap, true);
  assert.equal(o.fairnessMode, "random");
  assert.equal(o.inflightPenalty, 0.005);
  assert.deepEqual(o.spendCapMicros, [24_000_000, 30_000_000, 60_000_000]);
});
