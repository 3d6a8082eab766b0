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
import {
  arrays,
  avg,
  IN_PERIOD,
  nearestRank,
  num,
  range,
  ratio,
  sortedValues,
  strOrNull,
} from "./_sql.ts";
import {
  attemptLatencyPercentiles,
  type AttemptSums,
  attemptSums,
  hasWholeDays,
  retrySums,
} from "./attempt_days.ts";
import { DAY_MS, splitPeriod } from "./_slots.ts";
import { addPack, TtftHistogram } from "../../storage/ttft_pack.ts";
import { cacheTtftDay, type TtftDayPack } from "../../storage/ttft_cache_repo.ts";

/**
 * Nearest-rank percentile `p` of the values a histogram counts: the mean of
 * the values in the bucket that holds the rank, to the ms. Exact when that
 * bucket's values are all equal (every bucket below 100 ms holds one value);
 * otherwise less than 2 % off, the most a bucket spans (ttft_buckets.ts).
 */
function histogramRank(h: TtftHistogram, total: number, p: number) {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < h.n.length; i++) {
    if (h.n[i] === 0) continue;
    seen += h.n[i];
    if (seen >= rank) return Math.round(h.ms[i] / h.n[i]);
  }
  return null;
}

function ttftGroups<K extends Record<string, string>>(
  values: Map<string, TtftHistogram>,
  split: (key: string) => K,
) {
  return [...values.entries()].map(([key, h]) => {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < h.n.length; i++) (n += h.n[i]), (sum += h.ms[i]);
    return {
      ...split(key),
      streamed_requests: n,
      avg_ttft_ms: avg(sum, n),
      p50_ttft_ms: histogramRank(h, n, 50),
      p95_ttft_ms: histogramRank(h, n, 95),
      p99_ttft_ms: histogramRank(h, n, 99),
    };
  }).filter((g) => g.streamed_requests !== 0)
    .sort((a, b) => b.streamed_requests - a.streamed_requests || order(a, b));
}

