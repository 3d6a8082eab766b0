/**
 * Usage over a period (spec 01 §7): the summary, per account, per model, per
 * time bucket, per day of bandwidth, by error class and by client IP. Every
 * figure is the sum over the `requests` rows started inside the period, so a
 * custom range is exact to the millisecond; the whole days of a long period
 * are read from the day rollups (_days.ts), which hold the same sums.
 */
import type { Db } from "../../storage/db.ts";
import type { Bucket, StatsPeriod } from "./period.ts";
import { BUCKET_MS, bucketLabel } from "./period.ts";
import {
  avg,
  IN_PERIOD,
  iso,
  num,
  numOrNull,
  percentiles,
  range,
  ratio,
  strOrNull,
  USAGE_SUMS,
  usageJson,
} from "./_sql.ts";
import { DAY_SOURCE, DAY_USAGE_SUMS, daySourceParams } from "./_days.ts";
import { DAY_MS, splitPeriod } from "./_slots.ts";

const EXACTNESS = [
  "exact",
  "derived",
  "partial",
  "estimated",
  "unknown",
  "provider_reported",
] as const;

const SUMMARY = `SELECT ${DAY_USAGE_SUMS},
  total(CASE WHEN s.routed = 0 THEN s.client_errors END) AS rejected,
  total(CASE WHEN s.routed = 1 THEN s.client_errors END) AS client_errors,
  total(s.cancelled) AS cancelled, total(s.pending) AS pending,
  total(s.interrupted) AS interrupted, total(s.streamed) AS streamed,
  ${EXACTNESS.map((e) => `total(s.x_${e}) AS x_${e}`).join(", ")},
  total(s.pr_cost) AS x_pr_cost, total(s.est_cost) AS x_est_cost,
  count(DISTINCT s.provider_id) AS providers,
  total(s.tps_tokens) AS tps_tokens, total(s.tps_ms) AS tps_ms
  FROM (${DAY_SOURCE}) s`;

const TTFT_VALUES = `SELECT r.first_byte_ms AS v FROM requests r
  WHERE ${IN_PERIOD} AND r.streamed = 1 AND r.first_byte_ms IS NOT NULL`;

/**
 * `/api/stats/summary`. The outcome counts are disjoint and add up to
 * `total_requests`: successful, errors (`error` and `interrupted`), rejected
 * before routing (unknown model, wrong endpoint, bad body: a client error no
 * upstream saw), client errors an upstream returned, cancelled, pending.
 */
export function summary(db: Db, p: StatsPeriod) {
  const row = db.stmt(SUMMARY).get(...daySourceParams(p)) ?? {};
  const u = usageJson(row);
  const [p50, p95, p99] = percentiles(db, TTFT_VALUES, range(p), [50, 95, 99]);
  return {
    total_requests: u.request_count,
    successful_requests: u.successful_count,
    error_requests: u.error_count,
    interrupted_requests: num(row.interrupted),
    rejected_requests: num(row.rejected),
    client_error_requests: num(row.client_errors),
    cancelled_requests: num(row.cancelled),
    pending_requests: num(row.pending),
    total_input_tokens: u.input_tokens,
    total_output_tokens: u.output_tokens,
    total_tokens: u.total_tokens,
    total_cost_microdollars: u.cost_microdollars,
    avg_latency_ms: u.avg_latency_ms,
    total_cache_read_tokens: u.cache_read_tokens,
    total_cache_write_tokens: u.cache_write_tokens,
    total_reasoning_tokens: u.reasoning_tokens,
    streamed_requests: num(row.streamed),
    non_streamed_requests: u.request_count - num(row.streamed),
    ...Object.fromEntries(EXACTNESS.map((e) => [`${e}_count`, num(row[`x_${e}`])])),
    provider_reported_cost_microdollars: num(row.x_pr_cost),
    estimated_cost_sum_microdollars: num(row.x_est_cost),
    total_bytes_received: u.bytes_received,
    total_bytes_emitted: u.bytes_emitted,
    total_providers: num(row.providers),
    avg_ttft_ms: u.avg_ttft_ms,
    ttft_p50_ms: p50,
    ttft_p95_ms: p95,
    ttft_p99_ms: p99,
    tokens_per_second: tokensPerSecond(row),
  };
}

