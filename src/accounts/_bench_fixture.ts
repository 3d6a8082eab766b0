/**
 * A realistic large pool for measuring the cost of one routing decision:
 * 100 accounts across 10 providers (two priority tiers), 50 models, usage
 * history in every window, some backoffs and requests in flight. Shared by
 * `routing/scorer_bench.ts` and the `deno task bench` report.
 *
 * @module
 */
import { AccountPool } from "./pool.ts";
import type { RouteRequest } from "./decision.ts";
import { fakeAccount, fakeClock, fakeProvider, seededRandom } from "./_fixtures.ts";
import { classifyResponse, classifyTransport } from "../routing/classify.ts";
import { ModelCatalog } from "../catalog/catalog.ts";

/** Sizes from the benchmark definition. */
export const BENCH_PROVIDERS = 10;
export const BENCH_ACCOUNTS_PER_PROVIDER = 10;
export const BENCH_MODELS = 50;

/** The pool and the requests to route through it. */
export interface BenchPool {
  pool: AccountPool;
  /** One request per model; model `k` is served by a different subset of providers. */
  requests: RouteRequest[];
  /** A model every provider serves: all 100 accounts are candidates. */
  widest: RouteRequest;
}

/** Builds the benchmark pool (deterministic). */
export function buildBenchPool(): BenchPool {
  const clock = fakeClock();
  const random = seededRandom(42);
  const providers = Array.from(
    { length: BENCH_PROVIDERS },
    (_, p) => fakeProvider(`prov-${p}`, { priority: p < 3 ? 1 : 0 }),
  );
  const accounts = providers.flatMap((prov) =>
    Array.from(
      { length: BENCH_ACCOUNTS_PER_PROVIDER },
      (_, i) => fakeAccount(`${prov.id}-acct-${i}`, prov, { weight: 1 + (i % 3) }),
    )
  );
  // Every account lists the models its provider serves (the per-account support gate).
  const catalog = new ModelCatalog(providers.map((p) => p.id));
  providers.forEach((prov, p) => {
    const models = Array.from({ length: BENCH_MODELS }, (_, k) => `model-${k}`)
      .filter((_, k) => (k + p) % 3 !== 0)
      .concat("model-everywhere");
    catalog.setProviderModels(
      prov.id,
      models.map((modelId) => ({
        modelId,
        providerId: prov.id,
        protocol: "openai",
        source: "discovered",
      })),
    );
    for (const a of accounts) {
      if (a.provider.id === prov.id) catalog.setAccountSupport(a.name, prov.id, models, clock.now);
    }
  });
  const pool = new AccountPool(accounts, {
    clock,
    random,
    supports: (account, model, now) => catalog.supports(account, model, now),
  });
  // A month of history: a few hundred requests per account spread over 30 days.
  for (const a of accounts) {
    for (let i = 0; i < 300; i++) {
      pool.observe(a.name, {
        at: clock.now - Math.floor(random() * 30 * 86_400_000),
        tokens: 1_000 + Math.floor(random() * 20_000),
        costMicros: Math.floor(random() * 50_000),
      });
    }
  }
  // Some accounts are resting or failing; some have requests in flight.
  accounts.forEach((a, i) => {
    if (i % 17 === 0) {
      pool.recordFailure(
        a.name,
        classifyResponse(429, new Headers({ "retry-after": "600" }), undefined, {
          now: clock.now,
          quotaCooldownMs: 300_000,
        }),
      );
    } else if (i % 23 === 0) pool.recordFailure(a.name, classifyTransport(false));
    if (i % 5 === 0) pool.acquire(a.name, { estTokens: 4_000 });
  });
  const ids = providers.map((p) => p.id);
  const requests: RouteRequest[] = Array.from({ length: BENCH_MODELS }, (_, k) => ({
    modelId: `model-${k}`,
    providerIds: new Set(ids.filter((_, p) => (k + p) % 3 !== 0)),
    protocol: "openai",
    clientProtocol: "openai",
    estTokens: 2_000,
  }));
  const widest: RouteRequest = {
    ...requests[0],
    modelId: "model-everywhere",
    providerIds: new Set(ids),
  };
  return { pool, requests, widest };
}

/** Percentiles of single-decision wall time, in microseconds. */
export interface DecisionCost {
  samples: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/**
 * Times `samples` single decisions over the 50 models (after a warm-up) and
 * reports per-decision percentiles. Uses `performance.now()`, so figures
 * include its own overhead (well under a microsecond).
 */
export function measureDecisionCost(samples = 20_000, request?: RouteRequest): DecisionCost {
  const { pool, requests } = buildBenchPool();
  const pick = (i: number) => request ?? requests[i % requests.length];
  for (let i = 0; i < 2_000; i++) pool.decide(pick(i));
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    pool.decide(pick(i));
    times[i] = (performance.now() - t0) * 1000;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.floor(q * samples))];
  return { samples, p50Us: at(0.5), p99Us: at(0.99), maxUs: times[samples - 1] };
}
