/**
 * SQL for the Overview's outcome split and its 180-day token heatmap, summed
 * from `usage_rollups` like the rest of the dashboard (dashboard_repo.ts).
 */
import type { Db } from "./db.ts";

/** How the period's requests ended; the parts add up to all requests. */
export interface RequestOutcomes {
  completed: number;
  /** Upstream errors and interrupted requests (also errors when no provider could be tried). */
  errors: number;
  /** Refused before routing (unknown model, wrong endpoint, bad body): no provider chosen. */
  rejected: number;
  /** Routed requests the upstream refused as the client's fault (4xx other than limits). */
  clientErrors: number;
  /** The client went away first. */
  cancelled: number;
}

// provider_id '' is the rollups' sentinel for "no provider": the request never reached routing.
const OUTCOME_SUMS = `
  total(CASE WHEN status = 'completed' THEN request_count ELSE 0 END) AS completed,
  total(CASE WHEN status IN ('error', 'interrupted') THEN request_count ELSE 0 END) AS errors,
  total(CASE WHEN status = 'client_error' AND provider_id = '' THEN request_count ELSE 0 END)
    AS rejected,
  total(CASE WHEN status = 'client_error' AND provider_id != '' THEN request_count ELSE 0 END)
    AS client_errors,
  total(CASE WHEN status = 'cancelled' THEN request_count ELSE 0 END) AS cancelled`;

const OUTCOMES = `SELECT ${OUTCOME_SUMS} FROM usage_rollups WHERE bucket_start + bucket_ms > ?`;

// The same overlap test as a primary-key range for one bucket size (?2).
const OUTCOMES_SIZED = `SELECT ${OUTCOME_SUMS} FROM usage_rollups
  WHERE bucket_ms = ?2 AND bucket_start > ?1 - ?2`;

/**
 * Outcomes of the requests started since `since` (ms), bucket-overlap as dashboard_repo.ts.
 * Given the bucket sizes present (`rollupBucketSizes`), each is read as a primary-key range.
 */
export function requestOutcomes(
  db: Db,
  since: number,
  bucketSizes?: readonly number[],
): RequestOutcomes {
  const rows = bucketSizes === undefined
    ? [db.stmt(OUTCOMES).get(since) ?? {}]
    : bucketSizes.map((size) => db.stmt(OUTCOMES_SIZED).get(since, size) ?? {});
  const n = (key: string) => rows.reduce((sum, row) => sum + Number(row[key] ?? 0), 0);
  return {
    completed: n("completed"),
    errors: n("errors"),
    rejected: n("rejected"),
    clientErrors: n("client_errors"),
    cancelled: n("cancelled"),
  };
}

/** One UTC day's tokens (fresh input, cache read and write, output) and requests. */
export interface DayUsage {
  /** Epoch ms of 00:00 UTC. */
  day: number;
  tokens: number;
  requests: number;
}

const DAY_MS = 86_400_000;

const DAILY = `SELECT (bucket_start / ${DAY_MS}) * ${DAY_MS} AS day,
  total(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) AS tokens,
  total(request_count) AS requests
  FROM usage_rollups WHERE bucket_start >= ?1 AND bucket_start < ?2 GROUP BY 1 ORDER BY 1`;

// With the bucket size fixed, the primary key (bucket_ms, bucket_start, …) bounds the scan.
const DAILY_SIZED = `SELECT (bucket_start / ${DAY_MS}) * ${DAY_MS} AS day,
  total(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) AS tokens,
  total(request_count) AS requests
  FROM usage_rollups WHERE bucket_ms = ?3 AND bucket_start >= ?1 AND bucket_start < ?2
  GROUP BY 1 ORDER BY 1`;

const BUCKET_SIZES = "SELECT DISTINCT bucket_ms FROM usage_rollups ORDER BY 1";

/** The rollup bucket sizes present (one unless `timeseries_bucket_s` was changed). */
export function rollupBucketSizes(db: Db): number[] {
  return db.stmt(BUCKET_SIZES).all().map((row) => Number(row.bucket_ms));
}

/**
 * Tokens and requests per UTC day for buckets starting in [`fromDay`, `untilMs`); days without
 * rows omitted. Given the bucket sizes present, each size is read as a primary-key range (a
 * day's slice costs its own rows, not the table's).
 */
export function dailyUsage(
  db: Db,
  fromDay: number,
  untilMs = Number.MAX_SAFE_INTEGER,
  bucketSizes?: readonly number[],
): DayUsage[] {
  const rows = bucketSizes === undefined
    ? db.stmt(DAILY).all(fromDay, untilMs)
    : bucketSizes.flatMap((size) => db.stmt(DAILY_SIZED).all(fromDay, untilMs, size));
  const days = new Map<number, DayUsage>();
  for (const row of rows) {
    const day = Number(row.day);
    const d = days.get(day) ?? { day, tokens: 0, requests: 0 };
    d.tokens += Number(row.tokens);
    d.requests += Number(row.requests);
    days.set(day, d);
  }
  return [...days.values()].sort((a, b) => a.day - b.day);
}
