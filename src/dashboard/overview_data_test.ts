import assert from "node:assert/strict";
import { openTestDatabase } from "../storage/_testing.ts";
import type { Db } from "../storage/db.ts";
import { DailyUsageCache } from "./overview_data.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const TODAY = Date.UTC(2026, 11, 3);
const NOW = TODAY + 10 * HOUR;
const FIRST = TODAY - 179 * DAY;

function addRollup(db: Db, start: number, tokens: number): void {
  db.stmt(
    `INSERT INTO usage_rollups (bucket_ms, bucket_start, account_id, provider_id, model_id,
       client_protocol, streamed, status, request_count, input_tokens, updated_at)
     VALUES (${HOUR}, ?, 1, 'p', 'm', 'openai', 0, 'completed', 1, ?, 0)
     ON CONFLICT DO UPDATE SET request_count = request_count + 1,
       input_tokens = input_tokens + excluded.input_tokens`,
  ).run(start, tokens);
}

Deno.test("DailyUsageCache keeps finished days for 10 minutes and reads today live", () => {
  using db = openTestDatabase();
  const cache = new DailyUsageCache();
  // An empty table: a first request today still shows on the next load.
  assert.deepEqual(cache.read(db, FIRST, NOW), []);
  addRollup(db, TODAY + HOUR, 50);
  assert.deepEqual(cache.read(db, FIRST, NOW + 1), [{ day: TODAY, tokens: 50, requests: 1 }]);
  addRollup(db, TODAY - 2 * DAY, 70); // a late row for a finished day
  addRollup(db, TODAY + 2 * HOUR, 5);
  assert.deepEqual(cache.read(db, FIRST, NOW + 2), [{ day: TODAY, tokens: 55, requests: 2 }]);
  // Past the TTL the finished days are read again.
  assert.deepEqual(cache.read(db, FIRST, NOW + 600_000), [
    { day: TODAY - 2 * DAY, tokens: 70, requests: 1 },
    { day: TODAY, tokens: 55, requests: 2 },
  ]);
  // A new day moves the window and re-reads at once; yesterday is now a finished day.
  const tomorrow = TODAY + DAY;
  assert.deepEqual(cache.read(db, FIRST + DAY, tomorrow + HOUR).map((d) => d.day), [
    TODAY - 2 * DAY,
    TODAY,
  ]);
});
