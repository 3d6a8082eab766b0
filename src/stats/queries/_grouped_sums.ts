/**
 * The sums behind `/api/timeseries/grouped` (grouped.ts): the rows of a
 * period, from the request rows, the day rollups or the hour cache, added to
 * their series; the cells of the kept series and "Other" once the ranking is
 * known.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { IN_PERIOD, num } from "./_sql.ts";
import { DAY_SOURCE } from "./_days.ts";
import { HOUR_MS, splitPeriod } from "./_slots.ts";
import { hourRows } from "./_hour_rows.ts";
import type { HourRows } from "./_hour_rows.ts";
import type { UsageFilters } from "./usage.ts";

/** What a series is: provider and model, provider, model or account. */
export type GroupBy = "provider_model" | "provider" | "model" | "account";

/** Shown for requests no upstream saw (no provider, model or account). */
export const UNROUTED = "(unrouted)";

/** The columns each grouping needs; grouping by fewer keeps the sort small. */
const DIMENSIONS: Readonly<
  Record<GroupBy, { provider: boolean; model: boolean; account: boolean }>
> = {
  provider_model: { provider: true, model: true, account: false },
  provider: { provider: true, model: false, account: false },
  model: { provider: false, model: true, account: false },
  account: { provider: false, model: false, account: true },
};

/**
 * The grouped sums over request rows (hour buckets, bound by `range` then the
 * filters) or over `DAY_SOURCE` (day buckets), one row per bucket and series.
 */
export function groupSql(step: number, by: GroupBy, filters: string, days: boolean): string {
  const d = DIMENSIONS[by];
  // Day buckets read the day rollups (_days.ts): `s` rows carry the counters
  // already; hour buckets sum the request rows `r` themselves.
  const t = days ? "s" : "r";
  const keys = [
    d.provider ? `${t}.provider_id` : null,
    d.model ? `${t}.model_id` : null,
    d.account ? `${t}.account_id` : null,
  ].filter((k) => k !== null);
  const sums = days
    ? `total(s.n) AS requests, total(s.errors) AS errors,
    total(s.input) AS input, total(s.output) AS output,
    total(s.cache_read) AS cache_read, total(s.cache_write) AS cache_write,
    total(s.reasoning) AS reasoning, total(s.cost) AS cost,
    total(s.bytes_in) AS bytes_in, total(s.bytes_out) AS bytes_out,
    total(s.latency_sum) AS latency_sum, total(s.latency_n) AS latency_n,
    total(s.ttft_sum) AS ttft_sum, total(s.ttft_n) AS ttft_n`
    : `count(*) AS requests,
    total(r.status = 'error' OR r.status = 'interrupted') AS errors,
    total(r.input_tokens) AS input, total(r.output_tokens) AS output,
    total(r.cache_read_tokens) AS cache_read, total(r.cache_write_tokens) AS cache_write,
    total(r.reasoning_tokens) AS reasoning, total(r.cost_microdollars) AS cost,
    total(r.bytes_in) AS bytes_in, total(r.bytes_out) AS bytes_out,
    total(CASE WHEN r.attempt_count > 0 THEN r.latency_ms END) AS latency_sum,
    count(CASE WHEN r.attempt_count > 0 THEN r.latency_ms END) AS latency_n,
    total(CASE WHEN r.streamed = 1 THEN r.first_byte_ms END) AS ttft_sum,
    count(CASE WHEN r.streamed = 1 THEN r.first_byte_ms END) AS ttft_n`;
  const source = days
    ? `(${DAY_SOURCE}) s WHERE true${filters}`
    : `requests r WHERE ${IN_PERIOD}${filters}`;
  return `SELECT g.*, a.name AS account, coalesce(g.provider_id, a.provider_id) AS provider
  FROM (SELECT ${days ? "s.b" : `(r.started_at / ${step}) * ${step}`} AS b,
    ${d.provider ? `${t}.provider_id` : "NULL AS provider_id"},
    ${d.model ? `${t}.model_id AS model` : "NULL AS model"},
    ${d.account ? `${t}.account_id` : "NULL AS account_id"}, ${sums}
    FROM ${source}
    GROUP BY ${["b", ...keys].join(", ")}) g
  LEFT JOIN accounts a ON a.id = g.account_id`;
}

