/**
 * Gathers the Overview page's data (spec 06 §4): period totals, pending
 * requests, the busiest accounts and models, and the latest events. The
 * requests chart reads {@linkcode loadTimeseries} through `/api/timeseries`.
 */
import { pendingRequests, recentEvents, requestBuckets } from "../storage/dashboard_repo.ts";
import type { UsageTotals } from "../storage/dashboard_repo.ts";
import type { DayUsage } from "../storage/overview_repo.ts";
import type { Db } from "../storage/db.ts";
import { buildHeatmap, HEATMAP_DAYS } from "./heatmap.ts";
import type { AccountsSource } from "./accounts_data.ts";
import type { EventRow, OverviewPageProps, Period, UsageShareRow } from "./views/types.ts";
import { dailyTokens, dayRequestCounts, periodUsage } from "./page_usage.ts";

/** A pending request older than this is stale (spec 06 §4). */
export const PENDING_STALE_MS = 900_000;
/** Rows in the account breakdown and top models panels. */
const TOP_ROWS = 8;
/** Events in the Recent events panel. */
const EVENT_ROWS = 10;
/** Longest details text shown for an event. */
const DETAILS_MAX_CHARS = 200;
/** Detail fields never shown: raw upstream errors and anything that may hold a credential. */
const HIDDEN_DETAIL =
  /error_detail|api_?key|(^|_)key$|secret|authorization|password|cookie|credential|(^|_)ip$/i;

/** Chart step per period: about 12–30 points whatever the period. */
export const STEP_MS: Readonly<Record<Period, number>> = {
  "1h": 300_000,
  "24h": 3_600_000,
  "7d": 21_600_000,
  "30d": 86_400_000,
};

/** The Overview's props, without the page chrome. */
export type OverviewData = Omit<OverviewPageProps, "chrome">;

function shareRows(
  rows: readonly (UsageTotals & { name: string; providerId?: string })[],
  total: number,
): UsageShareRow[] {
  return [...rows].sort((a, b) => b.requests - a.requests || (a.name < b.name ? -1 : 1))
    .slice(0, TOP_ROWS)
    .map((u) => ({
      name: u.name,
      providerId: u.providerId,
      requests: u.requests,
      errors: u.errors,
      costMicros: u.costMicros,
      share: total === 0 ? 0 : u.requests / total,
    }));
}

/** `key=value` pairs of an event's details, without hidden fields, at most 200 characters. */
export function eventDetails(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return "";
  }
  let text: string;
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    text = Object.entries(parsed as Record<string, unknown>)
      .filter(([k]) => !HIDDEN_DETAIL.test(k))
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
  } else {
    text = "";
  }
  return text.length > DETAILS_MAX_CHARS ? `${text.slice(0, DETAILS_MAX_CHARS - 1)}…` : text;
}

const DAY_MS = 86_400_000;
/**
 * Finished days change only when a late request lands or retention prunes: they are re-read at
 * most this often (180 days of day rollups, a few milliseconds). Today is read on every load, from
 * its own request rows.
 */
const PAST_DAYS_TTL_MS = 600_000;

/** The heatmap's finished days, kept between Overview loads (one per mounted dashboard). */
export class DailyUsageCache {
  #firstDay = Number.NaN;
  #readAt = 0;
  #past: DayUsage[] = [];

