/**
 * Latency and attempts over a period: TTFT per provider and per model, the
 * phases of a request's time, upstream attempts with their failovers, and
 * failed attempts by retry category.
 *
 * Attempts: a request whose only attempt succeeded has no `request_attempts`
 * row (its request row says it all, migration 0002), so it is counted from
 * the request row; every other attempt from its own row.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { avg, IN_PERIOD, num, range, ratio, strOrNull } from "./_sql.ts";

function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

function ttftGroups(values: Map<string, number[]>, split: (key: string) => Record<string, string>) {
  return [...values.entries()].map(([key, list]) => {
    list.sort((a, b) => a - b);
    const sum = list.reduce((s, v) => s + v, 0);
    return {
      ...split(key),
      streamed_requests: list.length,
      avg_ttft_ms: avg(sum, list.length),
      p50_ttft_ms: nearestRank(list, 50),
      p95_ttft_ms: nearestRank(list, 95),
      p99_ttft_ms: nearestRank(list, 99),
    };
  }).sort((a, b) => b.streamed_requests - a.streamed_requests);
}

const TTFT_ROWS = `SELECT r.provider_id AS provider, r.model_id AS model, r.first_byte_ms AS v
  FROM requests r WHERE ${IN_PERIOD} AND r.streamed = 1 AND r.first_byte_ms IS NOT NULL
  AND r.provider_id IS NOT NULL`;

// first_attempt_at - started_at is EggPool's own time before the first upstream call
// (body read, model lookup, routing); first_byte_ms and latency_ms count from started_at.
const PHASES = `SELECT count(*) AS n,
  total(r.first_attempt_at - r.started_at) AS overhead_sum,
  total(r.first_byte_ms - (r.first_attempt_at - r.started_at)) AS wait_sum,
  total(r.latency_ms - r.first_byte_ms) AS read_sum, total(r.latency_ms) AS latency_sum
  FROM requests r WHERE ${IN_PERIOD} AND r.status = 'completed' AND r.first_attempt_at IS NOT NULL
  AND r.first_byte_ms IS NOT NULL AND r.latency_ms IS NOT NULL`;

/** `/api/stats/latency`. */
export function latency(db: Db, p: StatsPeriod) {
  const byProvider = new Map<string, number[]>();
  const byModel = new Map<string, number[]>();
  for (const row of db.stmt(TTFT_ROWS).all(...range(p))) {
    const v = num(row.v);
    const provider = String(row.provider);
    const model = `${provider}\u0000${row.model ?? ""}`;
    (byProvider.get(provider) ?? byProvider.set(provider, []).get(provider)!).push(v);
    (byModel.get(model) ?? byModel.set(model, []).get(model)!).push(v);
  }
  const ph = db.stmt(PHASES).get(...range(p)) ?? {};
  const n = num(ph.n);
  return {
    provider_ttft: ttftGroups(byProvider, (k) => ({ provider_id: k })),
    model_ttft: ttftGroups(byModel, (k) => {
      const [provider_id, model_id] = k.split("\u0000");
      return { provider_id, model_id };
    }),
    phases: {
      completed_requests: n,
      avg_latency_ms: avg(num(ph.latency_sum), n),
      coordinator_overhead_ms: avg(num(ph.overhead_sum), n),
      // Not recorded: the proxy does not time the TCP/TLS connect on its own.
      upstream_connect_ms: null,
      upstream_wait_ms: avg(num(ph.wait_sum), n),
      upstream_read_ms: avg(num(ph.read_sum), n),
    },
  };
}

/** Exact filters on the attempt's own account, model and provider. */
export interface AttemptFilters {
  accountId?: number;
  modelId?: string;
  providerId?: string;
}

function attemptsSql(f: AttemptFilters): { sql: string; params: (number | string)[] } {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (f.accountId !== undefined) (where.push("t.account_id = ?"), params.push(f.accountId));
  if (f.modelId !== undefined) (where.push("t.model_id = ?"), params.push(f.modelId));
  if (f.providerId !== undefined) (where.push("t.provider_id = ?"), params.push(f.providerId));
  const sql = `SELECT * FROM (
    SELECT ra.request_id, ra.account_id, ra.provider_id, ra.model_id,
      ra.error_class IS NULL AS ok, ra.latency_ms, ra.bytes_out, ra.retry_category
    FROM requests r JOIN request_attempts ra ON ra.request_id = r.id WHERE ${IN_PERIOD}
    UNION ALL
    SELECT r.id, r.account_id, r.provider_id, r.model_id, 1, r.latency_ms, r.bytes_out, NULL
    FROM requests r WHERE ${IN_PERIOD} AND r.attempt_count = 1 AND r.account_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = r.id)
  ) t${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`}`;
  return { sql, params };
}

/** `/api/stats/attempts`: upstream attempts, their outcomes, failovers and latency. */
export function attemptStats(db: Db, p: StatsPeriod, f: AttemptFilters) {
  const q = attemptsSql(f);
  const params = [...range(p), ...range(p), ...q.params];
  const row = db.stmt(`SELECT count(*) AS attempts, total(ok) AS ok,
    count(DISTINCT request_id) AS requests, total(bytes_out) AS bytes_out,
    total(latency_ms) AS latency_sum, count(latency_ms) AS latency_n FROM (${q.sql})`)
    .get(...params) ?? {};
  const retried = db.stmt(`SELECT count(*) AS n FROM (
    SELECT request_id FROM (${q.sql}) GROUP BY request_id HAVING count(*) > 1)`)
    .get(...params) ?? {};
  const lat = db.stmt(`SELECT latency_ms AS v FROM (${q.sql}) WHERE latency_ms IS NOT NULL
    ORDER BY v`).all(...params).map((r) => num(r.v));
  const attempts = num(row.attempts);
  const requests = num(row.requests);
  return {
    total_attempts: attempts,
    successful_attempts: num(row.ok),
    failed_attempts: attempts - num(row.ok),
    requests_with_attempts: requests,
    retries: attempts - requests,
    retried_requests: num(retried.n),
    retry_rate: ratio(num(retried.n), requests),
    avg_latency_ms: avg(num(row.latency_sum), num(row.latency_n)),
    p50_latency_ms: nearestRank(lat, 50),
    p95_latency_ms: nearestRank(lat, 95),
    p99_latency_ms: nearestRank(lat, 99),
    bytes_emitted: num(row.bytes_out),
  };
}

const RETRIES = `SELECT ra.retry_category AS category, count(*) AS n,
  count(DISTINCT ra.request_id) AS requests, count(DISTINCT ra.account_id) AS accounts
  FROM requests r JOIN request_attempts ra ON ra.request_id = r.id
  WHERE ${IN_PERIOD} AND ra.error_class IS NOT NULL
  GROUP BY ra.retry_category ORDER BY n DESC, category`;

/** `/api/stats/retries`: failed attempts by retry category (spec 03 §9.1). */
export function retryDistribution(db: Db, p: StatsPeriod) {
  return db.stmt(RETRIES).all(...range(p)).map((r) => ({
    retry_category: strOrNull(r.category),
    failed_attempts: num(r.n),
    requests: num(r.requests),
    accounts: num(r.accounts),
  }));
}
