import assert from "node:assert/strict";
import { openTestDatabase } from "./_testing.ts";
import { modelUsage, overviewTotals } from "./dashboard_repo.ts";
import { dailyUsage, requestOutcomes, rollupBucketSizes } from "./overview_repo.ts";
import type { Db } from "./db.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 3, 10);

function seed(db: Db): void {
  const add = db.stmt(
    `INSERT INTO usage_rollups (bucket_ms, bucket_start, account_id, provider_id, model_id,
       client_protocol, streamed, status, request_count, input_tokens, cache_read_tokens,
       cache_write_tokens, output_tokens, updated_at)
     VALUES (${HOUR}, ?, ?, ?, ?, 'openai', 0, ?, ?, ?, ?, ?, ?, 0)`,
  );
  // start, account, provider, model, status, requests, fresh, cache read, cache write, output
  const rows: [number, number, string, string, string, ...number[]][] = [
    [T0, 1, "p1", "m1", "completed", 5, 100, 20, 0, 50],
    [T0, 1, "p1", "m1", "error", 2, 10, 0, 0, 0],
    [T0, 1, "p1", "m1", "interrupted", 1, 10, 0, 0, 5],
    [T0, 1, "p1", "m1", "client_error", 1, 10, 0, 0, 0], // the upstream refused the body
    [T0, 1, "p1", "m1", "cancelled", 1, 0, 0, 0, 0],
    [T0, 0, "", "no-such-model", "client_error", 3, 0, 0, 0, 0], // unknown model
    [T0, 0, "", "", "client_error", 1, 0, 0, 0, 0], // not JSON
    [T0, 0, "", "m1", "error", 1, 0, 0, 0, 0], // no account could take it
    [T0 - 3 * DAY, 1, "p1", "m1", "completed", 4, 1000, 0, 0, 100],
  ];
  for (const [start, ...rest] of rows) add.run(start, ...rest);
}

Deno.test("requestOutcomes() splits the period's requests into parts that add up", () => {
  using db = openTestDatabase();
  seed(db);
  const o = requestOutcomes(db, T0);
  assert.deepEqual(o, { completed: 5, errors: 4, rejected: 4, clientErrors: 1, cancelled: 1 });
  const total = overviewTotals(db, T0).requests;
  assert.equal(total, 15);
  assert.equal(o.completed + o.errors + o.rejected + o.clientErrors + o.cancelled, total);
  // As primary-key ranges per bucket size: the same split; a `since` inside a bucket counts it.
  assert.deepEqual(requestOutcomes(db, T0, [HOUR]), o);
  assert.deepEqual(requestOutcomes(db, T0 + HOUR - 1, [HOUR]), o);
  assert.deepEqual(requestOutcomes(db, T0 + HOUR, [HOUR]).completed, 0);
  assert.deepEqual(requestOutcomes(db, T0 - 3 * DAY, [HOUR]).completed, 9);
});

Deno.test("modelUsage() lists only models a provider served", () => {
  using db = openTestDatabase();
  seed(db);
  const models = modelUsage(db, T0);
  assert.deepEqual(models.map((m) => [m.modelId, m.requests]), [["m1", 10]]);
});

Deno.test("dailyUsage() sums tokens of every kind and requests per UTC day", () => {
  using db = openTestDatabase();
  seed(db);
  const today = Math.floor(T0 / DAY) * DAY;
  assert.deepEqual(dailyUsage(db, today - 10 * DAY), [
    { day: today - 3 * DAY, tokens: 1100, requests: 4 },
    { day: today, tokens: 205, requests: 15 },
  ]);
  assert.deepEqual(dailyUsage(db, today).map((d) => d.day), [today]);
  // Read as primary-key ranges per bucket size, and bounded above: the same sums.
  assert.deepEqual(rollupBucketSizes(db), [HOUR]);
  assert.deepEqual(
    dailyUsage(db, today - 10 * DAY, Number.MAX_SAFE_INTEGER, [HOUR]),
    dailyUsage(db, today - 10 * DAY),
  );
  assert.deepEqual(dailyUsage(db, today - 10 * DAY, today, [HOUR]), [
    { day: today - 3 * DAY, tokens: 1100, requests: 4 },
  ]);
});
