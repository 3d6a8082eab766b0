/**
 * The catalog against a real models endpoint on loopback and a real SQLite
 * file: refresh, persistence, a failed refresh keeping the last good list,
 * and a restart with the network down still serving the saved catalog.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import { createCatalogStore } from "../src/storage/catalog_repo.ts";
import { resolveConfig } from "../src/config/schema.ts";
import type { ResolvedConfig } from "../src/config/schema.ts";
import { ModelCatalog } from "../src/catalog/catalog.ts";
import { CatalogRefresher } from "../src/catalog/refresher.ts";
import { listModels } from "../src/catalog/listing.ts";
import { fetchModelList } from "../src/proxy/models_fetch.ts";
import { fakeAccount, fakeProvider } from "../src/accounts/_fixtures.ts";

function config(url: string): ResolvedConfig {
  const r = resolveConfig({
    model_overrides: { "mock-large": { max_context_tokens: 32_000 } },
    providers: {
      mock: {
        id: "mock",
        base_url: url,
        static_models: [{ id: "pinned-model" }],
        accounts: [{ name: "m1", api_key: "k1" }, { name: "m2", api_key: "k2" }],
      },
    },
  }, { defaultDatabasePath: ":memory:" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function openDb(path: string): Db {
  const db = openDatabase({ path });
  migrate(db, MIGRATIONS);
  syncConfigRows(
    db,
    [{ id: "mock", baseUrl: "http://127.0.0.1/v1", protocols: ["openai"] }],
    ["m1", "m2"].map((name) => ({
      name,
      providerId: "mock",
      apiKeyEnv: "",
      enabled: true,
      weight: 1,
    })),
    Date.now(),
  );
  return db;
}

function refresher(url: string, db: Db, catalog: ModelCatalog): CatalogRefresher {
  const provider = fakeProvider("mock", { baseUrl: url });
  return new CatalogRefresher({
    config: config(url),
    catalog,
    accounts: [
      fakeAccount("m1", provider, { key: "k1" }),
      fakeAccount("m2", provider, { key: "k2" }),
    ],
    fetchList: fetchModelList,
    store: createCatalogStore(db),
    clock: Date.now,
  });
}

const ids = (c: ModelCatalog) => c.all().map((e) => e.modelId).sort();

Deno.test("catalog refresh fetches every account, persists, and keeps the last good list on failure", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({
    keys: ["k1", "k2"],
    models: ["mock-small", "mock-large"],
  });
  using db = openDb(`${tmp.path}/usage.sqlite3`);
  const catalog = new ModelCatalog(["mock"]);
  const r = refresher(mock.url, db, catalog);
  const { stale, summary } = await r.startup();
  assert.deepEqual(stale, []);
  assert.equal(summary?.providers[0].outcome, "ok");
  assert.deepEqual(ids(catalog), ["mock-large", "mock-small", "pinned-model"]);
  assert.equal(mock.requests.filter((q) => q.route === "models").length, 2);
  assert.deepEqual(
    mock.requests.map((q) => q.key).sort(),
    ["k1", "k2"],
    "each account lists with its own key",
  );
  const saved = db.stmt(
    "SELECT model_id, protocol, source FROM provider_models ORDER BY model_id",
  ).all();
  assert.deepEqual(saved.map((s) => [s.model_id, s.protocol, s.source]), [
    ["mock-large", "openai", "upstream"],
    ["mock-small", "openai", "upstream"],
  ]);
  assert.equal(db.stmt("SELECT count(*) AS n FROM account_models").get()?.n, 4);
  assert.equal(db.stmt("SELECT count(*) AS n FROM provider_pings").get()?.n, 2);

  // The endpoint starts failing: the catalog keeps its last good list.
  mock.script.set("*", { status: 500, match: (q) => q.route === "models" });
  const failed = await r.refreshAll();
  assert.equal(failed.providers[0].outcome, "failed");
  assert.deepEqual(ids(catalog), ["mock-large", "mock-small", "pinned-model"]);
  const states = db.stmt(
    "SELECT last_outcome, consecutive_failures FROM catalog_state ORDER BY account_id",
  ).all();
  assert.deepEqual(states.map((s) => [s.last_outcome, s.consecutive_failures]), [
    ["failed", 1],
    ["failed", 1],
  ]);
  const pings = db.stmt("SELECT status_code FROM provider_pings ORDER BY id").all();
  assert.deepEqual(pings.map((p) => p.status_code), [200, 200, 500, 500]);
  await r.stop();
});

Deno.test("a restart with the network down serves the persisted catalog", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  let url: string;
  {
    await using mock = await startMockUpstream({
      keys: ["k1", "k2"],
      models: ["mock-small", "mock-large"],
    });
    url = mock.url;
    using db = openDb(path);
    await refresher(url, db, new ModelCatalog(["mock"])).startup();
  }
  // The mock is gone: connections to its port are refused.
  using db = openDb(path);
  const catalog = new ModelCatalog(["mock"]);
  const { stale, summary } = await refresher(url, db, catalog).startup();
  assert.equal(summary?.providers[0].outcome, "failed");
  assert.deepEqual(stale, [], "the saved list is younger than stale_after_s");
  assert.deepEqual(ids(catalog), ["mock-large", "mock-small", "pinned-model"]);
  // Overrides from the current config still apply to restored models.
  assert.equal(catalog.entries({ modelId: "mock-large" })[0].maxContextTokens, 32_000);
  const listed = listModels(catalog, { collapse: false });
  assert.deepEqual(listed.data.map((m) => m.id), [
    "mock-large/mock",
    "mock-small/mock",
    "pinned-model/mock",
  ]);
  assert.deepEqual(listed.data[0].eggpool?.limits, { context: 32_000 });
  assert.equal(
    catalog.supports({ name: "m1", provider: { id: "mock" } }, "mock-small", Date.now()),
    true,
  );
});
