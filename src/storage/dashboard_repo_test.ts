import assert from "node:assert/strict";
import { openTestDatabase } from "./_testing.ts";
import { accountUsage, modelUsage } from "./dashboard_repo.ts";
import type { Db } from "./db.ts";

const BUCKET_MS = 300_000;
const T0 = 1_700_000_100_000;

function seed(db: Db): void {
  db.stmt(
    "INSERT INTO providers (id, base_url, created_at, updated_at) VALUES ('p1', 'http://x', 0, 0)",
  ).run();
  for (const [id, name] of [[1, "alice"], [2, "bob"]]) {
    db.stmt(
      "INSERT INTO accounts (id, name, provider_id, created_at, updated_at) VALUES (?, ?, 'p1', 0, 0)",
    ).run(id, name);
  }
  const add = db.stmt(
    `INSERT INTO usage_rollups (bucket_ms, bucket_start, account_id, provider_id, model_id,
       client_protocol, streamed, status, request_count, input_tokens, cache_read_tokens,
       cache_write_tokens, output_tokens, cost_microdollars, latency_ms_sum, latency_count,
       updated_at)
     VALUES (?, ?, ?, 'p1', ?, 'openai', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
  );
  // bucket start, account, model, status, requests, fresh, cache read, cache write, output,
  // cost, latency sum, latency count
  const rows: [number, number, string, string, ...number[]][] = [
    [T0 - 2 * BUCKET_MS, 1, "m1", "completed", 9, 900, 0, 0, 90, 900, 900, 9],
    [T0, 1, "m1", "completed", 3, 100, 300, 0, 30, 60, 300, 3],
    [T0, 1, "m2", "error", 1, 50, 0, 0, 0, 0, 100, 1],
    [T0, 2, "m1", "client_error", 2, 40, 0, 60, 10, 20, 0, 0],
    [T0, 0, "", "error", 4, 0, 0, 0, 0, 0, 0, 0],
  ];
  for (const [start, account, model, status, ...n] of rows) {
    add.run(BUCKET_MS, start, account, model, status, ...n);
  }
}

Deno.test("accountUsage() sums the buckets that overlap the period, by account", () => {
  using db = openTestDatabase();
  seed(db);
  // `since` falls inside the T0 bucket: it counts; the bucket two before does not.
  const rows = accountUsage(db, T0 + 1_000);
  assert.deepEqual(rows.map((r) => r.account), ["alice", "bob"]);
  const [alice, bob] = rows;
  assert.deepEqual(
    [alice.requests, alice.errors, alice.freshInputTokens, alice.cacheReadTokens],
    [4, 1, 150, 300],
  );
  assert.deepEqual([alice.outputTokens, alice.costMicros, alice.latencyMsSum], [30, 60, 400]);
  assert.equal(alice.latencyCount, 4);
  assert.equal(alice.providerId, "p1");
  // A client error is not an upstream error.
  assert.deepEqual([bob.requests, bob.errors, bob.cacheWriteTokens], [2, 0, 60]);
  assert.equal(accountUsage(db, T0 - 2 * BUCKET_MS)[0].requests, 13);
});

Deno.test("modelUsage() sums by model and leaves out requests without one", () => {
  using db = openTestDatabase();
  seed(db);
  const rows = modelUsage(db, T0);
  assert.deepEqual(rows.map((r) => [r.modelId, r.requests, r.errors]), [["m1", 5, 0], [
    "m2",
    1,
    1,
  ]]);
  assert.equal(rows[0].cacheReadTokens, 300);
  assert.equal(rows[0].cacheWriteTokens, 60);
});
