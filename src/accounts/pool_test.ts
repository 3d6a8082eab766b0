import assert from "node:assert/strict";
import { AccountPool } from "./pool.ts";
import type { AccountPoolOptions } from "./pool.ts";
import type { AccountRuntime } from "./account.ts";
import { fakeAccount, fakeClock, fakeProvider, seededRandom } from "./_fixtures.ts";
import { DEFAULT_SCORER_OPTIONS } from "../routing/scorer.ts";
import type { ScorerOptions } from "../routing/scorer.ts";
import { classifyResponse, classifyTransport } from "../routing/classify.ts";

/** Small capacities so utilization moves visibly; fairness off = pure score order. */
const STRICT: ScorerOptions = {
  ...DEFAULT_SCORER_OPTIONS,
  requestCapacity: [100, 1_000, 10_000],
  spendCapMicros: undefined,
  fairnessMode: "off",
  nearTieEpsilon: 0,
  fairnessEpsilon: 0,
};

function pool(accounts: AccountRuntime[], patch: Partial<AccountPoolOptions> = {}) {
  const clock = fakeClock();
  const p = new AccountPool(accounts, { clock, random: seededRandom(1), ...patch });
  return { pool: p, clock };
}

const ALL = (...ids: string[]) => new Set(ids);

/** Routes `n` requests, each finishing before the next, and counts where they went. */
function route(p: AccountPool, clock: () => number, providers: Set<string>, n: number) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = p.decide({ providerIds: providers, modelId: "m" });
    const chosen = d.chosen!;
    counts[chosen] = (counts[chosen] ?? 0) + 1;
    p.observe(chosen, { at: clock(), tokens: 10, costMicros: 0 });
  }
  return counts;
}

Deno.test("AccountPool.decide() spreads load in proportion to headroom", () => {
  const prov = fakeProvider("p");
  const accounts = [
    fakeAccount("a", prov, { weight: 2 }),
    fakeAccount("b", prov),
    fakeAccount("c", prov),
  ];
  const { pool: p, clock } = pool(accounts, { scorer: STRICT });
  // c already spent 40 of its 100 requests in this 5 h window.
  for (let i = 0; i < 40; i++) p.observe("c", { at: clock.now, tokens: 0, costMicros: 0 });
  const counts = route(p, clock, ALL("p"), 200);
  // Water-filling to equal utilization: (a/200) = (b/100) = ((40+c)/100) = 0.6.
  assert.ok(Math.abs(counts.a - 120) <= 2, JSON.stringify(counts));
  assert.ok(Math.abs(counts.b - 60) <= 2, JSON.stringify(counts));
  assert.ok(Math.abs(counts.c - 20) <= 2, JSON.stringify(counts));
});

Deno.test("AccountPool.decide() stays proportional with round-robin near-tie rotation", () => {
  const prov = fakeProvider("p");
  const accounts = [fakeAccount("a", prov, { weight: 3 }), fakeAccount("b", prov)];
  const { pool: p, clock } = pool(accounts, {
    scorer: { ...STRICT, fairnessMode: "round_robin", fairnessEpsilon: 0.05 },
  });
  const counts = route(p, clock, ALL("p"), 200);
  // Equal utilization means a:b = 3:1, within the band's slack (5 % of 100 requests).
  assert.ok(Math.abs(counts.a - 150) <= 6, JSON.stringify(counts));
});

Deno.test("AccountPool.decide() rotates equal accounts evenly (near-tie fairness)", () => {
  const prov = fakeProvider("p");
  const { pool: p } = pool(["a", "b", "c"].map((n) => fakeAccount(n, prov)));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 300; i++) {
    const first = p.decide({ providerIds: ALL("p"), modelId: "m" }).chosen!;
    counts[first] = (counts[first] ?? 0) + 1;
  }
  assert.deepEqual(counts, { a: 100, b: 100, c: 100 });
});

Deno.test("AccountPool.decide() honours priority tiers and falls through when a tier is out", () => {
  const hi = fakeProvider("hi", { priority: 2 });
  const lo = fakeProvider("lo", { priority: 0 });
  const { pool: p, clock } = pool([
    fakeAccount("lo-1", lo),
    fakeAccount("hi-1", hi),
    fakeAccount("hi-2", hi),
  ]);
  for (let i = 0; i < 10; i++) {
    const d = p.decide({ providerIds: ALL("hi", "lo"), modelId: "m" });
    assert.deepEqual(d.candidates.map((c) => c.priority), [2, 2, 0]);
    assert.equal(d.candidates[2].name, "lo-1");
  }
  const limited = classifyResponse(429, new Headers({ "retry-after": "30" }), undefined, {
    now: clock.now,
    quotaCooldownMs: 300_000,
  });
  p.recordFailure("hi-1", limited);
  p.recordFailure("hi-2", limited);
  const d = p.decide({ providerIds: ALL("hi", "lo"), modelId: "m" });
  assert.deepEqual(d.candidates.map((c) => c.name), ["lo-1"]);
  assert.deepEqual(
    d.exclusions.map((e) => [e.account, e.reason, e.untilMs]),
    [["hi-1", "rate_limited", clock.now + 30_000], ["hi-2", "rate_limited", clock.now + 30_000]],
  );
  clock.advance(30_000);
  assert.equal(p.decide({ providerIds: ALL("hi", "lo"), modelId: "m" }).candidates.length, 3);
});

