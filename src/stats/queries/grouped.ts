/**
 * `/api/timeseries/grouped` (spec 01 §7.1): usage per bucket and group, the
 * `limit` largest groups kept and the rest folded into one "Other" series per
 * bucket, so each bucket's total is exactly the sum of its points. Buckets
 * between the first and the last one with requests are padded with zeros.
 */
import type { Db } from "../../storage/db.ts";
import type { Bucket, StatsPeriod } from "./period.ts";
import { BUCKET_MS, bucketLabel } from "./period.ts";
import { arrays, avg, IN_PERIOD, num, range } from "./_sql.ts";
import { DAY_SOURCE, daySourceParams } from "./_days.ts";
import { splitPeriod } from "./_slots.ts";
import type { UsageFilters } from "./usage.ts";

/** What a series is: provider and model, provider, model or account. */
export type GroupBy = "provider_model" | "provider" | "model" | "account";

/** Most buckets one answer pads; a longer span must use a wider bucket. */
export const MAX_BUCKETS = 2048;
/** The folded series' key. */
export const OTHER_KEY = "__other__";
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
 * 0005), summed per bucket and series here (a SQL GROUP BY over them sorted
 * every rollup row and cost more); the partial hours at the period's ends
 * from the request rows through `rawSql`, whose first two bind values are the
 * range. A filter on the other dimension (an account with a provider or model
 * grouping, a model with the account grouping) is in neither rollup: those
 * views sum the rows.
 */
function addHours(
  acc: Acc,
  db: Db,
  p: StatsPeriod,
  step: number,
  f: UsageFilters,
  rawSql: string,
  rawParams: readonly (number | string)[],
): void {
  const byAccount = acc.by === "account";
  const rowsOnly = byAccount ? f.modelId !== undefined : f.accountId !== undefined;
  const split = splitPeriod(p, step, rowsOnly);
  for (const e of split.edges) {
    for (const row of db.stmt(rawSql).all(...e, ...rawParams.slice(2))) acc.addRow(row);
  }
  if (rowsOnly) return;
  const d = DIMENSIONS[acc.by];
  let where = "";
  const params: (number | string)[] = [split.from, split.to];
  if (f.accountId !== undefined) (where += " AND h.account_id = ?"), params.push(f.accountId);
  if (f.modelId !== undefined) (where += " AND h.model_id = ?"), params.push(f.modelId);
  const counters = `h.n, h.errors, h.input, h.output, h.cache_read, h.cache_write, h.reasoning,
    h.cost, h.bytes_in, h.bytes_out, h.latency_sum, h.latency_n, h.ttft_sum, h.ttft_n`;
  const sql = byAccount
    ? `SELECT h.hour, '', '', h.account_id, ${counters} FROM account_hours h
      WHERE h.hour >= ? AND h.hour < ? AND h.n <> 0${where}`
    : `SELECT h.hour, ${d.provider ? "h.provider_id" : "''"}, ${
      d.model ? "h.model_id" : "''"
    }, 0, ${counters} FROM request_hours h WHERE h.hour >= ? AND h.hour < ? AND h.n <> 0${where}`;
  const accounts = new Map<number, { name: string; provider: string }>();
  if (byAccount) {
    for (const a of db.stmt("SELECT id, name, provider_id FROM accounts").all()) {
      accounts.set(Number(a.id), { name: String(a.name), provider: String(a.provider_id) });
    }
  }
  // The series of each (provider, model, account) key, resolved once.
  const seriesByKey = new Map<string, Series>();
  for (const r of arrays(db, sql, params) as (number | string)[][]) {
    const k = `${r[1]}\u0000${r[2]}\u0000${r[3]}`;
    let series = seriesByKey.get(k);
    if (series === undefined) {
      const provider = String(r[1]);
      const account = accounts.get(Number(r[3]));
      series = acc.series(seriesOf(acc.by, {
        provider: provider === "" ? account?.provider ?? null : provider,
        model: r[2] === "" ? null : String(r[2]),
        account: account?.name ?? null,
      }));
      seriesByKey.set(k, series);
    }
    const cell = acc.cell(series, r[0] as number);
    const totals = series.totals;
    for (let i = 0; i < F; i++) {
      const v = r[4 + i] as number;
      cell[i] += v;
      totals[i] += v;
    }
  }
}

