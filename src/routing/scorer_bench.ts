/**
 * Cost of one routing decision: 100 accounts across 10 providers, 50 models
 * (target: under 50 µs at p99). Run with `deno bench src/routing/scorer_bench.ts`.
 */
import { buildBenchPool, measureDecisionCost } from "../accounts/_bench_fixture.ts";

const bench = buildBenchPool();
let turn = 0;

Deno.bench("decide() across 50 models (≈65 candidate accounts each)", () => {
  bench.pool.decide(bench.requests[turn++ % bench.requests.length]);
});

Deno.bench("decide() for a model every provider serves (100 candidates)", () => {
  bench.pool.decide(bench.widest);
});

Deno.bench("order() legacy contract across 50 models", () => {
  const r = bench.requests[turn++ % bench.requests.length];
  bench.pool.order(r.providerIds, r.modelId);
});

Deno.bench({
  name: "single-decision percentiles (prints p50/p99 per decision)",
  n: 1,
  warmup: 0,
  fn() {
    const all = measureDecisionCost(20_000);
    const widest = measureDecisionCost(20_000, buildBenchPool().widest);
    console.log(
      `routing decision: p50 ${all.p50Us.toFixed(1)} µs, p99 ${all.p99Us.toFixed(1)} µs ` +
        `(widest: p50 ${widest.p50Us.toFixed(1)} µs, p99 ${widest.p99Us.toFixed(1)} µs)`,
    );
  },
});