Deno.test("AccountPool.decide() excludes over-capacity accounts only in hard_cap mode", () => {
  const prov = fakeProvider("p");
  const accounts = [fakeAccount("full", prov), fakeAccount("free", prov)];
  for (const hardCap of [false, true]) {
    const { pool: p, clock } = pool(accounts, { scorer: { ...STRICT, hardCap } });
    for (let i = 0; i < 100; i++) p.observe("full", { at: clock.now, tokens: 0, costMicros: 0 });
    const d = p.decide({ providerIds: ALL("p"), modelId: "m" });
    if (hardCap) {
      assert.deepEqual(d.candidates.map((c) => c.name), ["free"]);
      assert.deepEqual(d.exclusions, [{ account: "full", reason: "hard_cap" }]);
    } else {
      assert.deepEqual(d.candidates.map((c) => c.name), ["free", "full"]);
      assert.deepEqual(d.exclusions, []);
    }
  }
});

Deno.test("AccountPool.decide() records every exclusion reason", () => {
  const prov = fakeProvider("p");
  const { pool: p, clock } = pool([
    fakeAccount("off", prov, { enabled: false }),
    fakeAccount("keyless", prov, { key: null }),
    fakeAccount("tried", prov),
    fakeAccount("elsewhere", prov),
    fakeAccount("ok", prov),
  ], { supports: (a) => a.name !== "elsewhere" });
  const d = p.decide({ providerIds: ALL("p"), modelId: "m", attempted: ALL("tried") });
  assert.equal(d.chosen, "ok");
  // Exclusions come in account-name order.
  assert.deepEqual(d.exclusions.map((e) => [e.account, e.reason]), [
    ["elsewhere", "not_serving"],
    ["keyless", "no_key"],
    ["off", "disabled"],
    ["tried", "attempted"],
  ]);
  assert.equal(d.decidedAt, clock.now);
});

Deno.test("AccountPool parks an auth failure until the credential changes", () => {
  const prov = fakeProvider("p");
  const { pool: p, clock } = pool([fakeAccount("a", prov)]);
  p.coolDown("a", { cooldownMs: undefined, reason: "auth_failed" });
  clock.advance(10 * 3_600_000);
  const d = p.decide({ providerIds: ALL("p"), modelId: "m" });
  assert.deepEqual(d.exclusions, [{ account: "a", reason: "auth_failed" }]);
  assert.equal(p.soonestRetryMs(ALL("p")), undefined);
  p.clearOnSuccess("a", "m");
  assert.equal(p.decide({ providerIds: ALL("p"), modelId: "m" }).candidates.length, 0);
  p.credentialChanged("a");
  assert.equal(p.decide({ providerIds: ALL("p"), modelId: "m" }).chosen, "a");
});

Deno.test("AccountPool rests only the model on a model-not-found failure", () => {
  const prov = fakeProvider("p");
  const { pool: p } = pool([fakeAccount("a", prov)]);
  p.coolDown("a", { cooldownMs: 300_000, reason: "model_unavailable", modelId: "gone" });
  assert.equal(
    p.decide({ providerIds: ALL("p"), modelId: "gone" }).exclusions[0].reason,
    "model_unavailable",
  );
  assert.equal(p.decide({ providerIds: ALL("p"), modelId: "other" }).chosen, "a");
});

Deno.test("AccountPool.soonestRetryMs() reports the earliest timed backoff", () => {
  const prov = fakeProvider("p");
  const { pool: p, clock } = pool([fakeAccount("a", prov), fakeAccount("b", prov)]);
  p.coolDown("a", { cooldownMs: 40_000, reason: "rate_limited" });
  p.coolDown("b", { cooldownMs: 15_000, reason: "rate_limited" });
  assert.equal(p.soonestRetryMs(ALL("p")), 15_000);
  clock.advance(5_000);
  assert.equal(p.soonestRetryMs(ALL("p")), 10_000);
});

