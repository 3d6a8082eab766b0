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
const OUTCOMES = `SELECT
  total(CASE WHEN status = 'completed' THEN request_count ELSE 0 END) AS completed,
  total(CASE WHEN status IN ('error', 'interrupted') THEN request_count ELSE 0 END) AS errors,
  total(CASE WHEN status = 'client_error' AND provider_id = '' THEN request_count ELSE 0 END)
    AS rejected,
  total(CASE WHEN status = 'client_error' AND provider_id != '' THEN request_count ELSE 0 END)
    AS client_errors,
  total(CASE WHEN status = 'cancelled' THEN request_count ELSE 0 END) AS cancelled
  FROM usage_rollups WHERE bucket_start + bucket_ms > ?`;

/** Outcomes of the requests started since `since` (ms), bucket-overlap as dashboard_repo.ts. */
export function requestOutcomes(db: Db, since: number): RequestOutcomes {
  const row = db.stmt(OUTCOMES).get(since) ?? {};
  const n = (v: unknown) => Number(v ?? 0);
  return {
    completed: n(row.completed),
    errors: n(row.errors),
    rejected: n(row.rejected),
    clientErrors: n(row.client_errors),
    cancelled: n(row.cancelled),
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
  FROM usage_rollups WHERE bucket_start >= ? GROUP BY 1 ORDER BY 1`;

/** Tokens and requests per UTC day from `sinceDay` (ms, a day start); days without rows omitted. */
export function dailyUsage(db: Db, sinceDay: number): DayUsage[] {
  return db.stmt(DAILY).all(sinceDay).map((row) => ({
    day: Number(row.day),
    tokens: Number(row.tokens),
    requests: Number(row.requests),
  }));
}
