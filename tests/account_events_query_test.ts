/**
 * `accountEventsIn` and `accountEventTypes` (the Events page's queries) on
 * the seeded stats database: only the period's events, newest first, the
 * type filter, and details without upstream text.
 */
import assert from "node:assert/strict";
import { withTmpDir } from "./_helpers/tmp.ts";
import { NOW, SECRET_TEXT, seedDatabase } from "./stats_api_fixture.ts";
import { accountEventsIn, accountEventTypes } from "../src/stats/queries/account_events.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";

Deno.test("account events of a period: newest first, filtered by type, details safe", async () => {
  await using tmp = await withTmpDir();
  const db = seedDatabase(`${tmp.path}/stats.sqlite3`);
  try {
    const hour = parsePeriod("1h", NOW);
    const events = accountEventsIn(db, hour, 10);
    assert.deepEqual(
      events.map((e) => [e.account_name, e.event_type, e.occurred_at]),
      [["a2", "auth_failed", NOW - 10 * 60_000], ["a1", "rate_limited", NOW - 20 * 60_000]],
    );
    assert.deepEqual(events[1].details, { status_code: 429 });
    assert.ok(!JSON.stringify(events).includes(SECRET_TEXT));
    assert.deepEqual(accountEventsIn(db, hour, 1).map((e) => e.event_type), ["auth_failed"]);
    assert.deepEqual(
      accountEventsIn(db, hour, 10, "rate_limited").map((e) => e.account_name),
      ["a1"],
    );
    assert.deepEqual(accountEventTypes(db, hour), [
      { type: "auth_failed", count: 1 },
      { type: "rate_limited", count: 1 },
    ]);
    // A window that ends before both events holds none.
    const before = parsePeriod("2026-06-15T00:00:00Z..2026-06-15T11:30:00Z", NOW);
    assert.deepEqual(accountEventsIn(db, before, 10), []);
    assert.deepEqual(accountEventTypes(db, before), []);
  } finally {
    db.close();
  }
});