Deno.test("AccountPool opens the circuit after 5 transport failures and probes once", () => {
  const prov = fakeProvider("p");
  const { pool: p, clock } = pool([fakeAccount("a", prov)]);
  for (let i = 0; i < 5; i++) {
    p.recordFailure("a", classifyTransport(false));
    // Let each transport backoff lapse so only the circuit decides.
    clock.advance(1_800_000);
  }
  let d = p.decide({ providerIds: ALL("p"), modelId: "m" });
  assert.equal(d.candidates.length, 1, "300 s passed since the last failure: probe allowed");
  p.recordFailure("a", classifyTransport(false));
  clock.advance(1_800_000 - 1);
  // Backoff over (escalated transport rows cap at 1 800 s) but the circuit waits 300 s only.
  d = p.decide({ providerIds: ALL("p"), modelId: "m" });
  assert.equal(d.candidates.length, 1);
  const probe = p.tryAcquire("a");
  assert.ok(probe);
  assert.equal(p.tryAcquire("a"), undefined, "one half-open probe at a time");
  assert.equal(
    p.decide({ providerIds: ALL("p"), modelId: "m" }).exclusions[0].reason,
    "circuit_open",
  );
  probe();
  p.clearOnSuccess("a", "m");
  const again = p.tryAcquire("a");
  assert.ok(again);
  again();
  assert.equal(p.status()[0].circuit.state, "closed");
});

Deno.test("AccountPool counts in-flight requests and penalizes busy accounts", () => {
  const prov = fakeProvider("p");
  const { pool: p } = pool([fakeAccount("a", prov), fakeAccount("b", prov)], { scorer: STRICT });
  const releaseA = p.acquire("a", { estTokens: 1_000 });
  const releaseA2 = p.acquire("a");
  assert.equal(p.inFlight("a"), 2);
  const d = p.decide({ providerIds: ALL("p"), modelId: "m" });
  assert.equal(d.chosen, "b");
  assert.ok(d.candidates[1].components.inflight > 0);
  releaseA();
  releaseA();
  releaseA2();
  assert.equal(p.inFlight("a"), 0);
});

Deno.test("AccountPool.order() keeps the data plane's original contract", () => {
  const hi = fakeProvider("hi", { priority: 1 });
  const lo = fakeProvider("lo");
  const { pool: p } = pool([
    fakeAccount("x", lo),
    fakeAccount("y", hi),
    fakeAccount("z", lo, { enabled: false }),
  ]);
  const exclusions: Parameters<AccountPool["order"]>[2] = [];
  const order = p.order(ALL("hi", "lo"), "m", exclusions);
  assert.deepEqual(order.map((a) => a.name), ["y", "x"]);
  assert.deepEqual(exclusions, [{ account: "z", reason: "disabled" }]);
});

Deno.test("AccountPool.status() reports backoffs, windows against limits and the last error", () => {
  const prov = fakeProvider("p");
  const { pool: p, clock } = pool([fakeAccount("a", prov, { weight: 2 })]);
  p.observe("a", { at: clock.now, tokens: 100, costMicros: 6_000_000 });
  p.recordFailure(
    "a",
    classifyResponse(503, new Headers(), undefined, { now: clock.now, quotaCooldownMs: 1 }),
  );
  const [s] = p.status();
  assert.equal(s.name, "a");
  assert.equal(s.windows["5h"].limitMicros, 24_000_000);
  assert.equal(s.windows["5h"].spendRatio, 0.25);
  assert.equal(s.backoffs[0].reason, "upstream_server_error");
  assert.equal(s.lastError?.statusCode, 503);
  assert.equal(s.circuit.consecutiveFailures, 1);
  assert.equal(p.canServe("p", "m"), false);
});

Deno.test("AccountPool.servedByEvery() lists a model only when every visible account serves it", () => {
  const p1 = fakeProvider("p1");
  const p2 = fakeProvider("p2");
  const serves: Record<string, string[]> = {
    a: ["both", "a-only", "p1-all"],
    b: ["both", "p1-all"],
    off: [],
    c: ["both"],
  };
  const { pool: p } = pool([
    fakeAccount("a", p1),
    fakeAccount("b", p1),
    fakeAccount("off", p1, { enabled: false }),
    fakeAccount("c", p2),
  ], { supports: (acct, model) => serves[acct.name].includes(model) });
  // Per provider: the disabled account is not visible, so it does not count against a model.
  assert.equal(p.servedByEvery("p1", "both"), true);
  assert.equal(p.servedByEvery("p1", "p1-all"), true);
  assert.equal(p.servedByEvery("p1", "a-only"), false);
  assert.equal(p.canServe("p1", "a-only"), true, "the union still shows it");
  // The whole pool (collapsed lists): p2's account lacks p1-all.
  assert.equal(p.servedByEvery(undefined, "both"), true);
  assert.equal(p.servedByEvery(undefined, "p1-all"), false);
  // No visible account at all: nothing to list.
  assert.equal(p.servedByEvery("nobody", "both"), false);
});
