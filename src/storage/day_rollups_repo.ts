/**
 * Writes the rollups of migrations 0004 (`request_days`,
 * `routing_exclusion_days`), 0005 (`request_hours`, `account_hours`,
 * `client_ip_days`, `phase_days`) and 0006 (`attempt_days`,
 * `attempt_latency_days`, `decision_days`) for request and attempt rows the
 * recorder writes, and takes the days whose TTFTs change out of the TTFT cache
 * (`ttft_days_done`). Each row's
 * contribution is computed here from the very values bound to its INSERT or
 * UPDATE and summed in memory, so a batch of a hundred requests costs one
 * upsert per distinct (day, account, provider, model, routed) key instead of
 * one per row (a trigger per insert measured +19 µs of SQLite CPU per row,
 * more than the 5 % of the proxy's CPU per request that issue #14 allows).
 * Deletes (retention) are followed by a trigger, which is off the insert path.
 */
import type { Db } from "./db.ts";
import { watchedHourWrites } from "./hour_writes.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A request row's values that the day rollups sum, as stored. */
export interface DayRowValues {
  startedAt: number;
  accountId: number | null;
  providerId: string | null;
  modelId: string | null;
  streamed: boolean;
  status: string;
  attemptCount: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costMicros: number;
  exactness: string;
  latencyMs: number | null;
  firstByteMs: number | null;
  bytesIn: number;
  bytesOut: number;
  routingJson: string | null;
  /**
   * The decisions in `routingJson` and the sum of their eligible counts, when
   * the writer knows them without parsing it (the recorder encodes them).
   */
  decisionCounts?: { decisions: number; eligible: number };
  clientIp: string | null;
  firstAttemptAt: number | null;
}

/** The counters of `request_days` in column order (after the five key columns). */
const COUNTERS = [
  "n",
  "successful",
  "errors",
  "interrupted",
  "client_errors",
  "cancelled",
  "pending",
  "streamed",
  "failed_over",
  "x_exact",
  "x_derived",
  "x_partial",
  "x_estimated",
  "x_unknown",
  "x_provider_reported",
  "pr_cost",
  "est_cost",
  "input",
  "output",
  "cache_read",
  "cache_write",
  "reasoning",
  "cost",
  "bytes_in",
  "bytes_out",
  "latency_sum",
  "latency_n",
  "ttft_sum",
  "ttft_n",
  "tps_tokens",
  "tps_ms",
] as const;

const EXACTNESS = ["exact", "derived", "partial", "estimated", "unknown", "provider_reported"];

const UPSERT_DAY = `INSERT INTO request_days VALUES (${
  Array(5 + COUNTERS.length).fill("?").join(", ")
}) ON CONFLICT DO UPDATE SET ${COUNTERS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`;

const UPSERT_EXCLUSION = `INSERT INTO routing_exclusion_days VALUES (?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET exclusions = exclusions + excluded.exclusions,
  requests = requests + excluded.requests`;

const UPSERT_ATTEMPT = `INSERT INTO attempt_days VALUES (${Array(13).fill("?").join(", ")})
  ON CONFLICT DO UPDATE SET n = n + excluded.n, first = first + excluded.first,
  requests = requests + excluded.requests, retried = retried + excluded.retried,
  category_requests = category_requests + excluded.category_requests,
  bytes_out = bytes_out + excluded.bytes_out, latency_sum = latency_sum + excluded.latency_sum,
  latency_n = latency_n + excluded.latency_n`;

const READ_LATENCY = "SELECT buckets FROM attempt_latency_days WHERE day = ?";
const UPSERT_LATENCY = `INSERT INTO attempt_latency_days VALUES (?, ?)
  ON CONFLICT DO UPDATE SET buckets = excluded.buckets`;

const UPSERT_DECISIONS = `INSERT INTO decision_days VALUES (?, ?, ?)
  ON CONFLICT DO UPDATE SET decisions = decisions + excluded.decisions,
  eligible = eligible + excluded.eligible`;

/**
 * The `attempt_latency_days` bucket of a latency: 64 ms wide below 4 096 ms,
 * 1 024 ms above (the SQL of migration 0006 computes the same).
 */
export function latencyBucket(ms: number): number {
  return ms < 4096 ? Math.max(0, Math.trunc(ms / 64)) : 64 + Math.trunc(ms / 1024);
}

