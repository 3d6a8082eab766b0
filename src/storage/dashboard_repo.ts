/**
 * SQL for the dashboard's Accounts page: per-account and per-model usage over
 * a period, summed from `usage_rollups` (one row per bucket and outcome, so a
 * 30-day page reads buckets, not requests).
 */
import type { Db } from "./db.ts";

/** Usage of one account or model over a period; tokens by kind, times in ms. */
export interface UsageTotals {
  requests: number;
  /** Requests that ended in `error` or `interrupted` (not client errors or cancellations). */
  errors: number;
  freshInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costMicros: number;
  latencyMsSum: number;
  latencyCount: number;
}

/** One account's usage, keyed by its name as stored in `accounts`. */
export interface AccountUsage extends UsageTotals {
  account: string;
  providerId: string;
}

/** One model's usage (the upstream model id actually routed to). */
export interface ModelUsage extends UsageTotals {
  modelId: string;
}

const SUMS = `sum(r.request_count) AS requests,
  sum(CASE WHEN r.status IN ('error', 'interrupted') THEN r.request_count ELSE 0 END) AS errors,
  sum(r.input_tokens) AS fresh, sum(r.cache_read_tokens) AS cache_read,
  sum(r.cache_write_tokens) AS cache_write, sum(r.output_tokens) AS output,
  sum(r.reasoning_tokens) AS reasoning, sum(r.cost_microdollars) AS cost,
  sum(r.latency_ms_sum) AS latency_sum, sum(r.latency_count) AS latency_count`;

/**
 * A bucket belongs to the period when it overlaps it: a request started after
 * `since` is never left out, at the price of up to one bucket of earlier ones.
 */
const IN_PERIOD = "r.bucket_start + r.bucket_ms > ?";

const ACCOUNT_USAGE = `SELECT a.name AS account, a.provider_id AS provider, ${SUMS}
  FROM usage_rollups r JOIN accounts a ON a.id = r.account_id
  WHERE ${IN_PERIOD} GROUP BY a.id ORDER BY a.name`;

const MODEL_USAGE = `SELECT r.model_id AS model, ${SUMS}
  FROM usage_rollups r WHERE ${IN_PERIOD} AND r.model_id != ''
  GROUP BY r.model_id ORDER BY r.model_id`;

function totals(row: Record<string, unknown>): UsageTotals {
  return {
    requests: Number(row.requests),
    errors: Number(row.errors),
    freshInputTokens: Number(row.fresh),
    cacheReadTokens: Number(row.cache_read),
    cacheWriteTokens: Number(row.cache_write),
    outputTokens: Number(row.output),
    reasoningTokens: Number(row.reasoning),
    costMicros: Number(row.cost),
    latencyMsSum: Number(row.latency_sum),
    latencyCount: Number(row.latency_count),
  };
}

/** Per-account usage of requests started since `since` (ms), by account name. */
export function accountUsage(db: Db, since: number): AccountUsage[] {
  return db.stmt(ACCOUNT_USAGE).all(since).map((row) => ({
    account: String(row.account),
    providerId: String(row.provider),
    ...totals(row),
  }));
}

/** Per-model usage of requests started since `since` (ms), by model id. */
export function modelUsage(db: Db, since: number): ModelUsage[] {
  return db.stmt(MODEL_USAGE).all(since).map((row) => ({
    modelId: String(row.model),
    ...totals(row),
  }));
}
