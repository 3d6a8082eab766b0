/**
 * The Timeseries page (spec 06 §4): controls, a stacked bar chart of the
 * grouped series (top N plus "Other"), the per bucket × series detail and
 * the per-bucket aggregate. The form is a plain GET without JavaScript;
 * `static/timeseries.js` refetches `/api/timeseries/grouped` on each change
 * and redraws the chart and tables in place.
 */
import type { GroupBy } from "../../../stats/queries/grouped.ts";
import type { groupedTimeseries } from "../../../stats/queries/grouped.ts";
import type { PageChrome } from "../types.ts";
import { formatCost, formatCount, formatMs } from "../_format.ts";
import { Layout } from "../layout.tsx";
import { PERIODS } from "../components/period_selector.tsx";

/** The page's controls as read from the query. */
export interface TimeseriesControls {
  bucket: "auto" | "hour" | "day";
  groupBy: GroupBy;
  metric: "tokens" | "requests" | "cost";
  limit: number;
  account?: string;
  model?: string;
}

type Grouped = ReturnType<typeof groupedTimeseries>;
type Counts = Grouped["bucket_totals"][number];

/** Props of {@linkcode TimeseriesPage}. */
export interface TimeseriesPageProps {
  chrome: PageChrome;
  controls: TimeseriesControls;
  /** The bucket used (auto resolved). */
  bucket: "hour" | "day";
  accounts: readonly string[];
  data?: Grouped;
  error?: string;
}

const GROUP_LABELS: Readonly<Record<GroupBy, string>> = {
  provider_model: "Provider / model",
  provider: "Provider",
  model: "Model",
  account: "Account",
};
const METRIC_LABELS = { tokens: "Tokens", requests: "Requests", cost: "Cost ($)" } as const;
/** Series colours: classes the stylesheet maps to theme variables (8, then they repeat). */
const COLOURS = 8;

/** The charted value of a point for `metric`. */
export function metricValue(c: Counts, metric: TimeseriesControls["metric"]): number {
  return metric === "tokens"
    ? c.total_tokens
    : metric === "requests"
    ? c.request_count
    : c.cost_microdollars / 1_000_000;
}

function Select(
  { name, label, value, options }: {
    name: string;
    label: string;
    value: string;
    options: readonly (readonly [string, string])[];
  },
) {
  return (
    <label>
      {label}
      <select name={name}>
        {options.map(([v, text]) => <option key={v} value={v} selected={v === value}>{text}
        </option>)}
      </select>
    </label>
  );
}

