/**
 * `/api/timeseries/grouped` (spec 01 §7.1): usage per bucket and group, the
 * `limit` largest groups kept and the rest folded into one "Other" series per
 * bucket, so each bucket's total is exactly the sum of its points. Buckets
 * between the first and the last one with requests are padded with zeros.
 */
import type { Db } from "../../storage/db.ts";
import type { Bucket, StatsPeriod } from "./period.ts";
import { BUCKET_MS, bucketLabel } from "./period.ts";
import { avg, IN_PERIOD, num, range } from "./_sql.ts";
import { DAY_SOURCE, daySourceParams } from "./_days.ts";
import { HOUR_MS, splitPeriod } from "./_slots.ts";
import { hourRows } from "./_hour_rows.ts";
import type { HourRows } from "./_hour_rows.ts";
import type { UsageFilters } from "./usage.ts";

/** What a series is: provider and model, provider, model or account. */
export type GroupBy = "provider_model" | "provider" | "model" | "account";

/** Most buckets one answer pads; a longer span must use a wider bucket. */
export const MAX_BUCKETS = 2048;
/** The folded series' key. */
export const OTHER_KEY = "__other__";
const OTHER: SeriesId = {
  key: OTHER_KEY,
  label: "Other",
  provider_id: null,
  model_id: null,
  account_name: null,
};
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