/**
 * Adds the hour buckets to `acc`: the whole hours from `request_hours` (per
 * provider and model) or, grouped by account, `account_hours` (migration
 * 0005), through the per-connection copy of _hour_rows.ts; the partial hours
 * at the period's ends from the request rows through `rawSql`, whose first
 * two bind values are the range. A filter on the other dimension (an account
 * with a provider or model grouping, a model with the account grouping) is in
 * neither rollup: those views sum the rows.
 */
export function addHours(
  acc: Acc,
  db: Db,
  p: StatsPeriod,
  f: UsageFilters,
  rawSql: string,
  rawParams: readonly (number | string)[],
): void {
  const byAccount = acc.by === "account";
  const rowsOnly = byAccount ? f.modelId !== undefined : f.accountId !== undefined;
  const split = splitPeriod(p, HOUR_MS, rowsOnly);
  for (const e of split.edges) {
    for (const row of db.stmt(rawSql).all(...e, ...rawParams.slice(2))) acc.addRow(row);
  }
  if (split.from >= split.to) return;
  const hours = hourRows(db, byAccount ? "account_hours" : "request_hours", split.from, split.to);
  acc.wholeHours = { from: split.from, rows: hours };
  const seriesOfKey = keyResolver(acc, db, f);
  for (let i = 0; i < hours.length; i++) {
    const { keys, counters } = hours[i];
    for (let j = 0; j < keys.length; j++) {
      const s = seriesOfKey(keys[j]);
      if (s >= 0) acc.add(s, split.from + i * HOUR_MS, counters, j * F);
    }
  }
}

/**
 * The series index of an hour rollup row's key (see `HourRows`), -1 for a
 * row the filter leaves out; resolved once per key.
 */
function keyResolver(acc: Acc, db: Db, f: UsageFilters): (key: string) => number {
  const accounts = new Map<number, { name: string; provider: string }>();
  if (acc.by === "account") {
    for (const a of db.stmt("SELECT id, name, provider_id FROM accounts").all()) {
      accounts.set(Number(a.id), { name: String(a.name), provider: String(a.provider_id) });
    }
  }
  const known = new Map<string, number>();
  return (key) => {
    let s = known.get(key);
    if (s !== undefined) return s;
    if (acc.by === "account") {
      const id = Number(key);
      const a = accounts.get(id);
      s = f.accountId !== undefined && f.accountId !== id ? -1 : acc.series(
        seriesOf("account", {
          provider: a?.provider ?? null,
          model: null,
          account: a?.name ?? null,
        }),
      );
    } else {
      const [provider, model] = key.split("\u0000");
      s = f.modelId !== undefined && f.modelId !== model ? -1 : acc.series(seriesOf(acc.by, {
        provider: provider === "" ? null : provider,
        model: model === "" ? null : model,
        account: null,
      }));
    }
    known.set(key, s);
    return s;
  };
}

/**
 * The series of an answer and the rows added to them (from {@linkcode groupSql}
 * or the hour rollups), kept until the top `limit` are known and each row can
 * go straight into its bucket's cell of a kept series or of "Other".
 */
export class Acc {
  readonly ids: SeriesId[] = [];
  readonly totals: Float64Array[] = [];
  readonly #byKey = new Map<string, number>();
  /** Per added row: its series, its bucket (index from `base`) and, F apiece, its counters. */
  readonly #rowSeries: number[] = [];
  readonly #rowBucket: number[] = [];
  #values = new Float64Array(F * 1024);
  /** One row's counters on their way into `#values`. */
  readonly #scratch = new Float64Array(F);
  /** The hour cache's rows added, from hour `from` on (hour buckets only). */
  wholeHours?: { from: number; rows: HourRows[] };
  /** The first and last bucket index that has a row. */
  first = Infinity;
  last = -Infinity;
  constructor(readonly by: GroupBy, readonly base: number, readonly step: number) {}

