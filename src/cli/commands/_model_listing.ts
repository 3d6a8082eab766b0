/**
 * EggPool's model list for `configsetup`: from the running server's
 * `/v1/models` when it answers (what clients will see), else from the catalog
 * persisted in the database plus the config's static models.
 */
import type { LoadedConfig } from "../../config/load.ts";
import { ModelCatalog } from "../../catalog/catalog.ts";
import { CatalogRefresher } from "../../catalog/refresher.ts";
import { listModels, type ModelListItem } from "../../catalog/listing.ts";
import { buildAccounts } from "../../proxy/runtime_accounts.ts";
import { fetchModelList } from "../../proxy/models_fetch.ts";
import { createCatalogStore } from "../../storage/catalog_repo.ts";
import type { CatalogStore } from "../../catalog/store.ts";
import { isFile } from "../../ops/env.ts";
import { openMigratedDatabase } from "../_store.ts";
import { serverOrigin } from "./accounts.ts";
import { CapabilityBook } from "../../routing/capabilities.ts";

/** How long to wait for a running server's model list. */
const LIST_TIMEOUT_MS = 3_000;

/** The models and where they came from. */
export interface EggpoolModels {
  source: "server" | "catalog";
  items: ModelListItem[];
}

/** The models clients of this EggPool can use. */
export async function eggpoolModels(
  loaded: LoadedConfig,
  key: string | undefined,
): Promise<EggpoolModels> {
  try {
    const res = await fetch(`${serverOrigin(loaded)}/v1/models`, {
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
    });
    if (res.ok) {
      const body = await res.json() as { data?: ModelListItem[] };
      return { source: "server", items: body.data ?? [] };
    }
    await res.body?.cancel();
  } catch {
    // Not running: read the stored catalog.
  }
  return { source: "catalog", items: storedModels(loaded) };
}

function storedModels(loaded: LoadedConfig): ModelListItem[] {
  const c = loaded.config;
  const catalog = new ModelCatalog(Object.keys(c.providers));
  const accounts = buildAccounts(loaded);
  const hasDb = isFile(c.database.path);
  const db = hasDb ? openMigratedDatabase(c).db : undefined;
  try {
    const refresher = new CatalogRefresher({
      config: c,
      catalog,
      accounts,
      fetchList: fetchModelList,
      store: db === undefined ? emptyStore() : createCatalogStore(db),
      clock: Date.now,
    });
    refresher.seedStatic();
    if (db !== undefined) refresher.restore(createCatalogStore(db).load());
  } finally {
    for (const a of accounts) a.client?.close();
    db?.close();
  }
  const priorities = Object.fromEntries(
    Object.values(c.providers).map((p) => [p.id, p.routing_priority]),
  );
  const book = new CapabilityBook(c.model_capabilities, c.providers);
  return listModels(catalog, {
    collapse: c.models.collapse_models,
    priorities,
    capabilities: (p, m) => book.get(p, m),
  }).data;
}

/** No database yet: nothing stored, and nothing is written from here. */
function emptyStore(): CatalogStore {
  return { load: () => ({ providers: new Map(), accounts: new Map() }), save: () => {} };
}

/** The providers behind a listed model. */
export function providersOf(item: ModelListItem): string[] {
  return item.eggpool?.providers ?? (item.eggpool?.provider_id ? [item.eggpool.provider_id] : []);
}