/** The latencies `[lo, hi)` of a {@linkcode latencyBucket}. */
export function bucketRange(bucket: number): [number, number] {
  if (bucket < 64) return [bucket === 0 ? Number.MIN_SAFE_INTEGER : bucket * 64, bucket * 64 + 64];
  return [(bucket - 64) * 1024, (bucket - 63) * 1024];
}

/** One attempt as the stats count it (a stored attempt row, or a request's lone success). */
export interface AttemptDayValues {
  accountId: number;
  /** "" when none. */
  providerId: string;
  attemptNumber: number;
  ok: boolean;
  /** The retry category of a failed attempt, "" when none. */
  category: string;
  bytesOut: number;
  latencyMs: number | null;
}

/** The counters of `request_hours` and `account_hours` (0005) in column order, after the keys. */
const HOUR_COUNTERS = [
  "n",
  "successful",
  "errors",
  "input",
  "output",
  "cache_read",
  "cache_write",
  "reasoning",
  "cost",
  "bytes_in",
  "bytes_out",
  "latency_sum",
  "latency_n",
  "ttft_sum",
  "ttft_n",
] as const;

const HOUR_SET = HOUR_COUNTERS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ");
const UPSERT_HOUR = `INSERT INTO request_hours VALUES (${
  Array(3 + HOUR_COUNTERS.length).fill("?").join(", ")
}) ON CONFLICT DO UPDATE SET ${HOUR_SET}`;
const UPSERT_ACCOUNT_HOUR = `INSERT INTO account_hours VALUES (${
  Array(2 + HOUR_COUNTERS.length).fill("?").join(", ")
}) ON CONFLICT DO UPDATE SET ${HOUR_SET}`;

const UPSERT_IP = `INSERT INTO client_ip_days VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, errors = errors + excluded.errors,
  rejected = rejected + excluded.rejected, tokens = tokens + excluded.tokens,
  bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
  first_at = CASE WHEN first_at IS NULL OR excluded.first_at < first_at
    THEN coalesce(excluded.first_at, first_at) ELSE first_at END,
  last_at = CASE WHEN last_at IS NULL OR excluded.last_at > last_at
    THEN coalesce(excluded.last_at, last_at) ELSE last_at END`;

/** A day whose TTFT cache (`ttft_days`, 0005) no longer holds: the next read sums it again. */
const TTFT_STALE = "DELETE FROM ttft_days_done WHERE day = ?";

const UPSERT_PHASES = `INSERT INTO phase_days VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, overhead = overhead + excluded.overhead,
  wait = wait + excluded.wait, read = read + excluded.read, latency = latency + excluded.latency`;

const EXACT_AT = 9; // index of x_exact in COUNTERS

/** Adds one row's counters times `sign` into `to` (a row: 5 key values, then COUNTERS). */
function accumulate(to: (number | string)[], r: DayRowValues, sign: number): void {
  const c = to as number[];
  const completed = r.status === "completed";
  const tps = completed && r.outputTokens > 0;
  const routed = r.attemptCount > 0;
  c[5] += sign;
  if (completed) c[6] += sign;
  else if (r.status === "error") c[7] += sign;
  else if (r.status === "interrupted") (c[7] += sign), (c[8] += sign);
  else if (r.status === "client_error") c[9] += sign;
  else if (r.status === "cancelled") c[10] += sign;
  else if (r.status === "pending") c[11] += sign;
  if (r.streamed) c[12] += sign;
  if (r.attemptCount > 1) c[13] += sign;
  const x = EXACTNESS.indexOf(r.exactness);
  if (x >= 0) c[5 + EXACT_AT + x] += sign;
  if (r.exactness === "provider_reported") c[20] += sign * r.costMicros;
  else if (r.exactness === "estimated") c[21] += sign * r.costMicros;
  c[22] += sign * r.inputTokens;
  c[23] += sign * r.outputTokens;
  c[24] += sign * r.cacheReadTokens;
  c[25] += sign * r.cacheWriteTokens;
  c[26] += sign * r.reasoningTokens;
  c[27] += sign * r.costMicros;
  c[28] += sign * r.bytesIn;
  c[29] += sign * r.bytesOut;
  if (routed && r.latencyMs !== null) (c[30] += sign * r.latencyMs), (c[31] += sign);
  if (r.streamed && r.firstByteMs !== null) (c[32] += sign * r.firstByteMs), (c[33] += sign);
  if (tps) (c[34] += sign * r.outputTokens), (c[35] += sign * (r.latencyMs ?? 0));
}

