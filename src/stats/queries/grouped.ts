/**
 * `/api/timeseries/grouped` (spec 01 §7.1): usage per bucket and group, the
 * `limit` largest groups kept and the rest folded into one "Other" series per
 * bucket, so each bucket's total is exactly the sum of its points. Buckets
 * between the first and the last one with requests are padded with zeros.
 */
import type { Db } from "../../storage/db.ts";
import type { Bucket, StatsPeriod } from "./period.ts";
import { BUCKET_MS, bucketLabel } from "./period.ts";
import { avg, range } from "./_sql.ts";
import { daySourceParams } from "./_days.ts";
import { HOUR_MS } from "./_slots.ts";
import type { HourRows } from "./_hour_rows.ts";
import { Acc, add, addHours, F, groupSql } from "./_grouped_sums.ts";
import type { GroupBy, SeriesId } from "./_grouped_sums.ts";
import type { UsageFilters } from "./usage.ts";

export type { GroupBy } from "./_grouped_sums.ts";
export { UNROUTED } from "./_grouped_sums.ts";

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

/** Counters in the order of `FIELDS` (_grouped_sums.ts), in the API's names. */
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

/** The rows of the period added to their series. */
function sumRows(db: Db, p: StatsPeriod, bucket: Bucket, by: GroupBy, f: UsageFilters): Acc {
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
  return acc;
}

/** The period's series ranked, the top `limit` kept and the rest folded, and their cells. */
function summed(
  db: Db,
  p: StatsPeriod,
  bucket: Bucket,
  by: GroupBy,
  limit: number,
  f: UsageFilters,
): Summed | undefined {
  const acc = sumRows(db, p, bucket, by, f);
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
  for (let b = acc.first; b <= acc.last; b++) labels.push(bucketLabel(acc.base + b * acc.step));
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
      const h = (acc.base + (acc.first + i) * acc.step - whole.from) / HOUR_MS;
      return h >= 0 && h < whole.rows.length ? whole.rows[h] : undefined;
    },
    head: {
      series: series.map((s, j) => seriesJson(s, totals[j])),
      buckets: labels,
      bucket_totals: bucketTotals,
    },
  };
}
