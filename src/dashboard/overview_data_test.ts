import assert from "node:assert/strict";
import { openTestDatabase } from "../storage/_testing.ts";
import type { Db } from "../storage/db.ts";
import { insertRequest } from "../storage/requests_repo.ts";
import { DailyUsageCache } from "./overview_data.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const TODAY = Date.UTC(2026, 11, 3);
const NOW = TODAY + 10 * HOUR;
const FIRST = TODAY - 179 * DAY;

let seq = 0;

/** A finished request started at `at` with `tokens` fresh input tokens, as the recorder writes it. */
function addRequest(db: Db, at: number, tokens: number): void {
  insertRequest(db, { accountId: () => null }, {
    requestId: `r-${seq++}`,
    startedAt: at,
    clientProtocol: "openai",
    requestedModel: "m",
    streamed: false,
    bytesIn: 10,
  }, {
    status: "completed",
    completedAt: at + 10,
    statusCode: 200,
    inputTokens: tokens,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    exactness: "unknown",
    bytesOut: 10,
    attempts: [],
  });
}

Deno.test("DailyUsageCache keeps finished days for 10 minutes and reads today live", () => {
  using db = openTestDatabase();
  const cache = new DailyUsageCache();
  // An empty table: a first request today still shows on the next load.
  assert.deepEqual(cache.read(db, FIRST, NOW), []);
  addRequest(db, TODAY + HOUR, 50);
  assert.deepEqual(cache.read(db, FIRST, NOW + 1), [{ day: TODAY, tokens: 50, requests: 1 }]);
  addRequest(db, TODAY - 2 * DAY, 70); // a late row for a finished day
  addRequest(db, TODAY + 2 * HOUR, 5);
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
  // A day before the window is left out; a request still pending counts no request.
  addRequest(db, FIRST - DAY, 9);
  insertRequest(db, { accountId: () => null }, {
    requestId: "pending-1",
    startedAt: tomorrow + 2 * HOUR,
    clientProtocol: "openai",
    requestedModel: "m",
    streamed: false,
    bytesIn: 10,
  });
  assert.deepEqual(cache.read(db, FIRST + DAY, tomorrow + 3 * HOUR).at(-1), {
    day: TODAY,
    tokens: 55,
    requests: 2,
  });
});
