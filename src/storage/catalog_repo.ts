/**
 * SQL for the persisted catalog (spec 03 §1.4): `models`, `provider_models`,
 * `account_models`, `catalog_state` and `provider_pings`. Writes are
 * diff-only where the schema allows, so a steady catalog costs the SD card
 * almost nothing between refreshes.
 */
import type { Db } from "./db.ts";
import type { ListedModel } from "../catalog/build.ts";
import type {
  AccountRefreshRecord,
  CatalogStore,
  PersistedAccount,
  PersistedCatalog,
  PingRecord,
  ProviderRefreshRecord,
} from "../catalog/store.ts";

/** `last_seen_at` is only refreshed when older than this, to avoid a write per refresh. */
const SEEN_GRANULARITY_MS = 3_600_000;

const UPSERT_MODEL = `INSERT INTO models (id, display_name, first_seen_at, last_seen_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET display_name = coalesce(excluded.display_name, display_name),
  last_seen_at = excluded.last_seen_at
WHERE last_seen_at < excluded.last_seen_at - ${SEEN_GRANULARITY_MS}
   OR display_name IS NOT coalesce(excluded.display_name, display_name)`;

const UPSERT_PROVIDER_MODEL = `INSERT INTO provider_models (
  provider_id, model_id, display_name, protocol, protocol_source, source, max_context_tokens,
  max_output_tokens, metadata_json, first_seen_at, last_seen_at
) VALUES (?, ?, ?, ?, ?, 'upstream', ?, ?, ?, ?, ?)
ON CONFLICT (provider_id, model_id) DO UPDATE SET
  display_name = excluded.display_name, protocol = excluded.protocol,
  protocol_source = excluded.protocol_source, source = 'upstream',
  max_context_tokens = excluded.max_context_tokens, max_output_tokens = excluded.max_output_tokens,
  metadata_json = excluded.metadata_json, last_seen_at = excluded.last_seen_at
WHERE display_name IS NOT excluded.display_name OR protocol IS NOT excluded.protocol
   OR source <> 'upstream'
   OR max_context_tokens IS NOT excluded.max_context_tokens
   OR max_output_tokens IS NOT excluded.max_output_tokens
   OR metadata_json <> excluded.metadata_json
   OR last_seen_at < excluded.last_seen_at - ${SEEN_GRANULARITY_MS}`;

const UPSERT_ACCOUNT_MODEL =
  `INSERT INTO account_models (account_id, model_id, first_seen_at, last_seen_at, missed_refreshes)
VALUES (?, ?, ?, ?, 0)
ON CONFLICT (account_id, model_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,
  missed_refreshes = 0
WHERE last_seen_at < excluded.last_seen_at - ${SEEN_GRANULARITY_MS}`;

const UPSERT_STATE = `INSERT INTO catalog_state (
  account_id, provider_id, last_attempt_at, last_success_at, last_outcome, last_error,
  model_count, consecutive_failures, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET provider_id = excluded.provider_id,
  last_attempt_at = excluded.last_attempt_at, last_success_at = excluded.last_success_at,
  last_outcome = excluded.last_outcome, last_error = excluded.last_error,
  model_count = excluded.model_count, consecutive_failures = excluded.consecutive_failures,
  updated_at = excluded.updated_at`;

const INSERT_PING = `INSERT INTO provider_pings (
  provider_id, account_id, probed_at, latency_ms, status_code, error, model_count
) VALUES (?, (SELECT id FROM accounts WHERE name = ?), ?, ?, ?, ?, ?)`;

/** Longest error text kept in a row. */
const MAX_ERROR_CHARS = 300;

function accountId(db: Db, name: string): number | undefined {
  const row = db.stmt("SELECT id FROM accounts WHERE name = ?").get(name);
  return row === undefined ? undefined : Number(row.id);
}

function saveModels(db: Db, r: ProviderRefreshRecord): void {
  // Never wipe a provider's saved list: an empty union means nothing good is known yet.
  if (r.listed.length === 0) return;
  const protocols = new Map(r.entries.map((e) => [e.modelId, e]));
  const model = db.stmt(UPSERT_MODEL);
  const providerModel = db.stmt(UPSERT_PROVIDER_MODEL);
  for (const m of r.listed) {
    model.run(m.id, m.displayName ?? null, r.at, r.at);
    const entry = protocols.get(m.id);
    // Limits are stored as listed, so a restart re-applies the config's current overrides.
    providerModel.run(
      r.providerId,
      m.id,
      m.displayName ?? null,
      entry?.protocol ?? null,
      entry === undefined ? null : entry.source === "static" ? "static_config" : "list_shape",
      m.maxContextTokens ?? null,
      m.maxOutputTokens ?? null,
      JSON.stringify({ list_shape: m.shape }),
      r.at,
      r.at,
    );
  }
  db.stmt(
    `DELETE FROM provider_models WHERE provider_id = ? AND source = 'upstream'
       AND model_id NOT IN (SELECT value FROM json_each(?))`,
  ).run(r.providerId, JSON.stringify(r.listed.map((m) => m.id)));
}

