/**
 * A server-drawn activity heatmap (spec 06 §4): 13 px cells, 3 px gaps,
 * colours from the theme's `--heatmap-0..4`, a native `<title>` per cell.
 */
import type { HeatmapView } from "../types.ts";
import { formatCount } from "../_format.ts";

const CELL = 13;
const PITCH = 16; // cell + 3 px gap
const LEFT = 30; // weekday labels
const TOP = 16; // month labels
const WEEKDAYS: readonly [number, string][] = [[1, "Mon"], [3, "Wed"], [5, "Fri"]];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The heatmap with a heading; `unit` names the counted value ("tokens", "bytes"). */
export function Heatmap(
  { id, title, view, unit }: { id: string; title: string; view: HeatmapView; unit: string },
) {
  const width = LEFT + view.weeks * PITCH + PITCH; // room for a month label in the last week
  const height = TOP + 7 * PITCH;
  const months: { col: number; label: string }[] = [];
  for (const c of view.cells) {
    const label = MONTHS[Number(c.date.slice(5, 7)) - 1];
    if (c.date.endsWith("-01") || months.length === 0) {
      if (months.at(-1)?.col !== c.col) months.push({ col: c.col, label });
    }
  }
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div class="card heatmap-wrap">
        <svg
          class="heatmap"
          width={width}
          height={height}
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label={`${title}: ${formatCount(view.total)} ${unit}`}
        >
          {months.map((m) => (
            <text key={m.col} class="heatmap-label" x={LEFT + m.col * PITCH} y={11}>
              {m.label}
            </text>
          ))}
          {WEEKDAYS.map(([row, label]) => (
            <text key={row} class="heatmap-label" x={0} y={TOP + row * PITCH + 11}>{label}</text>
          ))}
          {view.cells.map((c) => (
            <rect
              key={c.date}
              class={`hm-${c.level}`}
              x={LEFT + c.col * PITCH}
              y={TOP + c.row * PITCH}
              width={CELL}
              height={CELL}
              rx={2}
              data-date={c.date}
              data-value={c.value}
            >
              <title>
                {`${c.date}: ${formatCount(c.value)} ${unit} · ${formatCount(c.requests)} requests`}
              </title>
            </rect>
          ))}
        </svg>
        <p class="muted heatmap-caption">
          {formatCount(view.total)} {unit} in the last 180 days · busiest day{" "}
          {formatCount(view.max)}
        </p>
      </div>
    </section>
  );
}
