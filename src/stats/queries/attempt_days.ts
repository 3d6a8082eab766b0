/**
 * Attempt and decision figures over a period from the day rollups of
 * migration 0006: whole UTC days from `attempt_days`, `attempt_latency_days`
 * and `decision_days`, the partial days at the period's ends from the rows
 * (latency.ts's {@linkcode attemptRows}). Latency percentiles find their
 * bucket in the rollups and read only that bucket's values from the rows,
 * so they stay exact. tests/attempt_rollup_test.ts compares every answer
 * with the rows-only one.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { arrays, num, strOrNull } from "./_sql.ts";
import { daySourceParams } from "./_days.ts";
import { type AttemptRow, attemptRows } from "./latency.ts";
import { bucketRange, latencyBucket } from "../../storage/day_rollups_repo.ts";

/** Attempts may start after their request; rows are found by their own index first. */
const ATTEMPT_SLACK_MS = 86_400_000;

/** Sums over a period's attempts, split the ways the stats views need. */
export interface AttemptSums {
  total: number;
  ok: number;
  requests: number;
  retried: number;
  bytesOut: number;
  latencySum: number;
  latencyN: number;
  /** Per account id: attempts and first choices. */
  perAccount: Map<number, { n: number; first: number }>;
  /** Per provider (null when the request row named none): successful and failed attempts. */
  perProvider: Map<string | null, { ok: number; failed: number }>;
  /** Latency bucket counts, for {@linkcode attemptLatencyPercentiles}. */
  buckets: Map<number, number>;
  /** The edge rows' latencies by bucket (they are not in the rollups). */
  edgeLatencies: Map<number, number[]>;
  /** The whole days read from rollups, `[from, to)` (empty when from === to). */
  from: number;
  to: number;
}

/**
 * Whether `p` holds a whole UTC day (and the rollups are on). Without one,
 * the callers run their row queries as they were before the rollups: the
 * reference tests/attempt_rollup_test.ts compares the rollup path with.
 */
export function hasWholeDays(p: StatsPeriod): boolean {
  const [from, to] = daySourceParams(p);
  return from < to;
}

/** The partial days at both ends of `p` and the whole days between, as daySourceParams cuts them. */
function cut(p: StatsPeriod): { from: number; to: number; edges: StatsPeriod[] } {
  const [from, to, s1, e1, s2, e2] = daySourceParams(p);
  const edges: StatsPeriod[] = [];
  if (e1 > s1) edges.push({ ...p, start: s1, end: e1 });
  if (e2 > s2) edges.push({ ...p, start: s2, end: e2 });
  return { from, to, edges };
}

const ATTEMPT_ROLLUP = `SELECT account_id, provider_id, ok, total(n), total(first),
  total(requests), total(retried), total(bytes_out), total(latency_sum), total(latency_n)
  FROM attempt_days WHERE day >= ? AND day < ? GROUP BY account_id, provider_id, ok
  HAVING total(n) <> 0`;

const LATENCY_ROLLUP = `SELECT buckets FROM attempt_latency_days WHERE day >= ? AND day < ?`;