function saveAccount(db: Db, a: AccountRefreshRecord, at: number): void {
  const id = accountId(db, a.accountName);
  if (id === undefined) return;
  if (a.outcome === "success_authoritative") {
    const upsert = db.stmt(UPSERT_ACCOUNT_MODEL);
    for (const m of a.models) upsert.run(id, m, at, at);
    db.stmt(
      `DELETE FROM account_models WHERE account_id = ?
         AND model_id NOT IN (SELECT value FROM json_each(?))`,
    ).run(id, JSON.stringify(a.models));
  }
  db.stmt(UPSERT_STATE).run(
    id,
    a.providerId,
    a.attemptedAt,
    a.lastSuccessAt ?? null,
    a.outcome,
    a.error?.slice(0, MAX_ERROR_CHARS) ?? null,
    a.modelCount,
    a.consecutiveFailures,
    at,
  );
}

function savePing(db: Db, p: PingRecord): void {
  db.stmt(INSERT_PING).run(
    p.providerId,
    p.accountName,
    p.probedAt,
    p.latencyMs ?? null,
    p.statusCode ?? null,
    p.error?.slice(0, MAX_ERROR_CHARS) ?? null,
    p.modelCount ?? null,
  );
}

function loadCatalog(db: Db): PersistedCatalog {
  const providers = new Map<string, ListedModel[]>();
  const rows = db.stmt(
    `SELECT pm.provider_id, pm.model_id, pm.display_name, pm.protocol, pm.max_context_tokens,
       pm.max_output_tokens, pm.metadata_json
     FROM provider_models pm JOIN providers p ON p.id = pm.provider_id
     WHERE pm.source = 'upstream' AND p.enabled = 1
     ORDER BY pm.provider_id, pm.model_id`,
  ).all();
  for (const r of rows) {
    const meta = JSON.parse(String(r.metadata_json)) as { list_shape?: unknown };
    const shape = meta.list_shape === "anthropic" || meta.list_shape === "openai"
      ? meta.list_shape
      : r.protocol === "anthropic"
      ? "anthropic"
      : "openai";
    const list = providers.get(String(r.provider_id)) ?? [];
    list.push({
      id: String(r.model_id),
      shape,
      displayName: r.display_name === null ? undefined : String(r.display_name),
      maxContextTokens: r.max_context_tokens === null ? undefined : Number(r.max_context_tokens),
      maxOutputTokens: r.max_output_tokens === null ? undefined : Number(r.max_output_tokens),
    });
    providers.set(String(r.provider_id), list);
  }
  const accounts = new Map<string, PersistedAccount>();
  const states = db.stmt(
    `SELECT a.name, a.provider_id, s.last_success_at, s.last_attempt_at, s.last_error,
       s.consecutive_failures,
       (SELECT json_group_array(m.model_id) FROM account_models m WHERE m.account_id = a.id) AS models
     FROM accounts a JOIN catalog_state s ON s.account_id = a.id
     WHERE a.enabled = 1`,
  ).all();
  for (const s of states) {
    accounts.set(String(s.name), {
      providerId: String(s.provider_id),
      models: JSON.parse(String(s.models)) as string[],
      lastSuccessAt: s.last_success_at === null ? undefined : Number(s.last_success_at),
      lastAttemptAt: s.last_attempt_at === null ? undefined : Number(s.last_attempt_at),
      lastError: s.last_error === null ? undefined : String(s.last_error),
      consecutiveFailures: Number(s.consecutive_failures),
    });
  }
  return { providers, accounts };
}

/** The {@linkcode CatalogStore} backed by SQLite. Run after the accounts were synced. */
export function createCatalogStore(db: Db): CatalogStore {
  return {
    load: () => loadCatalog(db),
    save(record: ProviderRefreshRecord): void {
      db.transaction(() => {
        saveModels(db, record);
        for (const a of record.accounts) saveAccount(db, a, record.at);
        for (const p of record.pings) savePing(db, p);
      });
    },
  };
}
