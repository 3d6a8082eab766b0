/**
 * Period sums from the day rollups of migration 0004: the whole UTC days of a
 * period are read from `request_days` (one row per day and account,
 * provider, model and routed), the partial days at its ends from `requests`,
 * each raw row shaped like a rollup row. Summing the union gives exactly what
 * summing the period's request rows gives (triggers keep the rollups equal to
 * the rows; tests/stats_rollup_test.ts compares the two).
 */
import type { StatsPeriod } from "./period.ts";

const DAY_MS = 86_400_000;

/** Each counter of `request_days` and the same value for one `requests r` row (NULL adds 0). */
const COUNTERS: readonly (readonly [string, string])[] = [
  ["n", "1"],
  ["successful", "r.status = 'completed'"],
  ["errors", "r.status = 'error' OR r.status = 'interrupted'"],
  ["interrupted", "r.status = 'interrupted'"],
  ["client_errors", "r.status = 'client_error'"],
  ["cancelled", "r.status = 'cancelled'"],
  ["pending", "r.status = 'pending'"],
  ["streamed", "r.streamed = 1"],
  ["failed_over", "r.attempt_count > 1"],
  ["x_exact", "r.cost_exactness = 'exact'"],
  ["x_derived", "r.cost_exactness = 'derived'"],
  ["x_partial", "r.cost_exactness = 'partial'"],
  ["x_estimated", "r.cost_exactness = 'estimated'"],
  ["x_unknown", "r.cost_exactness = 'unknown'"],
  ["x_provider_reported", "r.cost_exactness = 'provider_reported'"],
  ["pr_cost", "CASE WHEN r.cost_exactness = 'provider_reported' THEN r.cost_microdollars END"],
  ["est_cost", "CASE WHEN r.cost_exactness = 'estimated' THEN r.cost_microdollars END"],
  ["input", "r.input_tokens"],
  ["output", "r.output_tokens"],
  ["cache_read", "r.cache_read_tokens"],
  ["cache_write", "r.cache_write_tokens"],
  ["reasoning", "r.reasoning_tokens"],
  ["cost", "r.cost_microdollars"],
  ["bytes_in", "r.bytes_in"],
  ["bytes_out", "r.bytes_out"],
  ["latency_sum", "CASE WHEN r.attempt_count > 0 THEN r.latency_ms END"],
  ["latency_n", "r.attempt_count > 0 AND r.latency_ms IS NOT NULL"],
  ["ttft_sum", "CASE WHEN r.streamed = 1 THEN r.first_byte_ms END"],
  ["ttft_n", "r.streamed = 1 AND r.first_byte_ms IS NOT NULL"],
  [
    "tps_tokens",
    "CASE WHEN r.status = 'completed' AND r.output_tokens > 0 THEN r.output_tokens END",
  ],
  ["tps_ms", "CASE WHEN r.status = 'completed' AND r.output_tokens > 0 THEN r.latency_ms END"],
];

const ROLLUP_PART = `SELECT day AS b, nullif(account_id, 0) AS account_id,
  nullif(provider_id, '') AS provider_id, nullif(model_id, '') AS model_id, routed,
  ${COUNTERS.map(([c]) => c).join(", ")}
  FROM request_days WHERE day >= ? AND day < ? AND n <> 0`;

const RAW_PART = `SELECT (r.started_at / ${DAY_MS}) * ${DAY_MS} AS b, r.account_id, r.provider_id,
  r.model_id, r.attempt_count > 0 AS routed,
  ${COUNTERS.map(([c, e]) => `${e} AS ${c}`).join(", ")}
  FROM requests r WHERE r.started_at >= ? AND r.started_at < ?`;

/**
 * A subquery (use as `(${DAY_SOURCE}) s`) with one row per rollup row or edge
 * request: `b` (UTC day start), `account_id`, `provider_id`, `model_id`
 * (NULL when none), `routed` (0/1) and the counters of {@linkcode COUNTERS};
 * bind {@linkcode daySourceParams} first.
 */
export const DAY_SOURCE = `${ROLLUP_PART} UNION ALL ${RAW_PART} UNION ALL ${RAW_PART}`;

let rowsOnly = false;

/**
 * Runs `fn` with every period summed from `requests` rows alone, as before
 * the rollups (these day rollups and the hour, IP, TTFT and phase rollups of
 * _slots.ts): how tests/stats_rollup_test.ts checks that both give the same
 * answers. Synchronous, so no other caller sees the switch.
 */
export function withoutDayRollups<T>(fn: () => T): T {
  rowsOnly = true;
  try {
    return fn();
  } finally {
    rowsOnly = false;
  }
}

/** True inside {@linkcode withoutDayRollups}. */
export function rollupsOff(): boolean {
  return rowsOnly;
}

/** The bind values of {@linkcode DAY_SOURCE} for `p`: whole days, then the two partial ends. */
export function daySourceParams(p: StatsPeriod): number[] {
  let from = Math.ceil(p.start / DAY_MS) * DAY_MS;
  let to = Math.floor(p.end / DAY_MS) * DAY_MS;
  // No whole day inside: everything comes from the rows.
  if (from >= to || rowsOnly) from = to = p.start;
  return [from, to, p.start, from, to, p.end];
}

/** {@linkcode USAGE_SUMS} of _sql.ts over `s` rows of {@linkcode DAY_SOURCE}, same names. */
export const DAY_USAGE_SUMS = `total(s.n) AS requests, total(s.successful) AS successful,
  total(s.errors) AS errors, total(s.input) AS input, total(s.output) AS output,
  total(s.cache_read) AS cache_read, total(s.cache_write) AS cache_write,
  total(s.reasoning) AS reasoning, total(s.cost) AS cost, total(s.bytes_in) AS bytes_in,
  total(s.bytes_out) AS bytes_out, total(s.latency_sum) AS latency_sum,
  total(s.latency_n) AS latency_n, total(s.ttft_sum) AS ttft_sum, total(s.ttft_n) AS ttft_n`;

const EXCLUSION_ROLLUP = `SELECT nullif(account_id, 0) AS aid, nullif(reason, '') AS reason,
  exclusions AS n, requests FROM routing_exclusion_days
  WHERE day >= ? AND day < ? AND exclusions <> 0`;

const EXCLUSION_RAW = `SELECT json_extract(e.value, '$[0]') AS aid,
  json_extract(e.value, '$[1]') AS reason, count(*) AS n, count(DISTINCT r.id) AS requests
  FROM requests r, json_each(r.routing_json) d, json_each(d.value, '$[7]') e
  WHERE r.started_at >= ? AND r.started_at < ? AND r.routing_json IS NOT NULL
  GROUP BY aid, reason`;

/** Routing exclusions per (account id, reason) over a period; binds {@linkcode daySourceParams}. */
export const EXCLUSIONS_BY_DAY = `SELECT x.aid, x.reason, total(x.n) AS n,
  total(x.requests) AS requests
  FROM (${EXCLUSION_ROLLUP} UNION ALL ${EXCLUSION_RAW} UNION ALL ${EXCLUSION_RAW}) x
  GROUP BY x.aid, x.reason ORDER BY n DESC, x.aid, x.reason`;
