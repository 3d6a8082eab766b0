/**
 * Pieces shared by the stats queries: the period filter, the usage sums every
 * view repeats, their JSON form, and percentiles. Read-only SQL over the
 * tables of migrations/; nothing here writes.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";

/** Rows of `requests r` started inside the period; binds `start, end`. */
export const IN_PERIOD = "r.started_at >= ? AND r.started_at < ?";

/** The period's bind values for {@linkcode IN_PERIOD}. */
export function range(p: StatsPeriod): [number, number] {
  return [p.start, p.end];
}

/**
 * Usage sums over `requests r`. Errors are `error` and `interrupted`;
 * latency averages count only requests that reached an upstream (a refused
 * request's few milliseconds would flatter them), TTFT only streamed ones.
 */
export const USAGE_SUMS = `count(*) AS requests,
  total(r.status = 'completed') AS successful,
  total(r.status = 'error' OR r.status = 'interrupted') AS errors,
  total(r.input_tokens) AS input, total(r.output_tokens) AS output,
  total(r.cache_read_tokens) AS cache_read, total(r.cache_write_tokens) AS cache_write,
  total(r.reasoning_tokens) AS reasoning, total(r.cost_microdollars) AS cost,
  total(r.bytes_in) AS bytes_in, total(r.bytes_out) AS bytes_out,
  total(CASE WHEN r.attempt_count > 0 THEN r.latency_ms END) AS latency_sum,
  count(CASE WHEN r.attempt_count > 0 THEN r.latency_ms END) AS latency_n,
  total(CASE WHEN r.streamed = 1 THEN r.first_byte_ms END) AS ttft_sum,
  count(CASE WHEN r.streamed = 1 THEN r.first_byte_ms END) AS ttft_n`;

/** A SQLite value as a number (0 for NULL). */
export function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

/** A nullable SQLite value as a number or null. */
export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A nullable SQLite value as a string or null. */
export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** `sum / n` to 0.1, or null when there is nothing to average. */
export function avg(sum: number, n: number): number | null {
  return n === 0 ? null : Math.round((sum / n) * 10) / 10;
}

/** `part / whole` to four places, or null when the whole is 0. */
export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

/** Epoch ms as ISO 8601, or null. */
export function iso(ms: unknown): string | null {
  return ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
}

/** The usage counters of a {@linkcode USAGE_SUMS} row in the API's names. */
export function usageJson(row: Record<string, unknown>) {
  const input = num(row.input);
  const output = num(row.output);
  return {
    request_count: num(row.requests),
    successful_count: num(row.successful),
    error_count: num(row.errors),
    input_tokens: input,
    output_tokens: output,
    cache_read_tokens: num(row.cache_read),
    cache_write_tokens: num(row.cache_write),
    reasoning_tokens: num(row.reasoning),
    total_tokens: input + output,
    cost_microdollars: num(row.cost),
    bytes_received: num(row.bytes_in),
    bytes_emitted: num(row.bytes_out),
    avg_latency_ms: avg(num(row.latency_sum), num(row.latency_n)),
    avg_ttft_ms: avg(num(row.ttft_sum), num(row.ttft_n)),
  };
}

/**
 * The rows of `sql` as arrays: no object with named keys per row, which is
 * most of the cost of reading tens of thousands of rows. The statement is
 * cached by its text, so `sql` must be read only through this function.
 */
export function arrays(db: Db, sql: string, params: readonly (number | string)[]): unknown[][] {
  // node:sqlite has setReturnArrays; Deno's type declarations do not list it yet.
  const stmt = db.stmt(sql) as unknown as {
    setReturnArrays(on: boolean): void;
    all(...p: (number | string)[]): unknown[][];
  };
  stmt.setReturnArrays(true);
  return stmt.all(...params);
}

/** The values of column 0 of `sql`'s rows, as numbers. */
export function column(db: Db, sql: string, params: readonly (number | string)[]): number[] {
  return arrays(db, sql, params).map((r) => Number(r[0]));
}

/** Nearest-rank percentile `p` (0–100) of ascending `sorted`, or null when empty. */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

/** `values` sorted ascending as a Float64Array (a typed sort is several times faster). */
export function sortedValues(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Nearest-rank percentiles of the values `sql` selects (one non-null
 * column); null each when there are none. Read unsorted and sorted here:
 * measured cheaper than an ORDER BY or a window function in SQLite.
 */
export function percentiles(
  db: Db,
  sql: string,
  params: readonly (number | string)[],
  ps: readonly number[],
): (number | null)[] {
  const values = sortedValues(column(db, sql, params));
  return ps.map((p) => nearestRank(values, p));
}