/**
 * Output tokens per second of the completed requests that produced output
 * (the rollups' `tps_tokens` over `tps_ms`), to 0.1; null when none did.
 */
function tokensPerSecond(row: Record<string, unknown>): number | null {
  const ms = num(row.tps_ms);
  return ms === 0 ? null : Math.round(num(row.tps_tokens) / ms * 10_000) / 10;
}

const ACCOUNTS = `SELECT a.id AS account_id, a.name, a.provider_id, a.enabled, t.*
  FROM accounts a LEFT JOIN (
    SELECT s.account_id AS aid, ${DAY_USAGE_SUMS}, total(s.est_cost) AS est_cost,
      ${EXACTNESS.map((e) => `total(s.x_${e}) AS x_${e}`).join(", ")}
    FROM (${DAY_SOURCE}) s WHERE s.account_id IS NOT NULL GROUP BY s.account_id
  ) t ON t.aid = a.id
  ORDER BY a.name`;

/** One account's usage over the period, with the ratios of spec 01 §7 (null when undefined). */
export interface AccountStatsRow extends ReturnType<typeof usageJson> {
  account_id: number;
  account_name: string;
  provider_id: string;
  enabled: boolean;
  [key: string]: unknown;
}

/** `/api/stats/accounts`: every account (disabled ones unless asked not to), busiest history kept. */
export function accountStats(db: Db, p: StatsPeriod, includeDisabled: boolean): AccountStatsRow[] {
  const rows = db.stmt(ACCOUNTS).all(...daySourceParams(p));
  return rows.filter((r) => includeDisabled || num(r.enabled) === 1).map((r) => {
    const u = usageJson(r);
    const inputAll = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
    return {
      account_id: num(r.account_id),
      account_name: String(r.name),
      provider_id: String(r.provider_id),
      enabled: num(r.enabled) === 1,
      ...u,
      ...Object.fromEntries(EXACTNESS.map((e) => [`${e}_count`, num(r[`x_${e}`])])),
      cache_read_ratio: ratio(u.cache_read_tokens, inputAll),
      cache_write_ratio: ratio(u.cache_write_tokens, inputAll),
      reasoning_output_ratio: ratio(u.reasoning_tokens, u.output_tokens),
      estimated_cost_fraction: ratio(num(r.est_cost), u.cost_microdollars),
      avg_cost_per_request: avg(u.cost_microdollars, u.request_count),
      avg_cost_per_1k_tokens: avg(u.cost_microdollars * 1000, u.total_tokens),
    };
  });
}

/** The id of the account named `name`, or undefined. */
export function accountIdByName(db: Db, name: string): number | undefined {
  const row = db.stmt("SELECT id FROM accounts WHERE name = ?").get(name);
  return row === undefined ? undefined : Number(row.id);
}

const MODELS = (byAccount: boolean) =>
  `SELECT s.model_id, group_concat(DISTINCT s.provider_id) AS providers, ${DAY_USAGE_SUMS},
  ${EXACTNESS.map((e) => `total(s.x_${e}) AS x_${e}`).join(", ")},
  total(s.est_cost) AS est_cost, total(s.tps_tokens) AS tps_tokens, total(s.tps_ms) AS tps_ms
  FROM (${DAY_SOURCE}) s WHERE s.model_id IS NOT NULL AND s.routed = 1
  ${byAccount ? "AND s.account_id = ?" : ""}
  GROUP BY s.model_id ORDER BY requests DESC, s.model_id`;

/**
 * `/api/stats/models`: models that an upstream was asked for. A request
 * refused before routing has no routed model, so a name that does not exist
 * never appears.
 */