  /** Tokens per day from `firstDay` (a UTC day start) to `now`, today always fresh. */
  read(db: Db, firstDay: number, now: number): DayUsage[] {
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    if (this.#firstDay !== firstDay || now - this.#readAt >= PAST_DAYS_TTL_MS) {
      this.#past = dailyTokens(db, firstDay, today);
      this.#firstDay = firstDay;
      this.#readAt = now;
    }
    return [...this.#past, ...dailyTokens(db, today, now + 1)];
  }
}

/** What {@linkcode loadOverviewData} loads. */
export interface OverviewQuery {
  period: Period;
  /** Start of the period and now, epoch ms. */
  since: number;
  now: number;
  /** Keeps the heatmap's finished days between loads; without it every load reads them. */
  days?: DailyUsageCache;
}

/** Loads everything the Overview shows for requests started since `since`. */
export function loadOverviewData(source: AccountsSource, q: OverviewQuery): OverviewData {
  const { period, since, now } = q;
  const series = loadTimeseries(source, period, since, now); // flushes the recorder
  // Totals, outcomes, accounts and models in one pass over the day rollups.
  const usage = periodUsage(source.db, { label: period, start: since, end: now + 1 });
  const figures = usage.totals;
  const firstDay = (Math.floor(now / DAY_MS) - (HEATMAP_DAYS - 1)) * DAY_MS;
  const cache = q.days ?? new DailyUsageCache();
  const days = cache.read(source.db, firstDay, now).map((d) => ({ ...d, value: d.tokens }));
  const pending = pendingRequests(source.db, now - PENDING_STALE_MS);
  const statuses = source.pool.status(now);
  const enabledCount = statuses.filter((s) => s.enabled).length;
  const accounts = usage.accounts.map((u) => ({ ...u, name: u.account }));
  const models = usage.models.map((u) => ({ ...u, name: u.modelId }));
  const events = recentEvents(source.db, EVENT_ROWS).map((e): EventRow => ({
    occurredAt: e.occurredAt,
    source: e.source,
    eventType: e.eventType,
    account: e.account,
    details: eventDetails(e.detailsJson),
  }));
  return {
    figures,
    outcomes: usage.outcomes,
    series,
    heatmap: buildHeatmap(days, now),
    pending: {
      count: pending.count,
      oldestAgeMs: pending.oldestStartedAt === undefined
        ? undefined
        : Math.max(0, now - pending.oldestStartedAt),
      stale: pending.stale,
    },
    accounts: shareRows(accounts, figures.requests),
    enabledCount,
    disabledCount: statuses.length - enabledCount,
    models: shareRows(models, figures.requests),
    events,
  };
}

/** The body of `GET /api/timeseries`: requests and errors per step, gaps filled with zeros. */
export interface TimeseriesBody {
  period: Period;
  stepMs: number;
  since: number;
  until: number;
  buckets: { start: number; requests: number; errors: number }[];
  totals: { requests: number; errors: number };
}

const DAY_STEP_MS = 86_400_000;

/**
 * Requests and errors per step: day steps (30 days) from the day rollups, exact to the period,
 * shorter steps from the 5-minute rollups that overlap it.
 */
function stepCounts(source: AccountsSource, since: number, now: number, stepMs: number) {
  if (stepMs !== DAY_STEP_MS) return requestBuckets(source.db, since, stepMs);
  return dayRequestCounts(source.db, { label: "custom", start: since, end: now + 1 });
}

/** Requests and errors per chart step over the period ending `now`. */
export function loadTimeseries(
  source: AccountsSource,
  period: Period,
  since: number,
  now: number,
): TimeseriesBody {
  source.flush();
  const stepMs = STEP_MS[period];
  const found = new Map(stepCounts(source, since, now, stepMs).map((b) => [b.start, b]));
  const buckets: TimeseriesBody["buckets"] = [];
  // Rollup buckets overlapping the period may start up to one step before `since`.
  const first = Math.min(Math.floor(since / stepMs) * stepMs, ...found.keys());
  for (let start = first; start <= now; start += stepMs) {
    const b = found.get(start);
    buckets.push({ start, requests: b?.requests ?? 0, errors: b?.errors ?? 0 });
  }
  const totals = buckets.reduce(
    (t, b) => ({ requests: t.requests + b.requests, errors: t.errors + b.errors }),
    { requests: 0, errors: 0 },
  );
  return { period, stepMs, since, until: now, buckets, totals };
}