function groupSql(step: number, by: GroupBy, filters: string, days: boolean): string {
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
function addHours(
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
class Acc {
  readonly ids: SeriesId[] = [];
  readonly totals: Float64Array[] = [];
  readonly #byKey = new Map<string, number>();
  /** Per added row: its series, its bucket (index from `base`) and, F apiece, its counters. */
  readonly #rowSeries: number[] = [];
  readonly #rowBucket: number[] = [];
  #values = new Float64Array(F * 1024);
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
  add(s: number, bucket: number, from: ArrayLike<number>, at: number): void {
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
    this.add(this.series(seriesOf(this.by, row)), num(row.b), FIELDS.map((k) => num(row[k])), 0);
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

const F = 14;

function add(into: Float64Array, from: Float64Array): void {
  for (let i = 0; i < F; i++) into[i] += from[i];
}

/** Counters in {@linkcode FIELDS} order, in the API's names. */
function countersJson(c: Float64Array) {
  return {
    request_count: c[0],
    error_count: c[1],
    input_tokens: c[2],
    output_tokens: c[3],
    cache_read_tokens: c[4],
    cache_write_tokens: c[5],
    reasoning_tokens: c[6],
    total_tokens: c[2] + c[3],
    cost_microdollars: c[7],
    bytes_received: c[8],
    bytes_emitted: c[9],
    avg_latency_ms: avg(c[10], c[11]),
    avg_ttft_ms: avg(c[12], c[13]),
  };
}

interface SeriesId {
  key: string;
  label: string;
  provider_id: string | null;
  model_id: string | null;
  account_name: string | null;
}

function seriesOf(by: GroupBy, row: Record<string, unknown>): SeriesId {
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

/** Thrown when the period spans more than {@linkcode MAX_BUCKETS} buckets. */
export class TooManyBucketsError extends Error {}

/** A point of the answer: one series in one bucket. */
type Point = ReturnType<typeof pointsOf>[number];

/** The grouped series of spec 01 §7.1 (without the echoed parameters). */
export function groupedTimeseries(
  db: Db,
  p: StatsPeriod,
  bucket: Bucket,
  by: GroupBy,
  limit: number,
  f: UsageFilters,
) {
  const g = summed(db, p, bucket, by, limit, f);
  if (g === undefined) return { series: [], buckets: [], bucket_totals: [], points: [] as Point[] };
  const points: Point[] = [];
  for (let i = 0; i < g.labels.length; i++) points.push(...pointsOf(g, i));
  return { ...g.head, points };
}

/**
 * The same answer as JSON text after `echo` (the route's echoed parameters),
 * the text `JSON.stringify({...echo, ...groupedTimeseries(…)})` gives: the
 * points of a bucket made of one whole hour from the hour cache are written
 * once per layout of the series and kept beside that hour's rows (a 30-day
 * view has 720 such buckets; writing their 9 000 points was a quarter of the
 * route's time).
 */
export function groupedTimeseriesJson(
  db: Db,
  p: StatsPeriod,
  bucket: Bucket,
  by: GroupBy,
  limit: number,
  f: UsageFilters,
  echo: Record<string, unknown>,
): string {
  const g = summed(db, p, bucket, by, limit, f);
  if (g === undefined) {
    return JSON.stringify({ ...echo, series: [], buckets: [], bucket_totals: [], points: [] });
  }
  const layout = JSON.stringify([by, f.accountId, f.modelId, g.series]);
  const parts: string[] = [];
  for (let i = 0; i < g.labels.length; i++) {
    const rows = g.hourRowsOf(i);
    let written = rows === undefined ? undefined : POINTS_TEXT.get(rows);
    if (written?.layout !== layout) {
      written = { layout, json: JSON.stringify(pointsOf(g, i)).slice(1, -1) };
      if (rows !== undefined) POINTS_TEXT.set(rows, written);
    }
    parts.push(written.json);
  }
  const head = JSON.stringify({ ...echo, ...g.head });
  return `${head.slice(0, -1)},"points":[${parts.join(",")}]}`;
}

/** The points text of a cached hour's bucket, under the layout it was written for. */
const POINTS_TEXT = new WeakMap<HourRows, { layout: string; json: string }>();

/** The points of bucket `i`, one per series in the answer's order. */
function pointsOf(g: Summed, i: number) {
  const { series, cells, labels } = g;
  const width = series.length;
  const points = [];
  for (let j = 0; j < width; j++) {
    const s = series[j];
    const o = (i * width + j) * F;
    // One literal per point: spreading a counters object into each cost more than the rest.
    points.push({
      bucket: labels[i],
      series_key: s.key,
      label: s.label,
      provider_id: s.provider_id,
      model_id: s.model_id,
      account_name: s.account_name,
      is_other: s.is_other,
      request_count: cells[o],
      error_count: cells[o + 1],
      input_tokens: cells[o + 2],
      output_tokens: cells[o + 3],
      cache_read_tokens: cells[o + 4],
      cache_write_tokens: cells[o + 5],
      reasoning_tokens: cells[o + 6],
      total_tokens: cells[o + 2] + cells[o + 3],
      cost_microdollars: cells[o + 7],
      bytes_received: cells[o + 8],
      bytes_emitted: cells[o + 9],
      avg_latency_ms: avg(cells[o + 10], cells[o + 11]),
      avg_ttft_ms: avg(cells[o + 12], cells[o + 13]),
    });
  }
  return points;
}

/** An answer summed, before its points are made. */
interface Summed {
  /** The kept series, then "Other" when some were folded. */
  series: (SeriesId & { is_other: boolean })[];
  labels: string[];
  /** Bucket `i`'s cell of series `j` at `(i * series.length + j) * F`. */
  cells: Float64Array;
  /** The rows of bucket `i` when it is one whole hour of the hour cache. */
  hourRowsOf(i: number): HourRows | undefined;
  /** The answer but its points. */
  head: {
    series: ReturnType<typeof seriesJson>[];
    buckets: string[];
    bucket_totals: ({ bucket: string } & ReturnType<typeof countersJson>)[];
  };
}

function seriesJson(s: SeriesId & { is_other: boolean }, totals: Float64Array) {
  const { request_count, ...rest } = countersJson(totals);
  return {
    key: s.key,
    label: s.label,
    provider_id: s.provider_id,
    model_id: s.model_id,
    account_name: s.account_name,
    is_other: s.is_other,
    total_requests: request_count,
    ...rest,
  };
}

function summed(
  db: Db,
  p: StatsPeriod,
  bucket: Bucket,
  by: GroupBy,
  limit: number,
  f: UsageFilters,
): Summed | undefined {
  const step = BUCKET_MS[bucket];
  if (Math.ceil((p.end - p.start) / step) + 1 > MAX_BUCKETS) {
    throw new TooManyBucketsError(
      `Invalid 'bucket': the period spans more than ${MAX_BUCKETS} ${bucket} buckets; use bucket=day or a shorter period`,
    );
  }
  const days = bucket === "day";
  const t = days ? "s" : "r";
  let filters = "";
  const params: (number | string)[] = days ? daySourceParams(p) : [...range(p)];
  if (f.accountId !== undefined) {
    filters += ` AND ${t}.account_id = ?`;
    params.push(f.accountId);
  }
  if (f.modelId !== undefined) {
    filters += ` AND ${t}.model_id = ?`;
    params.push(f.modelId);
  }
  const sql = groupSql(step, by, filters, days);
  const acc = new Acc(by, Math.floor(p.start / step) * step, step);
  if (days) { for (const row of db.stmt(sql).all(...params)) acc.addRow(row); }
  else addHours(acc, db, p, f, sql, params);
  if (acc.ids.length === 0) return undefined;

  const ranked = acc.ids.map((_, s) => s).sort((a, b) =>
    acc.totals[b][0] - acc.totals[a][0] ||
    (acc.ids[a].key < acc.ids[b].key ? -1 : acc.ids[a].key > acc.ids[b].key ? 1 : 0)
  );
  // Each series' column in the cells: its rank among the kept, `limit` for the folded.
  const columns = new Int32Array(ranked.length);
  ranked.forEach((s, rank) => columns[s] = Math.min(rank, limit));
  const series = ranked.slice(0, limit).map((s) => ({ ...acc.ids[s], is_other: false }));
  const totals = ranked.slice(0, limit).map((s) => acc.totals[s]);
  if (ranked.length > limit) {
    const other = new Float64Array(F);
    for (const s of ranked.slice(limit)) add(other, acc.totals[s]);
    series.push({ ...OTHER, is_other: true });
    totals.push(other);
  }
  const width = series.length;
  const cells = acc.cells(columns, width);
  const labels: string[] = [];
  for (let b = acc.first; b <= acc.last; b++) labels.push(bucketLabel(acc.base + b * step));
  const bucketTotals = labels.map((label, i) => {
    const sum = new Float64Array(F);
    for (let o = i * width * F; o < (i + 1) * width * F; o += F) {
      for (let k = 0; k < F; k++) sum[k] += cells[o + k];
    }
    return { bucket: label, ...countersJson(sum) };
  });
  const whole = acc.wholeHours;
  return {
    series,
    labels,
    cells,
    hourRowsOf: (i) => {
      if (whole === undefined) return undefined;
      const h = (acc.base + (acc.first + i) * step - whole.from) / HOUR_MS;
      return h >= 0 && h < whole.rows.length ? whole.rows[h] : undefined;
    },
    head: {
      series: series.map((s, j) => seriesJson(s, totals[j])),
      buckets: labels,
      bucket_totals: bucketTotals,
    },
  };
}