  /** The index of the series `id`, added when new. */
  series(id: SeriesId): number {
    let s = this.#byKey.get(id.key);
    if (s === undefined) {
      this.#byKey.set(id.key, s = this.ids.length);
      this.ids.push(id);
      this.totals.push(new Float64Array(F));
    }
    return s;
  }

  /** Adds the counters `from[at .. at + F)` to series `s` in the bucket starting at `bucket`. */
  add(s: number, bucket: number, from: Float64Array, at: number): void {
    const b = (bucket - this.base) / this.step;
    if (b < this.first) this.first = b;
    if (b > this.last) this.last = b;
    const n = this.#rowSeries.length;
    if ((n + 1) * F > this.#values.length) {
      const more = new Float64Array(this.#values.length * 2);
      more.set(this.#values);
      this.#values = more;
    }
    this.#rowSeries.push(s);
    this.#rowBucket.push(b);
    const totals = this.totals[s];
    for (let i = 0; i < F; i++) {
      const v = from[at + i];
      this.#values[n * F + i] = v;
      totals[i] += v;
    }
  }

  /** A row of {@linkcode groupSql}. */
  addRow(row: Record<string, unknown>): void {
    const counters = this.#scratch;
    for (let i = 0; i < F; i++) counters[i] = num(row[FIELDS[i]]);
    this.add(this.series(seriesOf(this.by, row)), num(row.b), counters, 0);
  }

  /**
   * The cells of buckets `first..last` for `width` columns, bucket `b`'s
   * column `c` at `((b - first) * width + c) * F`; `columns[s]` is series
   * `s`'s column. The counters are integers (STRICT INTEGER columns) far
   * below 2^53, so sums are exact whatever order they are added in.
   */
  cells(columns: Int32Array, width: number): Float64Array {
    const grid = new Float64Array((this.last - this.first + 1) * width * F);
    const values = this.#values;
    for (let r = 0; r < this.#rowSeries.length; r++) {
      const o = ((this.#rowBucket[r] - this.first) * width + columns[this.#rowSeries[r]]) * F;
      for (let i = 0; i < F; i++) grid[o + i] += values[r * F + i];
    }
    return grid;
  }
}

interface Counters {
  requests: number;
  errors: number;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  reasoning: number;
  cost: number;
  bytes_in: number;
  bytes_out: number;
  latency_sum: number;
  latency_n: number;
  ttft_sum: number;
  ttft_n: number;
}

/** The counters of a {@linkcode groupSql} row, in cell order. */
const FIELDS: readonly (keyof Counters)[] = [
  "requests",
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
];

/** Counters per cell. */
export const F = 14;

/** Adds the F counters of `from` to `into`. */
export function add(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < F; i++) into[i] += from[i];
}

/** Who a series is, as the answer shows it. */
export interface SeriesId {
  key: string;
  label: string;
  provider_id: string | null;
  model_id: string | null;
  account_name: string | null;
}

/** The series of a row (`provider`, `model`, `account`, each null when none) under `by`. */
export function seriesOf(by: GroupBy, row: Record<string, unknown>): SeriesId {
  const provider = row.provider === null ? null : String(row.provider);
  const model = row.model === null ? null : String(row.model);
  const account = row.account === null ? null : String(row.account);
  const show = (v: string | null) => v ?? UNROUTED;
  switch (by) {
    case "provider":
      return {
        key: show(provider),
        label: show(provider),
        provider_id: provider,
        model_id: null,
        account_name: null,
      };
    case "model":
      return {
        key: show(model),
        label: show(model),
        provider_id: null,
        model_id: model,
        account_name: null,
      };
    case "account":
      return {
        key: show(account),
        label: show(account),
        provider_id: provider,
        model_id: null,
        account_name: account,
      };
    default:
      return provider === null && model === null
        ? { key: UNROUTED, label: UNROUTED, provider_id: null, model_id: null, account_name: null }
        : {
          key: `${show(provider)}:${show(model)}`,
          label: `${show(provider)} / ${show(model)}`,
          provider_id: provider,
          model_id: model,
          account_name: null,
        };
  }
}
