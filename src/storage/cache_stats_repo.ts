/**
 * The prompt-cache view: input served from cache, per account and per model,
 * taken from the same rollup sums the dashboard reads (`dashboard_repo.ts`).
 */
import type { Db } from "./db.ts";
import { accountUsage, modelUsage } from "./dashboard_repo.ts";
import type { UsageTotals } from "./dashboard_repo.ts";

/** Token sums of one account or model over a period. */
export interface CacheShareRow {
  key: string;
  requests: number;
  freshInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

function row(key: string, u: UsageTotals): CacheShareRow {
  return {
    key,
    requests: u.requests,
    freshInputTokens: u.freshInputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWriteTokens,
  };
}

/**
 * Input tokens by kind from `usage_rollups` for the buckets that overlap the
 * period from `since` (ms), grouped by account name or by model id.
 */
export function cacheShares(db: Db, since: number, by: "account" | "model"): CacheShareRow[] {
  return by === "account"
    ? accountUsage(db, since).map((u) => row(u.account, u))
    : modelUsage(db, since).map((u) => row(u.modelId, u));
}