function Controls({ chrome, controls, accounts }: TimeseriesPageProps) {
  return (
    <form id="timeseries-controls" class="card ts-controls" method="get" action="/timeseries">
      <input type="hidden" name="theme" value={chrome.theme} />
      <Select
        name="period"
        label="Period"
        value={chrome.period}
        options={PERIODS.map((p) => [p.value, p.label] as const)}
      />
      <Select
        name="bucket"
        label="Bucket"
        value={controls.bucket}
        options={[["auto", "auto"], ["hour", "hour"], ["day", "day"]]}
      />
      <Select
        name="group_by"
        label="Group by"
        value={controls.groupBy}
        options={Object.entries(GROUP_LABELS)}
      />
      <Select
        name="metric"
        label="Metric"
        value={controls.metric}
        options={Object.entries(METRIC_LABELS)}
      />
      <label>
        Top N
        <input type="number" name="limit" min={1} max={25} value={controls.limit} />
      </label>
      <Select
        name="account"
        label="Account"
        value={controls.account ?? ""}
        options={[["", "All accounts"], ...accounts.map((a) => [a, a] as const)]}
      />
      <label>
        Model
        <input
          type="text"
          name="model"
          value={controls.model ?? ""}
          placeholder="all models"
          maxLength={256}
        />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

const WIDTH = 720;
const HEIGHT = 220;

function StackedChart({ data, metric }: { data: Grouped; metric: TimeseriesControls["metric"] }) {
  const n = Math.max(1, data.buckets.length);
  const max = Math.max(1e-9, ...data.bucket_totals.map((t) => metricValue(t, metric)));
  const slot = WIDTH / n;
  const bar = Math.max(1, slot * 0.75);
  const perBucket = data.series.length;
  return (
    <svg
      class="chart-fallback"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${METRIC_LABELS[metric]} per bucket, stacked by series`}
    >
      {data.buckets.map((b, i) => {
        let top = HEIGHT;
        return (
          <g key={b}>
            {data.series.map((s, j) => {
              const p = data.points[i * perBucket + j];
              const v = metricValue(p, metric);
              const hgt = (v / max) * (HEIGHT - 4);
              top -= hgt;
              return v === 0 ? null : (
                <rect
                  key={s.key}
                  class={s.is_other ? "ts-other" : `ts-c${j % COLOURS}`}
                  x={i * slot}
                  y={top}
                  width={bar}
                  height={hgt}
                >
                  <title>{`${b} · ${s.label}: ${formatCount(p.request_count)} requests`}</title>
                </rect>
              );
            })}
          </g>
        );
      })}
    </svg>
  );
}

function Legend({ data }: { data: Grouped }) {
  return (
    <ul class="ts-legend" id="timeseries-legend">
      {data.series.map((s, j) => (
        <li key={s.key}>
          <span class={`ts-swatch ${s.is_other ? "ts-other" : `ts-c${j % COLOURS}`}`}></span>
          {s.label}
        </li>
      ))}
    </ul>
  );
}

/**
 * What `static/timeseries.js` draws the first chart from: the series' labels, the buckets and
 * each point's three metrics. The tables are server-rendered, so the rest of each point stays out
 * of the page (a 30-day page would otherwise carry every point's 20 fields, escaped, twice).
 */
export function chartPayload(data: Grouped): string {
  return JSON.stringify({
    series: data.series.map((s) => ({ key: s.key, label: s.label, is_other: s.is_other })),
    buckets: data.buckets,
    points: data.points.map((p) => ({
      total_tokens: p.total_tokens,
      request_count: p.request_count,
      cost_microdollars: p.cost_microdollars,
    })),
  });
}

/** The page. */
export function TimeseriesPage(props: TimeseriesPageProps) {
  const { chrome, controls, data, error } = props;
  const empty = data === undefined || data.series.length === 0;
  const detail = data?.points.filter((p) => p.request_count > 0) ?? [];
  return (
    <Layout chrome={chrome}>
      <h1>Timeseries</h1>
      <Controls {...props} />
      <p id="timeseries-status" class={error === undefined ? "muted" : "ts-error"} role="status">
        {error ??
          `${GROUP_LABELS[controls.groupBy]} · ${props.bucket} buckets · top ${controls.limit}` +
            (data !== undefined && data.series.some((s) => s.is_other) ? " plus Other" : "")}
      </p>
      <figure
        class="card chart ts-chart"
        data-chart="grouped"
        data-metric={controls.metric}
        data-grouped={data === undefined ? "{}" : chartPayload(data)}
        hidden={empty}
      >
        {data !== undefined && !empty && <StackedChart data={data} metric={controls.metric} />}
        <div class="chart-canvas" hidden>
          <canvas role="img" aria-label="Stacked usage per bucket"></canvas>
        </div>
        {data !== undefined && <Legend data={data} />}
      </figure>
      <section
        class="card empty-state"
        id="timeseries-empty"
        hidden={!empty || error !== undefined}
      >
        <p>
          <strong>No requests match these controls in this period.</strong>
        </p>
        <p>
          Pick a longer period or clear the account and model filters. Requests appear here once a
          client calls <code>/v1/chat/completions</code> or <code>/v1/messages</code>{" "}
          with the local API key.
        </p>
      </section>
      <h2>Usage breakdown</h2>
      <div class="table-wrap">
        <table id="timeseries-detail">
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col">Series</th>
              <th scope="col" class="num">Requests</th>
              <th scope="col" class="num">Tokens</th>
              <th scope="col" class="num p2">Errors</th>
              <th scope="col" class="num p2">Cost</th>
              <th scope="col" class="num p3">Input</th>
              <th scope="col" class="num p3">Output</th>
              <th scope="col" class="num p3">Avg latency</th>
            </tr>
          </thead>
          <tbody>
            {detail.map((p) => (
              <tr key={`${p.bucket} ${p.series_key}`} data-series={p.series_key}>
                <td data-col="Bucket">{p.bucket}</td>
                <td data-col="Series">{p.label}</td>
                <td class="num" data-col="Requests">{formatCount(p.request_count)}</td>
                <td class="num" data-col="Tokens">{formatCount(p.total_tokens)}</td>
                <td class="num p2" data-col="Errors">{formatCount(p.error_count)}</td>
                <td class="num p2" data-col="Cost">{formatCost(p.cost_microdollars)}</td>
                <td class="num p3" data-col="Input">{formatCount(p.input_tokens)}</td>
                <td class="num p3" data-col="Output">{formatCount(p.output_tokens)}</td>
                <td class="num p3" data-col="Avg latency">
                  {formatMs(p.avg_latency_ms ?? undefined)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Aggregate per bucket</h2>
      <div class="table-wrap">
        <table id="timeseries-aggregate">
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col" class="num">Requests</th>
              <th scope="col" class="num">Tokens</th>
              <th scope="col" class="num p2">Errors</th>
              <th scope="col" class="num p2">Cost</th>
              <th scope="col" class="num p3">Received</th>
              <th scope="col" class="num p3">Emitted</th>
            </tr>
          </thead>
          <tbody>
            {(data?.bucket_totals ?? []).map((t) => (
              <tr key={t.bucket}>
                <td data-col="Bucket">{t.bucket}</td>
                <td class="num" data-col="Requests">{formatCount(t.request_count)}</td>
                <td class="num" data-col="Tokens">{formatCount(t.total_tokens)}</td>
                <td class="num p2" data-col="Errors">{formatCount(t.error_count)}</td>
                <td class="num p2" data-col="Cost">{formatCost(t.cost_microdollars)}</td>
                <td class="num p3" data-col="Received">{formatCount(t.bytes_received)} B</td>
                <td class="num p3" data-col="Emitted">{formatCount(t.bytes_emitted)} B</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <script src="/static/timeseries.js" defer></script>
    </Layout>
  );
}
