/** SQL for the prompt-cache view: input served from cache, per account and per model. */
import type { Db } from "./db.ts";

/** Token sums of one account or model over a period. */
export interface CacheShareRow {
  key: string;
  requests: number;
  freshInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/**
 * Sums input tokens by kind from `usage_rollups` for requests started at or
 * after `since` (ms), grouped by account name or by model id.
 */
export function cacheShares(db: Db, since: number, by: "account" | "model"): CacheShareRow[] {
  const sql = by === "account"
    ? `SELECT a.name AS key, sum(r.request_count) AS requests, sum(r.input_tokens) AS fresh,
         sum(r.cache_read_tokens) AS cache_read, sum(r.cache_write_tokens) AS cache_write
       FROM usage_rollups r JOIN accounts a ON a.id = r.account_id
       WHERE r.bucket_start >= ? GROUP BY a.name ORDER BY a.name`
    : `SELECT r.model_id AS key, sum(r.request_count) AS requests, sum(r.input_tokens) AS fresh,
         sum(r.cache_read_tokens) AS cache_read, sum(r.cache_write_tokens) AS cache_write
       FROM usage_rollups r WHERE r.bucket_start >= ? AND r.model_id != ''
       GROUP BY r.model_id ORDER BY r.model_id`;
  return db.stmt(sql).all(since).map((row) => ({
    key: String(row.key),
    requests: Number(row.requests),
    freshInputTokens: Number(row.fresh),
    cacheReadTokens: Number(row.cache_read),
    cacheWriteTokens: Number(row.cache_write),
  }));
}
