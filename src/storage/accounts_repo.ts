/** SQL for the provider and account rows mirrored from the config. */
import type { Db } from "./db.ts";

/** A provider as the config declares it. */
export interface ProviderRow {
  id: string;
  baseUrl: string;
  protocols: readonly string[];
}

/** An account as the config declares it; the key itself is never stored. */
export interface AccountRow {
  name: string;
  providerId: string;
  apiKeyEnv: string;
  enabled: boolean;
  weight: number;
  /** Short hash of the resolved key, to notice a changed credential. */
  credentialFingerprint?: string;
}

/**
 * Mirrors the config into `providers` and `accounts` (spec 05 §3): upsert by
 * id/name, and disable rows the config no longer has (history keeps them).
 * Returns the account ids by name.
 */
export function syncConfigRows(
  db: Db,
  providers: readonly ProviderRow[],
  accounts: readonly AccountRow[],
  now: number,
): Map<string, number> {
  return db.transaction(() => {
    db.stmt("UPDATE providers SET enabled = 0, updated_at = ? WHERE enabled = 1").run(now);
    const upsertProvider = db.stmt(
      `INSERT INTO providers (id, base_url, protocols_json, enabled, created_at, updated_at)
       VALUES (?, ?, ?, 1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url,
         protocols_json = excluded.protocols_json, enabled = 1, updated_at = excluded.updated_at`,
    );
    for (const p of providers) {
      upsertProvider.run(p.id, p.baseUrl, JSON.stringify(p.protocols), now, now);
    }
    db.stmt("UPDATE accounts SET enabled = 0, updated_at = ? WHERE enabled = 1").run(now);
    const upsertAccount = db.stmt(
      `INSERT INTO accounts (name, provider_id, api_key_env, credential_fingerprint, enabled,
         weight, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET provider_id = excluded.provider_id,
         api_key_env = excluded.api_key_env, credential_fingerprint = excluded.credential_fingerprint,
         enabled = excluded.enabled, weight = excluded.weight, updated_at = excluded.updated_at
       RETURNING id`,
    );
    const ids = new Map<string, number>();
    for (const a of accounts) {
      const row = upsertAccount.get(
        a.name,
        a.providerId,
        a.apiKeyEnv,
        a.credentialFingerprint ?? null,
        a.enabled ? 1 : 0,
        a.weight,
        now,
        now,
      );
      ids.set(a.name, Number(row!.id));
    }
    return ids;
  });
}