export function modelStats(db: Db, p: StatsPeriod, accountId?: number) {
  const params = accountId === undefined ? daySourceParams(p) : [...daySourceParams(p), accountId];
  return db.stmt(MODELS(accountId !== undefined)).all(...params).map((r) => ({
    model_id: String(r.model_id),
    providers: r.providers === null ? [] : String(r.providers).split(",").sort(),
    ...usageJson(r),
    ...Object.fromEntries(EXACTNESS.map((e) => [`${e}_count`, num(r[`x_${e}`])])) as Record<
      `${typeof EXACTNESS[number]}_count`,
      number
    >,
    estimated_cost_sum_microdollars: num(r.est_cost),
    tokens_per_second: tokensPerSecond(r),
  }));
}

/** Optional exact filters on an account id and a routed model id. */
export interface UsageFilters {
  accountId?: number;
  modelId?: string;
}

function filterSql(f: UsageFilters, t: string): { sql: string; params: (number | string)[] } {
  const parts: string[] = [];
  const params: (number | string)[] = [];
  if (f.accountId !== undefined) {
    parts.push(`${t}.account_id = ?`);
    params.push(f.accountId);
  }
  if (f.modelId !== undefined) {
    parts.push(`${t}.model_id = ?`);
    params.push(f.modelId);
  }
  return { sql: parts.map((s) => ` AND ${s}`).join(""), params };
}

/** `/api/stats/timeseries`: usage per hour or day bucket that has requests, oldest first. */
export function timeseries(db: Db, p: StatsPeriod, bucket: Bucket, f: UsageFilters) {
  const step = BUCKET_MS[bucket];
  if (bucket === "day") {
    const where = filterSql(f, "s");
    const sql = `SELECT s.b, ${DAY_USAGE_SUMS} FROM (${DAY_SOURCE}) s
      WHERE true${where.sql} GROUP BY s.b ORDER BY s.b`;
    return db.stmt(sql).all(...daySourceParams(p), ...where.params).map((r) => ({
      bucket: bucketLabel(num(r.b)),
      ...usageJson(r),
    }));
  }
  // Hour buckets: whole hours from `request_hours` (per provider and model)
  // or `account_hours` (migration 0005), the partial hours at the ends from
  // the rows. Neither holds an account and a model at once: that filter pair
  // sums the rows.
  const both = f.accountId !== undefined && f.modelId !== undefined;
  const split = splitPeriod(p, step, both);
  const rawWhere = filterSql(f, "r");
  const raw = `SELECT (r.started_at / ${step}) * ${step} AS b, ${USAGE_SUMS}
    FROM requests r WHERE ${IN_PERIOD}${rawWhere.sql} GROUP BY b ORDER BY b`;
  const hourWhere = filterSql(f, "h");
  const table = f.accountId !== undefined ? "account_hours" : "request_hours";
  const rolled = `SELECT h.hour AS b, ${HOUR_USAGE_SUMS} FROM ${table} h
    WHERE h.hour >= ? AND h.hour < ? AND h.n <> 0${hourWhere.sql} GROUP BY h.hour ORDER BY h.hour`;
  const edge = (e?: [number, number]) =>
    e === undefined ? [] : db.stmt(raw).all(...e, ...rawWhere.params);
  const rows = [
    ...edge(split.head),
    ...(both ? [] : db.stmt(rolled).all(split.from, split.to, ...hourWhere.params)),
    ...edge(split.tail),
  ];
  return rows.map((r) => ({ bucket: bucketLabel(num(r.b)), ...usageJson(r) }));
}

/** {@linkcode USAGE_SUMS} over `request_hours h` or `account_hours h` rows, same names. */
const HOUR_USAGE_SUMS = `total(h.n) AS requests, total(h.successful) AS successful,
  total(h.errors) AS errors, total(h.input) AS input, total(h.output) AS output,
  total(h.cache_read) AS cache_read, total(h.cache_write) AS cache_write,
  total(h.reasoning) AS reasoning, total(h.cost) AS cost, total(h.bytes_in) AS bytes_in,
  total(h.bytes_out) AS bytes_out, total(h.latency_sum) AS latency_sum,
  total(h.latency_n) AS latency_n, total(h.ttft_sum) AS ttft_sum, total(h.ttft_n) AS ttft_n`;

