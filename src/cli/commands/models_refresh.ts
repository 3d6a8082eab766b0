import { Command } from "commander";
import { assertCredentials, loadConfig } from "../../config/load.ts";
import type { LoadedConfig } from "../../config/load.ts";
import { CliError } from "../../core/errors.ts";
import { buildAccounts, configRows } from "../../proxy/runtime_accounts.ts";
import { ModelCatalog } from "../../catalog/catalog.ts";
import { CatalogRefresher } from "../../catalog/refresher.ts";
import type { RefreshSummary } from "../../catalog/refresher.ts";
import { fetchModelList } from "../../proxy/models_fetch.ts";
import { syncConfigRows } from "../../storage/accounts_repo.ts";
import { createCatalogStore } from "../../storage/catalog_repo.ts";
import type { CliContext } from "../context.ts";
import { openMigratedDatabase } from "../_store.ts";

/** Runs one full catalog refresh against the configured database; the testable core. */
export async function refreshCatalog(loaded: LoadedConfig): Promise<RefreshSummary> {
  const c = loaded.config;
  const accounts = buildAccounts(loaded);
  const { db } = openMigratedDatabase(c);
  try {
    const rows = configRows(loaded, accounts);
    syncConfigRows(db, rows.providers, rows.accounts, Date.now());
    const catalog = new ModelCatalog(Object.keys(c.providers));
    const store = createCatalogStore(db);
    const refresher = new CatalogRefresher({
      config: c,
      catalog,
      accounts,
      fetchList: fetchModelList,
      store,
      clock: Date.now,
    });
    refresher.seedStatic();
    refresher.restore(store.load());
    return await refresher.refreshAll();
  } finally {
    for (const a of accounts) a.client?.close();
    db.close();
  }
}

function describe(p: RefreshSummary["providers"][number]): string {
  const models = `${p.models} model${p.models === 1 ? "" : "s"}`;
  switch (p.outcome) {
    case "ok":
      return `  ${p.providerId}: ${models}`;
    case "skipped":
      return `  ${p.providerId}: ${models} (static; no live list fetched)`;
    default:
      return `  ${p.providerId}: ${models} (${p.outcome}: ${p.errors.join("; ")})`;
  }
}

/** `eggpool models`: the model catalog. */
export function modelsCommand(ctx: CliContext): Command {
  const models = new Command("models").description("model catalog");
  models.command("refresh")
    .description("fetch every provider's model list now and store it in the database")
    .action(async () => {
      const loaded = await loadConfig(ctx.configPath().path);
      assertCredentials(loaded);
      const summary = await refreshCatalog(loaded);
      for (const p of summary.providers) ctx.io.out(`${describe(p)}\n`);
      ctx.io.out(`Refreshed catalog: ${summary.totalModels} models found\n`);
      const fetched = summary.providers.filter((p) => p.outcome !== "skipped");
      if (fetched.length > 0 && fetched.every((p) => p.outcome === "failed")) {
        throw new CliError("Cannot refresh the catalog: every provider's models endpoint failed");
      }
    });
  return models;
}
