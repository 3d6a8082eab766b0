import assert from "node:assert/strict";
import { buildHeatmap, heatLevel, HEATMAP_DAYS } from "./heatmap.ts";

const DAY = 86_400_000;

Deno.test("heatLevel() follows spec 06 §4: 0 for nothing, then quarters of the busiest day", () => {
  assert.deepEqual([0, 1, 24, 25, 49, 50, 74, 75, 100].map((v) => heatLevel(v, 100)), [
    0,
    1,
    1,
    2,
    2,
    3,
    3,
    4,
    4,
  ]);
  assert.equal(heatLevel(5, 0), 0);
});

Deno.test("buildHeatmap() lays 180 days ending today into weekday rows and week columns", () => {
  const now = Date.UTC(2026, 11, 3, 15, 30); // a Thursday afternoon
  const today = Date.UTC(2026, 11, 3);
  const view = buildHeatmap([
    { day: today, value: 400, requests: 4 },
    { day: today - 2 * DAY, value: 100, requests: 1 },
    { day: today - 200 * DAY, value: 9_999, requests: 9 }, // outside the window: ignored
  ], now);
  assert.equal(view.cells.length, HEATMAP_DAYS);
  assert.equal(view.max, 400);
  assert.equal(view.total, 500);
  const last = view.cells.at(-1)!;
  assert.deepEqual(last, {
    date: "2026-12-03",
    value: 400,
    requests: 4,
    level: 4,
    col: 25,
    row: 4,
  });
  assert.equal(view.cells.at(-3)!.level, 2);
  assert.equal(view.cells[0].date, "2026-06-07");
  assert.equal(view.cells[0].row, 0); // 2026-06-07 is a Sunday
  assert.equal(view.weeks, 26);
  assert.equal(view.cells.filter((c) => c.level === 0).length, HEATMAP_DAYS - 2);
});