/** Every attempt of the period's requests (unfiltered), summed. */
export function attemptSums(db: Db, p: StatsPeriod): AttemptSums {
  const { from, to, edges } = cut(p);
  const s: AttemptSums = {
    total: 0,
    ok: 0,
    requests: 0,
    retried: 0,
    bytesOut: 0,
    latencySum: 0,
    latencyN: 0,
    perAccount: new Map(),
    perProvider: new Map(),
    buckets: new Map(),
    edgeLatencies: new Map(),
    from,
    to,
  };
  const account = (id: number) =>
    s.perAccount.get(id) ?? s.perAccount.set(id, { n: 0, first: 0 }).get(id)!;
  const provider = (id: string | null) =>
    s.perProvider.get(id) ?? s.perProvider.set(id, { ok: 0, failed: 0 }).get(id)!;
  if (from < to) {
    for (const r of arrays(db, ATTEMPT_ROLLUP, [from, to])) {
      const n = num(r[3]);
      const a = account(num(r[0]));
      a.n += n;
      a.first += num(r[4]);
      const pv = provider(r[1] === "" ? null : strOrNull(r[1]));
      if (num(r[2]) === 1) (pv.ok += n), (s.ok += n);
      else pv.failed += n;
      s.total += n;
      s.requests += num(r[5]);
      s.retried += num(r[6]);
      s.bytesOut += num(r[7]);
      s.latencySum += num(r[8]);
      s.latencyN += num(r[9]);
    }
    for (const [json] of arrays(db, LATENCY_ROLLUP, [from, to])) {
      for (const [b, n] of Object.entries(JSON.parse(String(json)) as Record<string, number>)) {
        if (n !== 0) s.buckets.set(Number(b), (s.buckets.get(Number(b)) ?? 0) + n);
      }
    }
  }
  for (const edge of edges) {
    const rows: AttemptRow[] = attemptRows(db, edge, {});
    const perRequest = new Map<number, number>();
    for (const a of rows) {
      perRequest.set(a.requestId, (perRequest.get(a.requestId) ?? 0) + 1);
      const c = account(a.accountId);
      c.n++;
      if (a.attemptNumber === 1) c.first++;
      const pv = provider(a.providerId);
      if (a.ok) (pv.ok++, s.ok++);
      else pv.failed++;
      s.total++;
      s.bytesOut += a.bytesOut;
      if (a.latencyMs !== null) {
        s.latencySum += a.latencyMs;
        s.latencyN++;
        const b = latencyBucket(a.latencyMs);
        s.buckets.set(b, (s.buckets.get(b) ?? 0) + 1);
        (s.edgeLatencies.get(b) ?? s.edgeLatencies.set(b, []).get(b)!).push(a.latencyMs);
      }
    }
    s.requests += perRequest.size;
    for (const n of perRequest.values()) if (n > 1) s.retried++;
  }
  return s;
}

/**
 * Nearest-rank percentiles `ps` of the attempt latencies summed in `s`:
 * the bucket holding each rank comes from the bucket counts, then only the
 * values of those buckets are read from the whole days' rows.
 */
export function attemptLatencyPercentiles(
  db: Db,
  s: AttemptSums,
  ps: readonly number[],
): (number | null)[] {
  const total = s.latencyN;
  if (total === 0) return ps.map(() => null);
  const order = [...s.buckets.keys()].sort((a, b) => a - b);
  // Each percentile's bucket and its rank inside it (0-based).
  const wanted = ps.map((pct) => {
    const rank = Math.max(1, Math.ceil((pct / 100) * total)) - 1;
    let before = 0;
    for (const b of order) {
      const n = s.buckets.get(b)!;
      if (rank < before + n) return { bucket: b, index: rank - before };
      before += n;
    }
    return { bucket: order[order.length - 1], index: s.buckets.get(order[order.length - 1])! - 1 };
  });
  const buckets = [...new Set(wanted.map((w) => w.bucket))];
  const values = new Map<number, number[]>(
    buckets.map((b) => [b, [...(s.edgeLatencies.get(b) ?? [])]]),
  );
  if (s.from < s.to) {
    const ranges = buckets.map(bucketRange);
    const within = (col: string) =>
      `(${ranges.map(() => `(${col} >= ? AND ${col} < ?)`).join(" OR ")})`;
    const bounds = ranges.flat();
    const stored =
      `SELECT ra.latency_ms FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
      WHERE ra.started_at >= ? AND ra.started_at < ? AND r.started_at >= ? AND r.started_at < ?
      AND ${within("ra.latency_ms")}`;
    const single = `SELECT r.latency_ms FROM requests r
      WHERE r.started_at >= ? AND r.started_at < ? AND r.attempt_count = 1
      AND r.account_id IS NOT NULL AND ${within("r.latency_ms")}
      AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = r.id)`;
    const add = (v: unknown) => {
      const ms = Number(v);
      values.get(latencyBucket(ms))?.push(ms);
    };
    for (
      const [v] of arrays(db, stored, [s.from, s.to + ATTEMPT_SLACK_MS, s.from, s.to, ...bounds])
    ) add(v);
    for (const [v] of arrays(db, single, [s.from, s.to, ...bounds])) add(v);
  }
  const sorted = new Map([...values].map(([b, list]) => [b, Float64Array.from(list).sort()]));
  return wanted.map(({ bucket, index }) => {
    const list = sorted.get(bucket)!;
    // Counts and rows agree unless an attempt started over a day after its request.
    return list.length === 0 ? null : list[Math.min(index, list.length - 1)];
  });
}

