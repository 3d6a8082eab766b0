import assert from "node:assert/strict";
import { QuotaWindows, USAGE_BUFFER_LENGTH } from "./windows.ts";
import { fakeClock } from "../accounts/_fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

Deno.test("QuotaWindows.observe() counts requests, tokens and spend in every window", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  w.observe("a", { at: clock.now, tokens: 100, costMicros: 7 });
  w.observe("a", { at: clock.now, tokens: 50, costMicros: 3 });
  const u = w.usage("a");
  for (const name of ["5h", "7d", "30d"] as const) {
    assert.deepEqual(u[name], { requests: 2, tokens: 150, costMicros: 10 });
  }
  assert.deepEqual(w.usage("nobody")["5h"], { requests: 0, tokens: 0, costMicros: 0 });
});

Deno.test("QuotaWindows drops usage as each window slides past it", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  w.observe("a", { at: clock.now, tokens: 10, costMicros: 1 });
  clock.advance(6 * HOUR);
  w.observe("a", { at: clock.now, tokens: 20, costMicros: 2 });
  let u = w.usage("a");
  assert.equal(u["5h"].requests, 1);
  assert.equal(u["5h"].tokens, 20);
  assert.equal(u["7d"].requests, 2);
  clock.advance(8 * DAY);
  u = w.usage("a");
  assert.equal(u["5h"].requests, 0);
  assert.equal(u["7d"].requests, 0);
  assert.equal(u["30d"].requests, 2);
  assert.equal(u["30d"].costMicros, 3);
  clock.advance(31 * DAY);
  assert.equal(w.usage("a")["30d"].requests, 0);
});

Deno.test("QuotaWindows keeps a late observation that still falls inside a window", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  w.observe("a", { at: clock.now, tokens: 1, costMicros: 0 });
  // A request that started 2 h ago and finalized now.
  w.observe("a", { at: clock.now - 2 * HOUR, tokens: 1, costMicros: 0 });
  // Too old for the 5 h window, but inside 7 d.
  w.observe("a", { at: clock.now - 6 * HOUR, tokens: 1, costMicros: 0 });
  const u = w.usage("a");
  assert.equal(u["5h"].requests, 2);
  assert.equal(u["7d"].requests, 3);
});

Deno.test("QuotaWindows.rebuild() replays rollup rows with their request counts", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  w.observe("stale", { at: clock.now, tokens: 1, costMicros: 1 });
  w.rebuild([
    { accountName: "a", at: clock.now - HOUR, requests: 5, tokens: 500, costMicros: 50 },
    { accountName: "a", at: clock.now - 3 * DAY, requests: 2, tokens: 200, costMicros: 20 },
    { accountName: "b", at: clock.now - 40 * DAY, requests: 9, tokens: 9, costMicros: 9 },
  ]);
  assert.deepEqual(w.usage("a")["5h"], { requests: 5, tokens: 500, costMicros: 50 });
  assert.deepEqual(w.usage("a")["7d"], { requests: 7, tokens: 700, costMicros: 70 });
  assert.equal(w.usage("b")["30d"].requests, 0);
  assert.equal(w.usage("stale")["5h"].requests, 0);
});

Deno.test("QuotaWindows.fill() writes the nine totals without allocating", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  w.observe("a", { at: clock.now, tokens: 4, costMicros: 2 });
  const out = new Float64Array(USAGE_BUFFER_LENGTH).fill(99);
  w.fill("a", clock.now, out);
  assert.deepEqual([...out], [1, 4, 2, 1, 4, 2, 1, 4, 2]);
  w.fill("nobody", clock.now, out);
  assert.deepEqual([...out], [0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("QuotaWindows sums stay exact over many bucket turnovers", () => {
  const clock = fakeClock();
  const w = new QuotaWindows({ clock });
  for (let i = 0; i < 2_000; i++) {
    w.observe("a", { at: clock.now, tokens: 3, costMicros: 1 });
    clock.advance(10 * 60_000);
  }
  // 5 h of 10-minute steps: the last 30 observations (bucket granularity 5 min).
  const u = w.usage("a", clock.now - 1);
  assert.ok(u["5h"].requests >= 29 && u["5h"].requests <= 31, String(u["5h"].requests));
  assert.equal(u["5h"].tokens, u["5h"].requests * 3);
});
