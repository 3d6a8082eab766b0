/**
 * The prompt-cache view: input served from cache, per account and per model,
 * over the requests started since a time. Summed from the day rollups
 * (`request_days`, migration 0004) for whole days and from the request rows
 * for the partial first day (`stats/queries/_days.ts`), like the stats API's
 * accounts and models views, so it is exact to the millisecond.
 */
import type { Db } from "./db.ts";
import { DAY_SOURCE, daySourceParams } from "../stats/queries/_days.ts";

/** Token sums of one account or model over a period. */
export interface CacheShareRow {
  key: string;
  requests: number;
  freshInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

const SUMS = `total(s.n) AS requests, total(s.input) AS fresh,
  total(s.cache_read) AS cache_read, total(s.cache_write) AS cache_write`;

const BY_ACCOUNT = `SELECT a.name AS key, t.requests, t.fresh, t.cache_read, t.cache_write
  FROM (SELECT s.account_id AS aid, ${SUMS} FROM (${DAY_SOURCE}) s
    WHERE s.account_id IS NOT NULL GROUP BY s.account_id) t
  JOIN accounts a ON a.id = t.aid ORDER BY a.name`;

// Only routed requests: a model no provider serves (an unknown name) is nobody's usage.
const BY_MODEL = `SELECT s.model_id AS key, ${SUMS} FROM (${DAY_SOURCE}) s
  WHERE s.model_id IS NOT NULL AND s.provider_id IS NOT NULL
  GROUP BY s.model_id ORDER BY s.model_id`;

/**
 * Input tokens by kind of the requests started at or after `since` (ms),
 * grouped by account name or by model id.
 */
export function cacheShares(db: Db, since: number, by: "account" | "model"): CacheShareRow[] {
  const params = daySourceParams({ label: "since", start: since, end: Number.MAX_SAFE_INTEGER });
  return db.stmt(by === "account" ? BY_ACCOUNT : BY_MODEL).all(...params).map((row) => ({
    key: String(row.key),
    requests: Number(row.requests),
    freshInputTokens: Number(row.fresh),
    cacheReadTokens: Number(row.cache_read),
    cacheWriteTokens: Number(row.cache_write),
  }));
}