/**
 * Adds one row's hour counters times `sign` into `to`, whose counters start
 * at `at` (after the key values), in HOUR_COUNTERS order.
 */
function accumulateHour(to: (number | string)[], at: number, r: DayRowValues, sign: number): void {
  const c = to as number[];
  c[at] += sign;
  if (r.status === "completed") c[at + 1] += sign;
  else if (r.status === "error" || r.status === "interrupted") c[at + 2] += sign;
  c[at + 3] += sign * r.inputTokens;
  c[at + 4] += sign * r.outputTokens;
  c[at + 5] += sign * r.cacheReadTokens;
  c[at + 6] += sign * r.cacheWriteTokens;
  c[at + 7] += sign * r.reasoningTokens;
  c[at + 8] += sign * r.costMicros;
  c[at + 9] += sign * r.bytesIn;
  c[at + 10] += sign * r.bytesOut;
  if (r.attemptCount > 0 && r.latencyMs !== null) {
    c[at + 11] += sign * r.latencyMs;
    c[at + 12] += sign;
  }
  if (r.streamed && r.firstByteMs !== null) {
    (c[at + 13] += sign * r.firstByteMs), (c[at + 14] += sign);
  }
}

/** Sums of request rows written in one transaction, upserted by {@linkcode DayRollups.write}. */
export class DayRollups {
  #days = new Map<string, (number | string)[]>();
  #exclusions = new Map<string, (number | string)[]>();
  #attempts = new Map<string, (number | string)[]>();
  #latency = new Map<number, Map<number, number>>();
  #decisions = new Map<number, [number, number, number]>();
  #hours = new Map<string, (number | string)[]>();
  #accountHours = new Map<string, (number | string)[]>();
  #ips = new Map<string, (number | string | null)[]>();
  #ttftDays = new Set<number>();
  #phases = new Map<number, number[]>();
  readonly #with0005: boolean;
  readonly #with0006: boolean;

  /**
   * Which migrations' rollups to keep beside 0004's day tables: all of them
   * for the recorder; scripts/bench_stats.ts measures each one's share of the
   * insert path by leaving it out.
   */
  constructor(parts: { with0005?: boolean; with0006?: boolean } = {}) {
    this.#with0005 = parts.with0005 ?? true;
    this.#with0006 = parts.with0006 ?? true;
  }

