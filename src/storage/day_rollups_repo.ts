/**
 * Writes the day rollups of migration 0004 (`request_days`,
 * `routing_exclusion_days`) for request rows the recorder writes. Each row's
 * contribution is computed here from the very values bound to its INSERT or
 * UPDATE and summed in memory, so a batch of a hundred requests costs one
 * upsert per distinct (day, account, provider, model, routed) key instead of
 * one per row (a trigger per insert measured +19 µs of SQLite CPU per row,
 * more than the 5 % of the proxy's CPU per request that issue #14 allows).
 * Deletes (retention) are followed by a trigger, which is off the insert path.
 */
import type { Db } from "./db.ts";

const DAY_MS = 86_400_000;

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

const b = (v: boolean) => (v ? 1 : 0);

/** One row's counters, in {@linkcode COUNTERS} order, times `sign`. */
function counters(r: DayRowValues, sign: number): number[] {
  const completed = r.status === "completed";
  const tps = completed && r.outputTokens > 0;
  const routed = r.attemptCount > 0;
  const out = [
    1,
    b(completed),
    b(r.status === "error" || r.status === "interrupted"),
    b(r.status === "interrupted"),
    b(r.status === "client_error"),
    b(r.status === "cancelled"),
    b(r.status === "pending"),
    b(r.streamed),
    b(r.attemptCount > 1),
    ...EXACTNESS.map((e) => b(r.exactness === e)),
    r.exactness === "provider_reported" ? r.costMicros : 0,
    r.exactness === "estimated" ? r.costMicros : 0,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.reasoningTokens,
    r.costMicros,
    r.bytesIn,
    r.bytesOut,
    routed ? r.latencyMs ?? 0 : 0,
    b(routed && r.latencyMs !== null),
    r.streamed ? r.firstByteMs ?? 0 : 0,
    b(r.streamed && r.firstByteMs !== null),
    tps ? r.outputTokens : 0,
    tps ? r.latencyMs ?? 0 : 0,
  ];
  if (sign !== 1) { for (let i = 0; i < out.length; i++) out[i] *= sign; }
  return out;
}

/** Sums of request rows written in one transaction, upserted by {@linkcode write}. */
export class DayRollups {
  #days = new Map<string, (number | string)[]>();
  #exclusions = new Map<string, (number | string)[]>();

  /** Adds a row's contribution (`sign` -1 takes it out: the pending row a finalize replaces). */
  add(r: DayRowValues, sign = 1): void {
    const day = Math.floor(r.startedAt / DAY_MS) * DAY_MS;
    const key = [r.accountId ?? 0, r.providerId ?? "", r.modelId ?? "", b(r.attemptCount > 0)];
    const k = `${day}\u0000${key.join("\u0000")}`;
    const c = counters(r, sign);
    const had = this.#days.get(k);
    if (had === undefined) this.#days.set(k, [day, ...key, ...c]);
    else for (let i = 0; i < c.length; i++) (had[5 + i] as number) += c[i];
    if (r.routingJson !== null) this.#addExclusions(day, r.routingJson, sign);
  }

  #addExclusions(day: number, json: string, sign: number): void {
    // Reasons are the only strings a decision holds besides a requested provider.
    if (!json.includes('"')) return;
    const seen = new Set<string>();
    for (const d of JSON.parse(json) as unknown[][]) {
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
    this.#days.clear();
    this.#exclusions.clear();
  }
}

/** What a pending row (a request written at its start, without outcome) holds. */
export function pendingValues(
  startedAt: number,
  streamed: boolean,
  bytesIn: number,
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
  };
}
