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

/** Sums of request rows written in one transaction, upserted by {@linkcode DayRollups.write}. */
export class DayRollups {
  #days = new Map<string, (number | string)[]>();
  #exclusions = new Map<string, (number | string)[]>();

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