  /**
   * Adds the attempts of one request that started at `startedAt`: its stored
   * attempt rows, or, when it has none, the lone successful attempt its
   * request row describes (pass that one alone). `sign` -1 takes them out.
   */
  addAttempts(startedAt: number, attempts: readonly AttemptDayValues[], sign = 1): void {
    if (attempts.length === 0 || !this.#with0006) return;
    const day = Math.floor(startedAt / DAY_MS) * DAY_MS;
    let head = attempts[0].attemptNumber;
    for (const a of attempts) if (a.attemptNumber < head) head = a.attemptNumber;
    const multi = attempts.length > 1;
    for (const a of attempts) {
      const ok = a.ok ? 1 : 0;
      const category = a.ok ? "" : a.category;
      const k = `${day}|${a.accountId}|${ok}|${a.providerId}\u0000${category}`;
      let row = this.#attempts.get(k) as number[] | undefined;
      if (row === undefined) {
        row = [day, a.accountId, a.providerId, ok, category, 0, 0, 0, 0, 0, 0, 0, 0] as number[];
        this.#attempts.set(k, row);
      }
      row[5] += sign;
      if (a.attemptNumber === 1) row[6] += sign;
      if (a.attemptNumber === head) {
        row[7] += sign;
        if (multi) row[8] += sign;
      }
      if (!a.ok && isCategoryHead(attempts, a)) row[9] += sign;
      row[10] += sign * a.bytesOut;
      if (a.latencyMs !== null) {
        row[11] += sign * a.latencyMs;
        row[12] += sign;
        let buckets = this.#latency.get(day);
        if (buckets === undefined) this.#latency.set(day, buckets = new Map());
        const b = latencyBucket(a.latencyMs);
        buckets.set(b, (buckets.get(b) ?? 0) + sign);
      }
    }
  }

  /** Adds a row's contribution (`sign` -1 takes it out: the pending row a finalize replaces). */
  add(r: DayRowValues, sign = 1): void {
    const day = Math.floor(r.startedAt / DAY_MS) * DAY_MS;
    const routed = r.attemptCount > 0 ? 1 : 0;
    const k = `${day}|${r.accountId ?? 0}|${routed}|${r.providerId ?? ""}\u0000${r.modelId ?? ""}`;
    let row = this.#days.get(k);
    if (row === undefined) {
      row = [day, r.accountId ?? 0, r.providerId ?? "", r.modelId ?? "", routed];
      for (let i = 0; i < COUNTERS.length; i++) row.push(0);
      this.#days.set(k, row);
    }
    accumulate(row, r, sign);
    if (r.routingJson !== null) this.#addDecisions(day, r.routingJson, sign, r.decisionCounts);
    if (!this.#with0005) return;
    this.#addHour(r, sign);
    this.#addIp(day, r, sign);
    if (r.streamed && r.firstByteMs !== null) this.#ttftDays.add(day);
    if (
      r.status === "completed" && r.firstAttemptAt !== null && r.firstByteMs !== null &&
      r.latencyMs !== null
    ) {
      let p = this.#phases.get(day);
      if (p === undefined) this.#phases.set(day, p = [day, 0, 0, 0, 0, 0]);
      const overhead = r.firstAttemptAt - r.startedAt;
      p[1] += sign;
      p[2] += sign * overhead;
      p[3] += sign * (r.firstByteMs - overhead);
      p[4] += sign * (r.latencyMs - r.firstByteMs);
      p[5] += sign * r.latencyMs;
    }
  }

  #addHour(r: DayRowValues, sign: number): void {
    const hour = Math.floor(r.startedAt / HOUR_MS) * HOUR_MS;
    const k = `${hour}|${r.providerId ?? ""}\u0000${r.modelId ?? ""}`;
    let row = this.#hours.get(k);
    if (row === undefined) {
      row = [hour, r.providerId ?? "", r.modelId ?? ""];
      for (let i = 0; i < HOUR_COUNTERS.length; i++) row.push(0);
      this.#hours.set(k, row);
    }
    accumulateHour(row, 3, r, sign);
    const ka = `${hour}|${r.accountId ?? 0}`;
    let byAccount = this.#accountHours.get(ka);
    if (byAccount === undefined) {
      byAccount = [hour, r.accountId ?? 0];
      for (let i = 0; i < HOUR_COUNTERS.length; i++) byAccount.push(0);
      this.#accountHours.set(ka, byAccount);
    }
    accumulateHour(byAccount, 2, r, sign);
  }

  #addIp(day: number, r: DayRowValues, sign: number): void {
    const ip = r.clientIp ?? "";
    const k = `${day}|${ip}`;
    let row = this.#ips.get(k);
    if (row === undefined) this.#ips.set(k, row = [day, ip, 0, 0, 0, 0, 0, 0, null, null]);
    const c = row as number[];
    c[2] += sign;
    if (r.status === "error" || r.status === "interrupted") c[3] += sign;
    else if (r.status === "client_error" && r.attemptCount === 0) c[4] += sign;
    c[5] += sign * (r.inputTokens + r.outputTokens);
    c[6] += sign * r.bytesIn;
    c[7] += sign * r.bytesOut;
    // A row taken out (the pending row a finalize replaces) keeps its start in the table.
    if (sign > 0) {
      if (row[8] === null || r.startedAt < c[8]) row[8] = r.startedAt;
      if (row[9] === null || r.startedAt > c[9]) row[9] = r.startedAt;
    }
  }

