/**
 * Reads per-account usage back from `usage_rollups` so the quota windows can
 * be rebuilt at startup (spec 03 §5: a restart does not forget spend).
 */
import type { Db } from "./db.ts";

/** One account's usage in one rollup bucket. */
export interface WindowUsageRow {
  accountName: string;
  /** Bucket start (ms); the windows count the row at this instant. */
  at: number;
  requests: number;
  /** Input + output + cache read + cache write. */
  tokens: number;
  costMicros: number;
}

/**
 * Usage per (account, bucket) since `sinceMs`, oldest first. Sums use
 * `total()`, which adds in floating point: counters a buggy upstream pushed
 * near 2^53 before issue #12 can no longer make this throw and stop startup. Each finalized
 * request is in exactly one rollup row (one bucket width), so rows of
 * different widths add up without double counting.
 */
export function loadWindowUsage(db: Db, sinceMs: number): WindowUsageRow[] {
  const rows = db.stmt(
    `SELECT a.name AS account_name, r.bucket_start AS at,
       total(r.request_count) AS requests,
       total(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens) AS tokens,
       total(r.cost_microdollars) AS cost
     FROM usage_rollups r JOIN accounts a ON a.id = r.account_id
     WHERE r.bucket_start >= ? AND r.account_id <> 0 AND r.status <> 'pending'
     GROUP BY a.name, r.bucket_start
     ORDER BY r.bucket_start`,
  ).all(sinceMs);
  return rows.map((r) => ({
    accountName: String(r.account_name),
    at: Number(r.at),
    requests: Number(r.requests),
    tokens: Number(r.tokens),
    costMicros: Number(r.cost),
  }));
}
