/**
 * SQL for the dashboard's Accounts and Overview pages: usage over a period,
 * summed from `usage_rollups` (one row per bucket and outcome, so a 30-day
 * page reads buckets, not requests), pending requests and recent events.
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
  /** Cost of the requests whose exactness is `estimated`, where the source keeps it apart. */
  estimatedCostMicros?: number;
  /** Request bytes received from clients, where the source sums them. */
  bytesIn?: number;
  /** Response bytes emitted to clients, where the source sums them. */
  bytesOut?: number;
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

const SUMS = `total(r.request_count) AS requests,
  total(CASE WHEN r.status IN ('error', 'interrupted') THEN r.request_count ELSE 0 END) AS errors,
  total(r.input_tokens) AS fresh, total(r.cache_read_tokens) AS cache_read,
  total(r.cache_write_tokens) AS cache_write, total(r.output_tokens) AS output,
  total(r.reasoning_tokens) AS reasoning, total(r.cost_microdollars) AS cost,
  total(r.latency_ms_sum) AS latency_sum, total(r.latency_count) AS latency_count`;

/**
 * A bucket belongs to the period when it overlaps it: a request started after
 * `since` is never left out, at the price of up to one bucket of earlier ones.
 */
const IN_PERIOD = "r.bucket_start + r.bucket_ms > ?";

const ACCOUNT_USAGE = `SELECT a.name AS account, a.provider_id AS provider, ${SUMS}
  FROM usage_rollups r JOIN accounts a ON a.id = r.account_id
  WHERE ${IN_PERIOD} GROUP BY a.id ORDER BY a.name`;

// Only routed requests: a model no provider serves (an unknown name) is nobody's usage.
const MODEL_USAGE = `SELECT r.model_id AS model, ${SUMS}
  FROM usage_rollups r WHERE ${IN_PERIOD} AND r.model_id != '' AND r.provider_id != ''
  GROUP BY r.model_id ORDER BY r.model_id`;

function totals(row: Record<string, unknown>): UsageTotals {
  // total() never overflows (it sums in floating point) and is 0.0 over no rows.
  const n = (v: unknown) => Number(v ?? 0);
  return {
    requests: n(row.requests),
    errors: n(row.errors),
    freshInputTokens: n(row.fresh),
    cacheReadTokens: n(row.cache_read),
    cacheWriteTokens: n(row.cache_write),
    outputTokens: n(row.output),
    reasoningTokens: n(row.reasoning),
    costMicros: n(row.cost),
    latencyMsSum: n(row.latency_sum),
    latencyCount: n(row.latency_count),
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

/** The Overview's totals: usage plus outcome, streaming and first-byte figures. */
export interface OverviewTotals extends UsageTotals {
  /** Requests that ended `completed`. */
  completed: number;
  streamed: number;
  /** First-byte sums of streamed requests only (TTFT). */
  streamedFirstByteMsSum: number;
  streamedFirstByteCount: number;
}

const OVERVIEW_TOTALS = `SELECT ${SUMS},
  total(CASE WHEN r.status = 'completed' THEN r.request_count ELSE 0 END) AS completed,
  total(CASE WHEN r.streamed = 1 THEN r.request_count ELSE 0 END) AS streamed,
  total(CASE WHEN r.streamed = 1 THEN r.first_byte_ms_sum ELSE 0 END) AS ttft_sum,
  total(CASE WHEN r.streamed = 1 THEN r.first_byte_count ELSE 0 END) AS ttft_count
  FROM usage_rollups r WHERE ${IN_PERIOD}`;

/** Usage of every request started since `since` (ms); zeros when there is none. */
export function overviewTotals(db: Db, since: number): OverviewTotals {
  const row = db.stmt(OVERVIEW_TOTALS).get(since) ?? {};
  return {
    ...totals(row),
    completed: Number(row.completed ?? 0),
    streamed: Number(row.streamed ?? 0),
    streamedFirstByteMsSum: Number(row.ttft_sum ?? 0),
    streamedFirstByteCount: Number(row.ttft_count ?? 0),
  };
}

/** Requests and errors of one chart bucket. */
export interface RequestBucket {
  /** Epoch ms, floor-aligned to the step. */
  start: number;
  requests: number;
  errors: number;
}

// Numbers are bound as REAL: the casts keep the division an integer floor.
const REQUEST_BUCKETS =
  `SELECT (r.bucket_start / CAST(?1 AS INTEGER)) * CAST(?1 AS INTEGER) AS start,
  total(r.request_count) AS requests,
  total(CASE WHEN r.status IN ('error', 'interrupted') THEN r.request_count ELSE 0 END) AS errors
  FROM usage_rollups r WHERE r.bucket_start + r.bucket_ms > ?2 GROUP BY 1 ORDER BY 1`;

/** Requests and errors per `stepMs` since `since`, only for steps that have rollups. */
export function requestBuckets(db: Db, since: number, stepMs: number): RequestBucket[] {
  const step = Math.max(1, Math.floor(stepMs));
  return db.stmt(REQUEST_BUCKETS).all(step, since).map((row) => ({
    start: Number(row.start),
    requests: Number(row.requests),
    errors: Number(row.errors),
  }));
}

/** Requests still `pending`: how many, the oldest start and how many are older than a bound. */
export interface PendingSummary {
  count: number;
  oldestStartedAt?: number;
  stale: number;
}

// The literal status lets SQLite use the partial index idx_requests_pending.
const PENDING = `SELECT count(*) AS n, min(started_at) AS oldest,
  total(CASE WHEN started_at < ? THEN 1 ELSE 0 END) AS stale
  FROM requests WHERE status = 'pending'`;

/** Pending requests; `staleBefore` (ms) marks the ones started before it as stale. */
export function pendingRequests(db: Db, staleBefore: number): PendingSummary {
  const row = db.stmt(PENDING).get(staleBefore) ?? {};
  const count = Number(row.n ?? 0);
  return {
    count,
    oldestStartedAt: row.oldest === null || row.oldest === undefined
      ? undefined
      : Number(row.oldest),
    stale: Number(row.stale ?? 0),
  };
}

/** One operational or account event, newest first; details are the stored JSON text. */
export interface StoredEvent {
  source: "operational" | "account";
  eventType: string;
  /** The account's name for account events. */
  account?: string;
  detailsJson: string;
  occurredAt: number;
}

const RECENT_EVENTS = `SELECT * FROM (
  SELECT 'operational' AS source, e.event_type AS type, NULL AS account,
    e.details_json AS details, e.occurred_at AS at, e.id AS id
  FROM operational_events e ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?1)
  UNION ALL SELECT * FROM (
  SELECT 'account', e.event_type, a.name, e.details_json, e.occurred_at, e.id
  FROM account_events e LEFT JOIN accounts a ON a.id = e.account_id
  ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?1)
  ORDER BY at DESC, id DESC LIMIT ?1`;

/** The last `limit` events of both tables, newest first. */
export function recentEvents(db: Db, limit: number): StoredEvent[] {
  return db.stmt(RECENT_EVENTS).all(limit).map((row) => ({
    source: row.source === "account" ? "account" : "operational",
    eventType: String(row.type),
    account: row.account === null || row.account === undefined ? undefined : String(row.account),
    detailsJson: String(row.details),
    occurredAt: Number(row.at),
  }));
}
