import { Command } from "commander";
import { assertCredentials, loadConfig } from "../../config/load.ts";
import type { LoadedConfig } from "../../config/load.ts";
import {
  resolveAccountKey,
  resolveAccountProxyUrl,
  resolveProviderHeaders,
} from "../../config/credentials.ts";
import { CliError } from "../../core/errors.ts";
import type { AccountRuntime, ProviderRuntime } from "../../accounts/account.ts";
import { credentialFingerprint } from "../../accounts/fingerprint.ts";
import { ModelCatalog } from "../../catalog/catalog.ts";
import { CatalogRefresher } from "../../catalog/refresher.ts";
import type { RefreshSummary } from "../../catalog/refresher.ts";
import { fetchModelList } from "../../proxy/models_fetch.ts";
import { syncConfigRows } from "../../storage/accounts_repo.ts";
import { createCatalogStore } from "../../storage/catalog_repo.ts";
import type { CliContext } from "../context.ts";
import { openMigratedDatabase } from "../_store.ts";

/**
 * The accounts as the refresher needs them. Mirrors the runtime the server
 * builds, minus request timeouts the models call does not use.
 */
function runtimeAccounts(loaded: LoadedConfig): AccountRuntime[] {
  const out: AccountRuntime[] = [];
  for (const p of Object.values(loaded.config.providers)) {
    const provider: ProviderRuntime = {
      id: p.id,
      baseUrl: p.base_url,
      protocols: p.protocols,
      paths: { openai: p.openai_path, anthropic: p.anthropic_path },
      modelPaths: new Map(),
      auth: p.auth,
      headers: resolveProviderHeaders(loaded, p.id).map((h) => [h.name, h.value] as const),
      priority: p.routing_priority,
      headersTimeoutMs: p.read_timeout_s * 1000,
      idleTimeoutMs: p.read_timeout_s * 1000,
    };
    for (const a of p.accounts) {
      const proxyUrl = resolveAccountProxyUrl(loaded, p.id, a.name);
      out.push({
        name: a.name,
        provider,
        enabled: a.enabled,
        weight: a.weight,
        key: resolveAccountKey(loaded, p.id, a.name),
        client: proxyUrl ? Deno.createHttpClient({ proxy: { url: proxyUrl } }) : undefined,
      });
    }
  }
  return out;
}

/** Runs one full catalog refresh against the configured database; the testable core. */
export async function refreshCatalog(loaded: LoadedConfig): Promise<RefreshSummary> {
  const c = loaded.config;
  const accounts = runtimeAccounts(loaded);
  const { db } = openMigratedDatabase(c);
  try {
    syncConfigRows(
      db,
      Object.values(c.providers).map((p) => ({
        id: p.id,
        baseUrl: p.base_url,
        protocols: p.protocols,
      })),
      accounts.map((a) => ({
        name: a.name,
        providerId: a.provider.id,
        apiKeyEnv: c.providers[a.provider.id].accounts.find((x) => x.name === a.name)!.api_key_env,
        enabled: a.enabled,
        weight: a.weight,
        credentialFingerprint: credentialFingerprint(a.key),
      })),
      Date.now(),
    );
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