  #addDecisions(
    day: number,
    json: string,
    sign: number,
    known: DayRowValues["decisionCounts"],
  ): void {
    // Reasons are the only strings a decision holds besides a requested provider.
    const quoted = json.includes('"');
    let decisions: unknown[][] | undefined;
    if (this.#with0006) {
      let counts = known;
      if (counts === undefined) {
        decisions = JSON.parse(json) as unknown[][];
        let eligible = 0;
        for (const d of decisions) if (typeof d[5] === "number") eligible += d[5];
        counts = { decisions: decisions.length, eligible };
      }
      const row = this.#decisions.get(day) ??
        this.#decisions.set(day, [day, 0, 0]).get(day)!;
      row[1] += sign * counts.decisions;
      row[2] += sign * counts.eligible;
    }
    if (!quoted) return;
    decisions ??= JSON.parse(json) as unknown[][];
    const seen = new Set<string>();
    for (const d of decisions) {
      const list = d[7];
      if (!Array.isArray(list)) continue;
      for (const e of list as unknown[][]) {
        const aid = typeof e[0] === "number" ? e[0] : 0;
        const reason = typeof e[1] === "string" ? e[1] : "";
        const k = `${day}\u0000${aid}\u0000${reason}`;
        const had = this.#exclusions.get(k);
        const first = !seen.has(k);
        seen.add(k);
        if (had === undefined) this.#exclusions.set(k, [day, aid, reason, sign, first ? sign : 0]);
        else {
          (had[3] as number) += sign;
          if (first) (had[4] as number) += sign;
        }
      }
    }
  }

  /** Upserts the sums into the rollup tables and forgets them. */
  write(db: Db): void {
    if (this.#days.size > 0) {
      const stmt = db.stmt(UPSERT_DAY);
      for (const row of this.#days.values()) stmt.run(...row);
    }
    if (this.#exclusions.size > 0) {
      const stmt = db.stmt(UPSERT_EXCLUSION);
      for (const row of this.#exclusions.values()) stmt.run(...row);
    }
    if (this.#attempts.size > 0) {
      const stmt = db.stmt(UPSERT_ATTEMPT);
      for (const row of this.#attempts.values()) stmt.run(...row);
    }
    if (this.#latency.size > 0) {
      // One JSON object of counts per day: read, added to, written back.
      const read = db.stmt(READ_LATENCY);
      const upsert = db.stmt(UPSERT_LATENCY);
      for (const [day, buckets] of this.#latency) {
        const had = read.get(day)?.buckets;
        const counts = had === undefined ? {} : JSON.parse(String(had)) as Record<string, number>;
        for (const [b, n] of buckets) counts[b] = (counts[b] ?? 0) + n;
        upsert.run(day, JSON.stringify(counts));
      }
    }
    if (this.#decisions.size > 0) {
      const stmt = db.stmt(UPSERT_DECISIONS);
      for (const row of this.#decisions.values()) stmt.run(...row);
    }
    const watch = watchedHourWrites(db);
    if (watch !== undefined) {
      for (const row of this.#hours.values()) watch.hours.add(row[0] as number);
      for (const row of this.#accountHours.values()) watch.hours.add(row[0] as number);
    }
    this.#upsertAll(db, UPSERT_HOUR, this.#hours.values());
    this.#upsertAll(db, UPSERT_ACCOUNT_HOUR, this.#accountHours.values());
    this.#upsertAll(db, UPSERT_IP, this.#ips.values());
    this.#upsertAll(db, TTFT_STALE, [...this.#ttftDays].map((d) => [d]));
    this.#upsertAll(db, UPSERT_PHASES, this.#phases.values());
    this.#days.clear();
    this.#exclusions.clear();
    this.#attempts.clear();
    this.#latency.clear();
    this.#decisions.clear();
    this.#hours.clear();
    this.#accountHours.clear();
    this.#ips.clear();
    this.#ttftDays.clear();
    this.#phases.clear();
  }

  #upsertAll(db: Db, sql: string, rows: Iterable<(number | string | null)[]>): void {
    let stmt;
    for (const row of rows) (stmt ??= db.stmt(sql)).run(...row);
  }
}

/** Whether `a` is the first failed attempt of its retry category among `attempts`. */
function isCategoryHead(attempts: readonly AttemptDayValues[], a: AttemptDayValues): boolean {
  for (const o of attempts) {
    if (!o.ok && o.category === a.category && o.attemptNumber < a.attemptNumber) return false;
  }
  return true;
}

/** What a pending row (a request written at its start, without outcome) holds. */
export function pendingValues(
  startedAt: number,
  streamed: boolean,
  bytesIn: number,
  clientIp: string | null,
): DayRowValues {
  return {
    startedAt,
    accountId: null,
    providerId: null,
    modelId: null,
    streamed,
    status: "pending",
    attemptCount: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    exactness: "unknown",
    latencyMs: null,
    firstByteMs: null,
    bytesIn,
    bytesOut: 0,
    routingJson: null,
    clientIp,
    firstAttemptAt: null,
  };
}
