/**
 * A bar chart over categories (providers, exclusion reasons): one or more
 * datasets side by side in each category. The server draws SVG bars with a
 * `<title>` each, readable without JavaScript; `static/dashboard.js` swaps in
 * a Chart.js canvas whose colours come from the theme variable of each
 * dataset's tone.
 */
import { formatCount } from "../_format.ts";

/** Theme colours a dataset can take (`--color-<tone>`). */
export type Tone = "info" | "success" | "warning" | "error";

/** One series of values, one per category. */
export interface BarDataset {
  label: string;
  tone: Tone;
  values: readonly number[];
}

const WIDTH = 720;
const HEIGHT = 180;

/** `id` names the figure (`data-chart-id`); `empty` is the caption when every value is 0. */
export function BarChart(
  { id, title, labels, datasets, empty, caption }: {
    id: string;
    title: string;
    labels: readonly string[];
    datasets: readonly BarDataset[];
    empty: string;
    caption: string;
  },
) {
  const max = Math.max(1, ...datasets.flatMap((d) => d.values));
  const slot = WIDTH / Math.max(1, labels.length);
  // Bars no wider than Chart.js draws them (maxBarThickness in static/dashboard.js).
  const bar = Math.max(1, Math.min(56, (slot * 0.8) / Math.max(1, datasets.length)));
  const y = (v: number) => HEIGHT - (v / max) * (HEIGHT - 4);
  const total = datasets.reduce((s, d) => s + d.values.reduce((a, v) => a + v, 0), 0);
  const data = {
    labels,
    datasets: datasets.map((d) => ({ label: d.label, tone: d.tone, data: d.values })),
  };
  return (
    <section class="panel" aria-labelledby={`chart-${id}`}>
      <h2 id={`chart-${id}`}>{title}</h2>
      <figure
        class="card chart"
        data-chart="bars"
        data-chart-id={id}
        data-series={JSON.stringify(data)}
      >
        <svg
          class="chart-fallback"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${title}: ${caption}`}
        >
          {labels.map((label, i) =>
            datasets.map((d, j) => (
              <rect
                key={`${label}-${d.label}`}
                class={`bar-${d.tone}`}
                x={i * slot + (slot - bar * datasets.length) / 2 + j * bar}
                y={y(d.values[i] ?? 0)}
                width={bar}
                height={HEIGHT - y(d.values[i] ?? 0)}
              >
                <title>{`${label} · ${d.label}: ${formatCount(d.values[i] ?? 0)}`}</title>
              </rect>
            ))
          )}
        </svg>
        <div class="chart-canvas" hidden>
          <canvas role="img" aria-label={`${title}: ${caption}`}></canvas>
        </div>
        <figcaption class="muted">{total === 0 ? empty : caption}</figcaption>
      </figure>
    </section>
  );
}
