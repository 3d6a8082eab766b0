import assert from "node:assert/strict";
import { CatalogRefresher } from "./refresher.ts";
import type { FetchListPort, FetchListResult } from "./refresher.ts";
import { ModelCatalog } from "./catalog.ts";
import type { CatalogStore, PersistedCatalog, ProviderRefreshRecord } from "./store.ts";
import { mergeListing } from "./_merge.ts";
import type { WithdrawalPolicy } from "./_merge.ts";
import { resolveConfig } from "../config/schema.ts";
import type { ResolvedConfig } from "../config/schema.ts";
import { fakeAccount, fakeClock, fakeProvider } from "../accounts/_fixtures.ts";

function config(models: Record<string, unknown> = {}): ResolvedConfig {
  const r = resolveConfig({
    models,
    providers: {
      p: {
        id: "p",
        base_url: "https://p.example/v1",
        static_models: [{ id: "pinned", max_context_tokens: 1_000 }],
        accounts: [{ name: "p1", api_key_env: "P_KEY" }, { name: "p2", api_key_env: "P_KEY" }],
      },
      q: {
        id: "q",
        base_url: "https://q.example/v1",
        models_endpoint: { method: "DISABLED" },
        accounts: [{ name: "q1", api_key_env: "Q_KEY" }],
      },
    },
  }, { defaultDatabasePath: ":memory:" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const P = fakeProvider("p");
const Q = fakeProvider("q");
const ACCOUNTS = [fakeAccount("p1", P), fakeAccount("p2", P), fakeAccount("q1", Q)];
const [P1, P2] = ACCOUNTS;

/** A scripted models endpoint: per account, the next answers in order (last one repeats). */
function scripted(answers: Record<string, Array<string[] | "fail">>) {
  const calls: string[] = [];
  const fetchList: FetchListPort = (account) => {
    calls.push(account.name);
    const queue = answers[account.name] ?? ["fail"];
    const next = queue.length > 1 ? queue.shift()! : queue[0];
    const result: FetchListResult = next === "fail"
      ? { ok: false, latencyMs: 3, error: "connection refused" }
      : {
        ok: true,
        statusCode: 200,
        latencyMs: 3,
        models: next.map((id) => ({ id, shape: "openai" })),
      };
    return Promise.resolve(result);
  };
  return { fetchList, calls };
}

function memoryStore(initial?: PersistedCatalog) {
  const saved: ProviderRefreshRecord[] = [];
  const store: CatalogStore = {
    load: () => initial ?? { providers: new Map(), accounts: new Map() },
    save: (r) => void saved.push(r),
  };
  return { store, saved };
}

function ids(catalog: ModelCatalog, provider: string): string[] {
  return catalog.providerEntries(provider).map((e) => e.modelId).sort();
}

Deno.test("CatalogRefresher.startup() seeds static models and fetches every usable account", async () => {
  const clock = fakeClock();
  const catalog = new ModelCatalog(["p", "q"]);
  const { fetchList, calls } = scripted({ p1: [["a", "b"]], p2: [["b", "c"]] });
  const { store, saved } = memoryStore();
  const r = new CatalogRefresher({
    config: config(),
    catalog,
    accounts: ACCOUNTS,
    fetchList,
    store,
    clock,
  });
  const { stale, summary } = await r.startup();
  assert.deepEqual(calls.sort(), ["p1", "p2"], "q's endpoint is DISABLED");
  assert.deepEqual(ids(catalog, "p"), ["a", "b", "c", "pinned"]);
  assert.deepEqual(stale, []);
  assert.deepEqual(summary?.providers.map((p) => [p.providerId, p.models, p.outcome]), [
    ["p", 4, "ok"],
    ["q", 0, "skipped"],
  ]);
  // Per-account support: p1 never listed c; static models are everyone's.
  assert.equal(catalog.supports(P1, "c", clock.now), false);
  assert.equal(catalog.supports(P2, "c", clock.now), true);
  assert.equal(catalog.supports(P1, "pinned", clock.now), true);
  assert.equal(saved.length, 1);
  assert.deepEqual(saved[0].accounts.map((a) => [a.accountName, a.outcome, a.models]), [
    ["p1", "success_authoritative", ["a", "b"]],
    ["p2", "success_authoritative", ["b", "c"]],
  ]);
  assert.equal(saved[0].pings.length, 2);
});

Deno.test("CatalogRefresher keeps the last good list when a refresh fails, then reports it stale", async () => {
  const clock = fakeClock();
  const catalog = new ModelCatalog(["p", "q"]);
  const { fetchList } = scripted({ p1: [["a"], "fail"], p2: [["a"], "fail"] });
  const r = new CatalogRefresher({
    config: config({ stale_after_s: 600 }),
    catalog,
    accounts: ACCOUNTS,
    fetchList,
    clock,
  });
  await r.startup();
  clock.advance(300_000);
  const failed = await r.refreshAll();
  assert.equal(failed.providers[0].outcome, "failed");
  assert.deepEqual(failed.providers[0].errors, [
    "p1: connection refused",
    "p2: connection refused",
  ]);
  assert.deepEqual(ids(catalog, "p"), ["a", "pinned"]);
  assert.deepEqual(r.staleProviders(clock.now), []);
  clock.advance(300_001);
  assert.deepEqual(r.staleProviders(clock.now), ["p"]);
  assert.equal(r.accountState("p1")?.consecutiveFailures, 1);
});

Deno.test("CatalogRefresher restores a persisted catalog when the network is down", async () => {
  const clock = fakeClock();
  const catalog = new ModelCatalog(["p", "q"], { freshnessMs: 7_200_000 });
  const { fetchList } = scripted({});
  const { store } = memoryStore({
    providers: new Map([["p", [{ id: "saved", shape: "openai" as const, maxContextTokens: 9 }]]]),
    accounts: new Map([["p1", {
      providerId: "p",
      models: ["saved"],
      lastSuccessAt: clock.now - 60_000,
      consecutiveFailures: 0,
    }]]),
  });
  const r = new CatalogRefresher({
    config: config(),
    catalog,
    accounts: ACCOUNTS,
    fetchList,
    store,
    clock,
  });
  const { stale } = await r.startup();
  assert.deepEqual(ids(catalog, "p"), ["pinned", "saved"]);
  assert.deepEqual(stale, [], "p1's saved success is recent");
  assert.equal(catalog.entries({ modelId: "saved" })[0].maxContextTokens, 9);
  // Freshness gate: p1 is fresh, p2 never refreshed.
  assert.equal(catalog.supports(P1, "saved", clock.now), true);
  assert.equal(catalog.supports(P2, "saved", clock.now), false);
  assert.equal(catalog.supports(P2, "pinned", clock.now), true);
});

Deno.test("CatalogRefresher.refreshAll() shares a refresh already in progress", async () => {
  const clock = fakeClock();
  const { fetchList, calls } = scripted({ p1: [["a"]], p2: [["a"]] });
  const r = new CatalogRefresher({
    config: config(),
    catalog: new ModelCatalog(["p", "q"]),
    accounts: ACCOUNTS,
    fetchList,
    clock,
  });
  const [x, y] = [r.refreshAll(), r.refreshAll()];
  assert.equal(x, y);
  await x;
  assert.equal(calls.length, 2);
});

Deno.test("CatalogRefresher writes steady successful pings at most every 30 minutes", async () => {
  const clock = fakeClock();
  const { fetchList } = scripted({ p1: [["a"], ["a"], "fail", ["a"]], p2: [] });
  const { store, saved } = memoryStore();
  const r = new CatalogRefresher({
    config: config(),
    catalog: new ModelCatalog(["p", "q"]),
    accounts: [ACCOUNTS[0]],
    fetchList,
    store,
    clock,
  });
  for (let i = 0; i < 4; i++) {
    await r.refreshAll();
    clock.advance(60_000);
  }
  assert.deepEqual(saved.map((s) => s.pings.map((p) => p.error ?? "ok")), [
    ["ok"],
    [],
    ["connection refused"],
    ["ok"],
  ]);
});

Deno.test("CatalogRefresher.start() refreshes on its interval until stop()", async () => {
  const clock = fakeClock();
  const { fetchList, calls } = scripted({ p1: [["a"]] });
  const r = new CatalogRefresher({
    config: config(),
    intervalMs: 10,
    catalog: new ModelCatalog(["p", "q"]),
    accounts: [ACCOUNTS[0]],
    fetchList,
    clock,
  });
  r.start();
  r.start();
  await new Promise((resolve) => setTimeout(resolve, 60));
  await r.stop();
  const n = calls.length;
  assert.ok(n >= 2, `refreshed ${n} times`);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(calls.length, n);
});

Deno.test("mergeListing() withdraws omitted models per catalog_withdrawal_policy", () => {
  const m = (id: string) => ({ id, shape: "openai" as const });
  const run = (policy: WithdrawalPolicy) => {
    const missed = new Map<string, number>();
    const once = mergeListing([m("a"), m("b")], [m("a")], { missed, policy });
    const twice = mergeListing(once, [m("a")], { missed, policy });
    return [once.map((x) => x.id), twice.map((x) => x.id)];
  };
  assert.deepEqual(run("preserve_until_health"), [["a", "b"], ["a", "b"]]);
  assert.deepEqual(run("confirmed_once"), [["a"], ["a"]]);
  assert.deepEqual(run("confirmed_twice"), [["a", "b"], ["a"]]);
});
