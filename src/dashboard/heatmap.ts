/**
 * GitHub-style activity heatmaps (spec 06 §4): 180 days ending today (UTC),
 * one column per week, one row per weekday, each day coloured by its share
 * of the busiest visible day.
 */

/** Days a heatmap shows, today included. */
export const HEATMAP_DAYS = 180;
const DAY_MS = 86_400_000;

/** One day of a heatmap. */
export interface HeatmapCell {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  value: number;
  requests: number;
  /** 0 when the value is 0, else 1–4 by its ratio to the busiest day. */
  level: 0 | 1 | 2 | 3 | 4;
  /** Week column (0 = oldest) and weekday row (0 = Sunday). */
  col: number;
  row: number;
}

/** A heatmap ready to draw. */
export interface HeatmapView {
  cells: HeatmapCell[];
  weeks: number;
  max: number;
  total: number;
}

/** Level of `value` against the busiest day `max` (spec 06 §4 thresholds). */
export function heatLevel(value: number, max: number): HeatmapCell["level"] {
  if (value <= 0 || max <= 0) return 0;
  const r = value / max;
  return r < 0.25 ? 1 : r < 0.5 ? 2 : r < 0.75 ? 3 : 4;
}

/** Lays out `HEATMAP_DAYS` days ending on `now`'s UTC day; days missing from `days` are 0. */
export function buildHeatmap(
  days: readonly { day: number; value: number; requests: number }[],
  now: number,
): HeatmapView {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const first = today - (HEATMAP_DAYS - 1) * DAY_MS;
  const byDay = new Map(days.map((d) => [d.day, d]));
  const offset = new Date(first).getUTCDay();
  let max = 0, total = 0;
  for (const d of days) {
    if (d.day < first || d.day > today) continue;
    max = Math.max(max, d.value);
    total += d.value;
  }
  const cells: HeatmapCell[] = [];
  for (let i = 0; i < HEATMAP_DAYS; i++) {
    const day = first + i * DAY_MS;
    const d = byDay.get(day);
    const value = d?.value ?? 0;
    cells.push({
      date: new Date(day).toISOString().slice(0, 10),
      value,
      requests: d?.requests ?? 0,
      level: heatLevel(value, max),
      col: Math.floor((i + offset) / 7),
      row: (i + offset) % 7,
    });
  }
  return { cells, weeks: cells[cells.length - 1].col + 1, max, total };
}