const DECISION_ROLLUP = `SELECT total(decisions), total(eligible) FROM decision_days
  WHERE day >= ? AND day < ?`;

const DECISION_RAW = `SELECT count(*), total(json_extract(d.value, '$[5]'))
  FROM requests r, json_each(r.routing_json) d
  WHERE r.started_at >= ? AND r.started_at < ? AND r.routing_json IS NOT NULL`;

/** Routing decisions stored for the period's requests and the sum of their eligible counts. */
export function decisionSums(db: Db, p: StatsPeriod): { decisions: number; eligible: number } {
  const { from, to, edges } = cut(p);
  let decisions = 0;
  let eligible = 0;
  if (from < to) {
    const [r] = arrays(db, DECISION_ROLLUP, [from, to]);
    decisions += num(r[0]);
    eligible += num(r[1]);
  }
  for (const e of edges) {
    const [r] = arrays(db, DECISION_RAW, [e.start, e.end]);
    decisions += num(r[0]);
    eligible += num(r[1]);
  }
  return { decisions, eligible };
}

const RETRY_ROLLUP = `SELECT category, account_id, total(n), total(category_requests)
  FROM attempt_days WHERE day >= ? AND day < ? AND ok = 0 GROUP BY category, account_id
  HAVING total(n) <> 0`;

const RETRY_RAW = `SELECT ra.request_id, ra.attempt_number, ra.retry_category, ra.account_id
  FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
  WHERE ra.started_at >= ? AND ra.started_at < ? AND r.started_at >= ? AND r.started_at < ?
  AND ra.error_class IS NOT NULL`;

/** Failed attempts per retry category: attempts, distinct requests, distinct accounts. */
export function retrySums(
  db: Db,
  p: StatsPeriod,
): Map<string | null, { n: number; requests: number; accounts: Set<number> }> {
  const { from, to, edges } = cut(p);
  const out = new Map<string | null, { n: number; requests: number; accounts: Set<number> }>();
  const entry = (c: string | null) =>
    out.get(c) ?? out.set(c, { n: 0, requests: 0, accounts: new Set() }).get(c)!;
  if (from < to) {
    for (const [c, a, n, req] of arrays(db, RETRY_ROLLUP, [from, to])) {
      const e = entry(c === "" ? null : strOrNull(c));
      e.n += num(n);
      e.requests += num(req);
      e.accounts.add(num(a));
    }
  }
  for (const edge of edges) {
    const seen = new Set<string>();
    const params = [edge.start, edge.end + ATTEMPT_SLACK_MS, edge.start, edge.end];
    for (const [rid, , c, a] of arrays(db, RETRY_RAW, params)) {
      const e = entry(strOrNull(c));
      e.n++;
      e.accounts.add(num(a));
      const k = `${rid}\u0000${c}`;
      if (!seen.has(k)) (seen.add(k), e.requests++);
    }
  }
  return out;
}

const DAY_MS = 86_400_000;

/**
 * When the latest request of the period with a stored routing decision
 * started (null when none): `decision_days` names the days that have one,
 * so only those days' rows are searched, newest first.
 */
export function latestDecisionAt(db: Db, p: StatsPeriod): number | null {
  const days = db.stmt(
    `SELECT day FROM decision_days WHERE day >= ? AND day < ? AND decisions > 0
      ORDER BY day DESC`,
  ).all(Math.floor(p.start / DAY_MS) * DAY_MS, p.end);
  const latest = db.stmt(
    `SELECT started_at FROM requests WHERE started_at >= ? AND started_at < ?
      AND routing_json IS NOT NULL ORDER BY started_at DESC LIMIT 1`,
  );
  for (const { day } of days) {
    const row = latest.get(Math.max(Number(day), p.start), Math.min(Number(day) + DAY_MS, p.end));
    if (row !== undefined) return Number(row.started_at);
  }
  return null;
}
