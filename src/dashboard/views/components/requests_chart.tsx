/**
 * The Overview's requests-per-step chart (spec 06 §4). The server draws it as
 * SVG bars, readable without JavaScript; `static/dashboard.js` swaps in a
 * Chart.js canvas coloured from the active theme when Chart.js is loaded.
 */
import type { RequestSeries } from "../types.ts";
import { formatCount } from "../_format.ts";

const WIDTH = 720;
const HEIGHT = 180;
const DAY_MS = 86_400_000;

/** `13:05` for steps under a day, `12-03` for days (UTC, like the rest of the dashboard). */
export function bucketLabel(start: number, stepMs: number): string {
  const iso = new Date(start).toISOString();
  return stepMs < DAY_MS ? iso.slice(11, 16) : iso.slice(5, 10);
}

/** Requests and errors per step, as bars. */
export function RequestsChart({ series }: { series: RequestSeries }) {
  const n = Math.max(1, series.buckets.length);
  const max = Math.max(1, ...series.buckets.map((b) => b.requests));
  const slot = WIDTH / n;
  const bar = Math.max(1, slot * 0.7);
  const y = (v: number) => HEIGHT - (v / max) * (HEIGHT - 4);
  const data = {
    labels: series.buckets.map((b) => bucketLabel(b.start, series.stepMs)),
    requests: series.buckets.map((b) => b.requests),
    errors: series.buckets.map((b) => b.errors),
  };
  const summary = `${formatCount(series.totals.requests)} requests · ${
    formatCount(series.totals.errors)
  } errors`;
  return (
    <section class="panel" aria-labelledby="requests-chart">
      <h2 id="requests-chart">Requests over time</h2>
      <figure class="card chart" data-chart="requests" data-series={JSON.stringify(data)}>
        <svg
          class="chart-fallback"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Requests per step: ${summary}`}
        >
          {series.buckets.map((b, i) => (
            <g key={b.start}>
              <rect
                class="bar-requests"
                x={i * slot}
                y={y(b.requests)}
                width={bar}
                height={HEIGHT - y(b.requests)}
              >
                <title>
                  {`${bucketLabel(b.start, series.stepMs)}: ${formatCount(b.requests)} requests, ${
                    formatCount(b.errors)
                  } errors`}
                </title>
              </rect>
              <rect
                class="bar-errors"
                x={i * slot}
                y={y(b.errors)}
                width={bar}
                height={HEIGHT - y(b.errors)}
              />
            </g>
          ))}
        </svg>
        <div class="chart-canvas" hidden>
          <canvas role="img" aria-label={`Requests and errors per step: ${summary}`}></canvas>
        </div>
        <figcaption class="muted">
          {series.totals.requests === 0
            ? "No requests in this period yet: point a client at /v1/chat/completions or " +
              "/v1/messages with the local API key, and they appear here."
            : `${summary} in the period`}
        </figcaption>
      </figure>
    </section>
  );
}