/** `/api/stats/bandwidth`: bytes, tokens and requests per UTC day that has requests. */
export function bandwidth(db: Db, p: StatsPeriod, accountId?: number) {
  const sql = `SELECT s.b, total(s.bytes_in) AS bytes_in, total(s.bytes_out) AS bytes_out,
    total(s.input + s.output) AS tokens, total(s.n) AS n FROM (${DAY_SOURCE}) s
    ${accountId === undefined ? "" : "WHERE s.account_id = ?"} GROUP BY s.b ORDER BY s.b`;
  const params = accountId === undefined ? daySourceParams(p) : [...daySourceParams(p), accountId];
  return db.stmt(sql).all(...params).map((r) => ({
    day: bucketLabel(num(r.b)).slice(0, 10),
    bytes_received: num(r.bytes_in),
    bytes_emitted: num(r.bytes_out),
    total_tokens: num(r.tokens),
    request_count: num(r.n),
  }));
}

const ERRORS = `SELECT r.status, r.error_class, r.status_code, count(*) AS n,
  max(r.started_at) AS last_at, min(r.started_at) AS first_at,
  count(DISTINCT r.account_id) AS accounts, total(r.attempt_count = 0) AS rejected
  FROM requests r WHERE ${IN_PERIOD} AND r.status <> 'completed' AND r.status <> 'pending'
  GROUP BY r.status, r.error_class, r.status_code ORDER BY n DESC, last_at DESC LIMIT ?`;

/**
 * `/api/stats/errors`: failed requests grouped by outcome, error class and
 * status code, most frequent first. Never the stored message text.
 */
export function errorGroups(db: Db, p: StatsPeriod, limit: number) {
  return db.stmt(ERRORS).all(...range(p), limit).map((r) => ({
    status: String(r.status),
    error_class: strOrNull(r.error_class),
    status_code: numOrNull(r.status_code),
    count: num(r.n),
    rejected_before_routing: num(r.rejected),
    accounts: num(r.accounts),
    first_seen: iso(r.first_at),
    last_seen: iso(r.last_at),
  }));
}

const IPS_RAW = `SELECT r.client_ip, count(*) AS n,
  total(r.status = 'error' OR r.status = 'interrupted') AS errors,
  total(r.status = 'client_error' AND r.attempt_count = 0) AS rejected,
  total(r.input_tokens + r.output_tokens) AS tokens, total(r.bytes_in) AS bytes_in,
  total(r.bytes_out) AS bytes_out, min(r.started_at) AS first_at, max(r.started_at) AS last_at
  FROM requests r WHERE ${IN_PERIOD} GROUP BY r.client_ip`;

// Whole days from `client_ip_days` (migration 0005), the partial days at the ends from the rows.
const IPS = `SELECT x.client_ip, total(x.n) AS n, total(x.errors) AS errors,
  total(x.rejected) AS rejected, total(x.tokens) AS tokens, total(x.bytes_in) AS bytes_in,
  total(x.bytes_out) AS bytes_out, min(x.first_at) AS first_at, max(x.last_at) AS last_at
  FROM (SELECT nullif(d.client_ip, '') AS client_ip, d.n, d.errors, d.rejected, d.tokens,
      d.bytes_in, d.bytes_out, d.first_at, d.last_at
    FROM client_ip_days d WHERE d.day >= ? AND d.day < ? AND d.n <> 0
    UNION ALL ${IPS_RAW} UNION ALL ${IPS_RAW}) x
  GROUP BY x.client_ip ORDER BY n DESC, x.client_ip`;

/** `/api/stats/ips`: requests per client IP (the one view that shows addresses). */
export function clientIps(db: Db, p: StatsPeriod) {
  const s = splitPeriod(p, DAY_MS);
  const none: [number, number] = [p.start, p.start];
  const params = [s.from, s.to, ...(s.head ?? none), ...(s.tail ?? none)];
  return db.stmt(IPS).all(...params).map((r) => ({
    client_ip: strOrNull(r.client_ip),
    request_count: num(r.n),
    error_count: num(r.errors),
    rejected_count: num(r.rejected),
    total_tokens: num(r.tokens),
    bytes_received: num(r.bytes_in),
    bytes_emitted: num(r.bytes_out),
    first_seen: iso(r.first_at),
    last_seen: iso(r.last_at),
  }));
}