/** Ties in order of their key fields (provider, then model). */
function order(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = `${a.provider_id}\u0000${a.model_id ?? ""}`;
  const kb = `${b.provider_id}\u0000${b.model_id ?? ""}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

// Whole days come from `ttft_days` (a cache of packed histograms, filled
// here) and `phase_days` (migration 0005), the partial days at the period's
// ends from the rows.
const TTFT_DAYS = `SELECT t.provider_id, t.model_id, t.pack
  FROM ttft_days t JOIN ttft_days_done d ON d.day = t.day
  WHERE t.day >= ? AND t.day < ? AND t.provider_id <> ''`;

const TTFT_DONE = "SELECT day FROM ttft_days_done WHERE day >= ? AND day < ?";

const TTFT_ROWS = `SELECT r.provider_id, r.model_id, r.first_byte_ms
  FROM requests r WHERE ${IN_PERIOD} AND r.streamed = 1 AND r.first_byte_ms IS NOT NULL
  AND r.provider_id IS NOT NULL`;

const PHASE_DAYS = `SELECT total(n) AS n, total(overhead) AS overhead_sum, total(wait) AS wait_sum,
  total(read) AS read_sum, total(latency) AS latency_sum FROM phase_days WHERE day >= ? AND day < ?`;

/** Every streamed TTFT of a day, as the cache keeps it (a NULL provider or model as ''). */
const TTFT_OF_DAY = `SELECT coalesce(r.provider_id, ''), coalesce(r.model_id, ''), r.first_byte_ms
  FROM requests r WHERE ${IN_PERIOD} AND r.streamed = 1 AND r.first_byte_ms IS NOT NULL`;

/** TTFT histograms per provider and per (provider, model). */
class TtftTally {
  readonly byProvider = new Map<string, TtftHistogram>();
  readonly byModel = new Map<string, TtftHistogram>();

  /** The two histograms a (provider, model) adds to; a NULL model keys as ''. */
  of(provider: string, model: string): [TtftHistogram, TtftHistogram] {
    const mk = `${provider}\u0000${model}`;
    let p = this.byProvider.get(provider);
    if (p === undefined) this.byProvider.set(provider, p = new TtftHistogram());
    let m = this.byModel.get(mk);
    if (m === undefined) this.byModel.set(mk, m = new TtftHistogram());
    return [p, m];
  }
}

/**
 * Adds the TTFTs of the whole days `from <= day < to` to `tally`: the cached
 * days from `ttft_days`, the others summed from the rows and cached for the
 * next read through storage/ttft_cache_repo.ts (best effort: on a read-only
 * connection they are only summed).
 */
function addTtftDays(db: Db, tally: TtftTally, from: number, to: number): void {
  if (from >= to) return;
  for (const [provider, model, pack] of arrays(db, TTFT_DAYS, [from, to])) {
    addPack(pack as Uint8Array, tally.of(String(provider), String(model)));
  }
  const done = new Set(arrays(db, TTFT_DONE, [from, to]).map((r) => Number(r[0])));
  for (let day = from; day < to; day += DAY_MS) {
    if (done.has(day)) continue;
    const cells = new Map<string, [string, string, TtftHistogram]>();
    for (const [provider, model, v] of arrays(db, TTFT_OF_DAY, [day, day + DAY_MS])) {
      const k = `${provider}\u0000${model}`;
      let cell = cells.get(k);
      if (cell === undefined) {
        cells.set(k, cell = [String(provider), String(model), new TtftHistogram()]);
      }
      cell[2].add(Number(v));
    }
    const packs: TtftDayPack[] = [];
    for (const [provider, model, h] of cells.values()) {
      const pack = h.pack();
      packs.push([provider, model, pack]);
      if (provider !== "") addPack(pack, tally.of(provider, model));
    }
    cacheTtftDay(db, day, packs);
  }
}
// first_attempt_at - started_at is EggPool's own time before the first upstream call
// (body read, model lookup, routing); first_byte_ms and latency_ms count from started_at.
const PHASES = `SELECT count(*) AS n,
  total(r.first_attempt_at - r.started_at) AS overhead_sum,
  total(r.first_byte_ms - (r.first_attempt_at - r.started_at)) AS wait_sum,
  total(r.latency_ms - r.first_byte_ms) AS read_sum, total(r.latency_ms) AS latency_sum
  FROM requests r WHERE ${IN_PERIOD} AND r.status = 'completed' AND r.first_attempt_at IS NOT NULL
  AND r.first_byte_ms IS NOT NULL AND r.latency_ms IS NOT NULL`;

/**
 * `/api/stats/latency`. TTFT percentiles come from the histogram of
 * migration 0005 (see {@linkcode histogramRank}); counts, averages and the
 * phases are exact sums.
 */
export function latency(db: Db, p: StatsPeriod) {
  const tally = new TtftTally();
  const split = splitPeriod(p, DAY_MS);
  addTtftDays(db, tally, split.from, split.to);
  const phases = { n: 0, overhead_sum: 0, wait_sum: 0, read_sum: 0, latency_sum: 0 };
  const addPhases = (row: Record<string, unknown> | undefined) => {
    for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] += num(row?.[k]);
  };
  addPhases(db.stmt(PHASE_DAYS).get(split.from, split.to));
  for (const e of split.edges) {
    for (const [provider, model, v] of arrays(db, TTFT_ROWS, e)) {
      for (const h of tally.of(String(provider), model === null ? "" : String(model))) {
        h.add(Number(v));
      }
    }
    addPhases(db.stmt(PHASES).get(...e));
  }
  const n = phases.n;
  return {
    provider_ttft: ttftGroups(tally.byProvider, (k) => ({ provider_id: k })),
    model_ttft: ttftGroups(tally.byModel, (k) => {
      const [provider_id, model_id] = k.split("\u0000");
      return { provider_id, model_id };
    }),
    phases: {
      completed_requests: n,
      avg_latency_ms: avg(phases.latency_sum, n),
      coordinator_overhead_ms: avg(phases.overhead_sum, n),
      // Not recorded: the proxy does not time the TCP/TLS connect on its own.
      upstream_connect_ms: null,
      upstream_wait_ms: avg(phases.wait_sum, n),
      upstream_read_ms: avg(phases.read_sum, n),
    },
  };
}

/** Exact filters on the attempt's own account, model and provider. */
export interface AttemptFilters {
  accountId?: number;
  modelId?: string;
  providerId?: string;
}

/** One upstream attempt, as the attempt views count it. */
export interface AttemptRow {
  requestId: number;
  attemptNumber: number;
  accountId: number;
  providerId: string | null;
  ok: boolean;
  latencyMs: number | null;
  bytesOut: number;
}

/** Attempts may start after their request; rows are found by their own index first. */
const ATTEMPT_SLACK_MS = 86_400_000;

function filterSql(alias: string, f: AttemptFilters): { sql: string; params: (number | string)[] } {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (f.accountId !== undefined) (where.push(`${alias}.account_id = ?`), params.push(f.accountId));
  if (f.modelId !== undefined) (where.push(`${alias}.model_id = ?`), params.push(f.modelId));
  if (f.providerId !== undefined) {
    (where.push(`${alias}.provider_id = ?`), params.push(f.providerId));
  }
  return { sql: where.map((w) => ` AND ${w}`).join(""), params };
}

/**
 * Every attempt of the requests started in the period: the stored attempt
 * rows, and one attempt per request that has none (a single attempt that
 * succeeded). Filters apply to the attempt's own account, model and provider.
 */
export function attemptRows(db: Db, p: StatsPeriod, f: AttemptFilters): AttemptRow[] {
  const fa = filterSql("ra", f);
  const stored = `SELECT ra.request_id, ra.attempt_number, ra.account_id,
      ra.error_class IS NULL, ra.latency_ms, ra.bytes_out, r.attempt_count, ra.provider_id
    FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
    WHERE ra.started_at >= ? AND ra.started_at < ? AND ${IN_PERIOD}${fa.sql}`;
  const out: AttemptRow[] = [];
  const withRows = new Set<number>();
  const params = [p.start, p.end + ATTEMPT_SLACK_MS, ...range(p), ...fa.params];
  for (const r of arrays(db, stored, params)) {
    withRows.add(Number(r[0]));
    out.push({
      requestId: Number(r[0]),
      attemptNumber: Number(r[1]),
      accountId: Number(r[2]),
      providerId: strOrNull(r[7]),
      ok: Number(r[3]) === 1,
      latencyMs: r[4] === null ? null : Number(r[4]),
      bytesOut: Number(r[5]),
    });
  }
  // A single attempt is stored only when it failed; those were just read.
  const fr = filterSql("r", f);
  const single = `SELECT r.id, r.account_id, r.latency_ms, r.bytes_out, r.provider_id
    FROM requests r WHERE ${IN_PERIOD} AND r.attempt_count = 1 AND r.account_id IS NOT NULL${fr.sql}`;
  for (const r of arrays(db, single, [...range(p), ...fr.params])) {
    if (withRows.has(Number(r[0]))) continue;
    out.push({
      requestId: Number(r[0]),
      attemptNumber: 1,
      accountId: Number(r[1]),
      providerId: strOrNull(r[4]),
      ok: true,
      latencyMs: r[2] === null ? null : Number(r[2]),
      bytesOut: Number(r[3]),
    });
  }
  return out;
}

/**
 * `/api/stats/attempts`: upstream attempts, their outcomes, failovers and
 * latency. Unfiltered, the whole days come from the day rollups
 * (attempt_days.ts); a filter on account, model or provider reads the rows
 * (a request counts as retried when more than one of its attempts match).
 */
export function attemptStats(db: Db, p: StatsPeriod, f: AttemptFilters) {
  const unfiltered = f.accountId === undefined && f.modelId === undefined &&
    f.providerId === undefined;
  if (unfiltered && hasWholeDays(p)) return summarizeSums(db, attemptSums(db, p));
  return summarizeAttempts(attemptRows(db, p, f));
}

/** {@linkcode attemptStats} from {@linkcode attemptSums} (same fields and values). */
export function summarizeSums(db: Db, s: AttemptSums) {
  const [p50, p95, p99] = attemptLatencyPercentiles(db, s, [50, 95, 99]);
  return {
    total_attempts: s.total,
    successful_attempts: s.ok,
    failed_attempts: s.total - s.ok,
    requests_with_attempts: s.requests,
    retries: s.total - s.requests,
    retried_requests: s.retried,
    retry_rate: ratio(s.retried, s.requests),
    avg_latency_ms: avg(s.latencySum, s.latencyN),
    p50_latency_ms: p50,
    p95_latency_ms: p95,
    p99_latency_ms: p99,
    bytes_emitted: s.bytesOut,
  };
}

/** {@linkcode attemptStats} of rows already read (one read can serve several summaries). */
export function summarizeAttempts(rows: readonly AttemptRow[]) {
  const perRequest = new Map<number, number>();
  let ok = 0;
  let bytes = 0;
  const lat: number[] = [];
  for (const a of rows) {
    perRequest.set(a.requestId, (perRequest.get(a.requestId) ?? 0) + 1);
    if (a.ok) ok++;
    bytes += a.bytesOut;
    if (a.latencyMs !== null) lat.push(a.latencyMs);
  }
  const sortedLat = sortedValues(lat);
  const requests = perRequest.size;
  let retried = 0;
  for (const n of perRequest.values()) if (n > 1) retried++;
  return {
    total_attempts: rows.length,
    successful_attempts: ok,
    failed_attempts: rows.length - ok,
    requests_with_attempts: requests,
    retries: rows.length - requests,
    retried_requests: retried,
    retry_rate: ratio(retried, requests),
    avg_latency_ms: avg(lat.reduce((s, v) => s + v, 0), lat.length),
    p50_latency_ms: nearestRank(sortedLat, 50),
    p95_latency_ms: nearestRank(sortedLat, 95),
    p99_latency_ms: nearestRank(sortedLat, 99),
    bytes_emitted: bytes,
  };
}

const RETRIES = `SELECT ra.retry_category AS category, count(*) AS n,
  count(DISTINCT ra.request_id) AS requests, count(DISTINCT ra.account_id) AS accounts
  FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
  WHERE ra.started_at >= ? AND ra.started_at < ? AND ${IN_PERIOD} AND ra.error_class IS NOT NULL
  GROUP BY ra.retry_category ORDER BY n DESC, category`;

/**
 * `/api/stats/retries`: failed attempts by retry category (spec 03 §9.1),
 * whole days from the day rollups (attempt_days.ts).
 */
export function retryDistribution(db: Db, p: StatsPeriod) {
  if (!hasWholeDays(p)) {
    return db.stmt(RETRIES).all(p.start, p.end + ATTEMPT_SLACK_MS, ...range(p)).map((r) => ({
      retry_category: strOrNull(r.category),
      failed_attempts: num(r.n),
      requests: num(r.requests),
      accounts: num(r.accounts),
    }));
  }
  return [...retrySums(db, p)].map(([category, e]) => ({
    retry_category: category,
    failed_attempts: e.n,
    requests: e.requests,
    accounts: e.accounts.size,
  })).filter((r) => r.failed_attempts !== 0).sort((a, b) =>
    b.failed_attempts - a.failed_attempts || byCategory(a.retry_category, b.retry_category)
  );
}

/** SQLite's order of text: NULL first, then by code point. */
function byCategory(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