/** One series being summed: its identity, totals and cells by bucket index from the period's first bucket. */
interface Series {
  id: SeriesId;
  totals: Float64Array;
  cells: (Float64Array | undefined)[];
}

/** The series of an answer, summed from rows of {@linkcode groupSql} or the hour rollups. */
class Acc {
  readonly all = new Map<string, Series>();
  first = Infinity;
  last = -Infinity;
  constructor(readonly by: GroupBy, readonly base: number, readonly step: number) {}

  series(id: SeriesId): Series {
    let s = this.all.get(id.key);
    if (s === undefined) {
      this.all.set(id.key, s = { id, totals: new Float64Array(F), cells: [] });
    }
    return s;
  }

  cell(s: Series, b: number): Float64Array {
    if (b < this.first) this.first = b;
    if (b > this.last) this.last = b;
    const i = (b - this.base) / this.step;
    let c = s.cells[i];
    if (c === undefined) s.cells[i] = c = new Float64Array(F);
    return c;
  }

  /** A row of {@linkcode groupSql}. */
  addRow(row: Record<string, unknown>): void {
    const s = this.series(seriesOf(this.by, row));
    const cell = this.cell(s, num(row.b));
    for (let i = 0; i < F; i++) {
      const v = num(row[FIELDS[i]]);
      cell[i] += v;
      s.totals[i] += v;
    }
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

/** An empty cell, only read. */
const ZERO = new Float64Array(F);

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

/** The grouped series of spec 01 §7.1 (without the echoed parameters). */
export function groupedTimeseries(
  db: Db,
  p: StatsPeriod,
  bucket: Bucket,
  by: GroupBy,
  limit: number,
  f: UsageFilters,
) {
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
  else addHours(acc, db, p, step, f, sql, params);
  if (acc.all.size === 0) return { series: [], buckets: [], bucket_totals: [], points: [] };

  const ranked = [...acc.all.values()].sort((a, b) =>
    b.totals[0] - a.totals[0] || (a.id.key < b.id.key ? -1 : a.id.key > b.id.key ? 1 : 0)
  );
  const series = ranked.slice(0, limit).map((s) => ({ ...s.id, ...s, is_other: false }));
  const folded = ranked.slice(limit);
  if (folded.length > 0) {
    const other = { totals: new Float64Array(F), cells: [] as (Float64Array | undefined)[] };
    for (const s of folded) {
      add(other.totals, s.totals);
      for (const [i, c] of s.cells.entries()) {
        if (c === undefined) continue;
        let cell = other.cells[i];
        if (cell === undefined) other.cells[i] = cell = new Float64Array(F);
        add(cell, c);
      }
    }
    const id = {
      key: OTHER_KEY,
      label: "Other",
      provider_id: null,
      model_id: null,
      account_name: null,
    };
    series.push({ ...id, id, is_other: true, ...other });
  }
  const first = acc.first;
  const last = acc.last;

  const starts: number[] = [];
  for (let b = first; b <= last; b += step) starts.push(b);
  const labels = starts.map(bucketLabel);
  const bucketTotals = starts.map((b, i) => {
    const sum = new Float64Array(F);
    for (const s of series) {
      const c = s.cells[(b - acc.base) / step];
      if (c !== undefined) add(sum, c);
    }
    return { bucket: labels[i], ...countersJson(sum) };
  });
  // One literal per point: spreading a counters object into each cost more than the rest.
  const points = [];
  for (let i = 0; i < starts.length; i++) {
    const at = (starts[i] - acc.base) / step;
    for (const s of series) {
      const c = s.cells[at] ?? ZERO;
      points.push({
        bucket: labels[i],
        series_key: s.key,
        label: s.label,
        provider_id: s.provider_id,
        model_id: s.model_id,
        account_name: s.account_name,
        is_other: s.is_other,
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
      });
    }
  }
  return {
    series: series.map((s) => {
      const { request_count, ...rest } = countersJson(s.totals);
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
    }),
    buckets: labels,
    bucket_totals: bucketTotals,
    points,
  };
}
