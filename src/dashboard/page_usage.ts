/**
 * The Overview's and the Accounts page's period usage in one pass over the
 * day rollups (`DAY_SOURCE` of stats/queries/_days.ts: whole UTC days from
 * `request_days`, the partial days at the ends from `requests`), so a 30-day
 * page reads about a thousand rollup rows instead of summing the 5-minute
 * `usage_rollups` three times. Sums are exact to the period's millisecond,
 * like the stats API's, so a page and `/api/stats/*` agree; requests still
 * pending are left out of the counts, as the 5-minute rollups leave them out.
 */
import type { Db } from "../storage/db.ts";
import type { AccountUsage, ModelUsage, UsageTotals } from "../storage/dashboard_repo.ts";
import type { OverviewTotals } from "../storage/dashboard_repo.ts";
import type { RequestOutcomes } from "../storage/overview_repo.ts";
import { DAY_SOURCE, daySourceParams } from "../stats/queries/_days.ts";
import type { StatsPeriod } from "../stats/queries/period.ts";
import { arrays } from "../stats/queries/_sql.ts";

// One row per (account, model, routed) with every sum the two pages show.
const USAGE = `SELECT g.account_id, a.name, a.provider_id, g.model_id, g.routed,
  g.n, g.errors, g.input, g.cache_read, g.cache_write, g.output, g.reasoning, g.cost,
  g.latency_sum, g.latency_n, g.successful, g.client_errors, g.cancelled, g.streamed,
  g.ttft_sum, g.ttft_n, g.pending, g.est_cost, g.bytes_in, g.bytes_out
  FROM (SELECT s.account_id, s.model_id, s.routed, total(s.n) AS n, total(s.errors) AS errors,
    total(s.input) AS input, total(s.cache_read) AS cache_read,
    total(s.cache_write) AS cache_write, total(s.output) AS output,
    total(s.reasoning) AS reasoning, total(s.cost) AS cost, total(s.latency_sum) AS latency_sum,
    total(s.latency_n) AS latency_n, total(s.successful) AS successful,
    total(s.client_errors) AS client_errors, total(s.cancelled) AS cancelled,
    total(s.streamed) AS streamed, total(s.ttft_sum) AS ttft_sum, total(s.ttft_n) AS ttft_n,
    total(s.pending) AS pending, total(s.est_cost) AS est_cost,
    total(s.bytes_in) AS bytes_in, total(s.bytes_out) AS bytes_out
    FROM (${DAY_SOURCE}) s GROUP BY s.account_id, s.model_id, s.routed) g
  LEFT JOIN accounts a ON a.id = g.account_id`;

/** The period's usage as the Overview and Accounts pages show it. */
export interface PeriodUsage {
  totals: OverviewTotals;
  outcomes: RequestOutcomes;
  /** Accounts with requests in the period, by name. */
  accounts: AccountUsage[];
  /** Routed models with requests in the period, by id. */
  models: ModelUsage[];
}

/** Usage totals of nothing yet. */
export function zeroUsage(): UsageTotals {
  return {
    requests: 0,
    errors: 0,
    freshInputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    latencyMsSum: 0,
    latencyCount: 0,
    estimatedCostMicros: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

function add(to: UsageTotals, r: readonly unknown[]): void {
  // Requests still pending are counted apart (the Overview's Pending card), as in the rollups.
  to.requests += Number(r[5]) - Number(r[21]);
  to.errors += Number(r[6]);
  to.freshInputTokens += Number(r[7]);
  to.cacheReadTokens += Number(r[8]);
  to.cacheWriteTokens += Number(r[9]);
  to.outputTokens += Number(r[10]);
  to.reasoningTokens += Number(r[11]);
  to.costMicros += Number(r[12]);
  to.latencyMsSum += Number(r[13]);
  to.latencyCount += Number(r[14]);
  to.estimatedCostMicros = (to.estimatedCostMicros ?? 0) + Number(r[22]);
  to.bytesIn = (to.bytesIn ?? 0) + Number(r[23]);
  to.bytesOut = (to.bytesOut ?? 0) + Number(r[24]);
}

/** Sums the requests started in `p` by account, by routed model and in total. */
export function periodUsage(db: Db, p: StatsPeriod): PeriodUsage {
  const totals: OverviewTotals = {
    ...zeroUsage(),
    completed: 0,
    streamed: 0,
    streamedFirstByteMsSum: 0,
    streamedFirstByteCount: 0,
  };
  const outcomes: RequestOutcomes = {
    completed: 0,
    errors: 0,
    rejected: 0,
    clientErrors: 0,
    cancelled: 0,
  };
  const accounts = new Map<string, AccountUsage>();
  const models = new Map<string, ModelUsage>();
  for (const r of arrays(db, USAGE, daySourceParams(p))) {
    const [accountId, name, providerId, modelId, routed] = r;
    add(totals, r);
    totals.completed += Number(r[15]);
    totals.streamed += Number(r[18]);
    totals.streamedFirstByteMsSum += Number(r[19]);
    totals.streamedFirstByteCount += Number(r[20]);
    outcomes.completed += Number(r[15]);
    outcomes.errors += Number(r[6]);
    // A client error no upstream saw was refused before routing.
    if (Number(routed) === 1) outcomes.clientErrors += Number(r[16]);
    else outcomes.rejected += Number(r[16]);
    outcomes.cancelled += Number(r[17]);
    if (accountId !== null && name !== null) {
      const key = String(name);
      let a = accounts.get(key);
      if (a === undefined) {
        a = { account: key, providerId: String(providerId), ...zeroUsage() };
        accounts.set(key, a);
      }
      add(a, r);
    }
    if (modelId !== null && Number(routed) === 1) {
      const key = String(modelId);
      let m = models.get(key);
      if (m === undefined) {
        m = { modelId: key, ...zeroUsage() };
        models.set(key, m);
      }
      add(m, r);
    }
  }
  const byKey = <T>(map: Map<string, T>) =>
    [...map.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, v]) => v);
  return { totals, outcomes, accounts: byKey(accounts), models: byKey(models) };
}

const DAY_STEPS = `SELECT s.b, total(s.n) - total(s.pending) AS requests, total(s.errors) AS errors
  FROM (${DAY_SOURCE}) s GROUP BY s.b ORDER BY s.b`;

/** Finished requests and errors per UTC day of `p` that has any (the Overview's 30-day chart). */
export function dayRequestCounts(
  db: Db,
  p: StatsPeriod,
): { start: number; requests: number; errors: number }[] {
  return arrays(db, DAY_STEPS, daySourceParams(p)).map(([b, requests, errors]) => ({
    start: Number(b),
    requests: Number(requests),
    errors: Number(errors),
  }));
}

const DAY_TOKENS = `SELECT s.b, total(s.input + s.cache_read + s.cache_write + s.output) AS tokens,
  total(s.n) - total(s.pending) AS requests FROM (${DAY_SOURCE}) s GROUP BY s.b ORDER BY s.b`;

/**
 * Tokens (fresh input, cache read and write, output) and finished requests per UTC day of the
 * requests started in [`from`, `until`), days without requests left out (the Overview's heatmap).
 */
export function dailyTokens(
  db: Db,
  from: number,
  until: number,
): { day: number; tokens: number; requests: number }[] {
  const p = { label: "custom", start: from, end: until };
  return arrays(db, DAY_TOKENS, daySourceParams(p))
    .map(([b, tokens, requests]) => ({
      day: Number(b),
      tokens: Number(tokens),
      requests: Number(requests),
    }))
    .filter((d) => d.requests > 0 || d.tokens > 0);
}
