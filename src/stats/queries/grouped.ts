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

function zero(): Counters {
  return Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as Counters;
}

function add(into: Counters, from: Counters | Record<string, unknown>): void {
  for (const f of FIELDS) into[f] += num((from as Record<string, unknown>)[f]);
}

function countersJson(c: Counters) {
  return {
    request_count: c.requests,
    error_count: c.errors,
    input_tokens: c.input,
    output_tokens: c.output,
    cache_read_tokens: c.cache_read,
    cache_write_tokens: c.cache_write,
    reasoning_tokens: c.reasoning,
    total_tokens: c.input + c.output,
    cost_microdollars: c.cost,
    bytes_received: c.bytes_in,
    bytes_emitted: c.bytes_out,
    avg_latency_ms: avg(c.latency_sum, c.latency_n),
    avg_ttft_ms: avg(c.ttft_sum, c.ttft_n),
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
  const rows = db.stmt(sql).all(...params);
  if (rows.length === 0) return { series: [], buckets: [], bucket_totals: [], points: [] };

  const ids = new Map<string, SeriesId>();
  const totals = new Map<string, Counters>();
  const cells = new Map<string, Map<number, Counters>>();
  let first = Infinity;
  let last = -Infinity;
  for (const row of rows) {
    const id = seriesOf(by, row);
    const b = num(row.b);
    first = Math.min(first, b);
    last = Math.max(last, b);
    if (!ids.has(id.key)) {
      ids.set(id.key, id);
      totals.set(id.key, zero());
      cells.set(id.key, new Map());
    }
    add(totals.get(id.key)!, row);
    const byBucket = cells.get(id.key)!;
    const cell = byBucket.get(b) ?? zero();
    add(cell, row);
    byBucket.set(b, cell);
  }
  const ranked = [...ids.keys()].sort((a, b) =>
    totals.get(b)!.requests - totals.get(a)!.requests || (a < b ? -1 : a > b ? 1 : 0)
  );
  const kept = ranked.slice(0, limit);
  const folded = ranked.slice(limit);
  const series:
    (SeriesId & { is_other: boolean; totals: Counters; cells: Map<number, Counters> })[] = kept.map(
      (k) => ({ ...ids.get(k)!, is_other: false, totals: totals.get(k)!, cells: cells.get(k)! }),
    );
  if (folded.length > 0) {
    const other = { totals: zero(), cells: new Map<number, Counters>() };
    for (const k of folded) {
      add(other.totals, totals.get(k)!);
      for (const [b, c] of cells.get(k)!) {
        const cell = other.cells.get(b) ?? zero();
        add(cell, c);
        other.cells.set(b, cell);
      }
    }
    series.push({
      key: OTHER_KEY,
      label: "Other",
      provider_id: null,
      model_id: null,
      account_name: null,
      is_other: true,
      ...other,
    });
  }

  const starts: number[] = [];
  for (let b = first; b <= last; b += step) starts.push(b);
  const bucketTotals = starts.map((b) => {
    const sum = zero();
    for (const s of series) {
      const c = s.cells.get(b);
      if (c !== undefined) add(sum, c);
    }
    return { bucket: bucketLabel(b), ...countersJson(sum) };
  });
  const points = starts.flatMap((b) =>
    series.map((s) => ({
      bucket: bucketLabel(b),
      series_key: s.key,
      label: s.label,
      provider_id: s.provider_id,
      model_id: s.model_id,
      account_name: s.account_name,
      is_other: s.is_other,
      ...countersJson(s.cells.get(b) ?? zero()),
    }))
  );
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
    buckets: starts.map(bucketLabel),
    bucket_totals: bucketTotals,
    points,
  };
}
