/** Behaviour the initial schema promises to the repositories built on it. */
import assert from "node:assert/strict";
import { openTestDatabase, queryPlan } from "./_testing.ts";
import type { Db } from "./db.ts";

const T0 = 1_700_000_000_000;

function seedAccount(db: Db, name = "alice"): number {
  db.stmt(
    "INSERT OR IGNORE INTO providers (id, base_url, created_at, updated_at) VALUES ('p1', 'http://x', ?, ?)",
  ).run(T0, T0);
  const row = db.stmt(
    "INSERT INTO accounts (name, provider_id, created_at, updated_at) VALUES (?, 'p1', ?, ?) RETURNING id",
  ).get(name, T0, T0);
  return Number(row?.id);
}

function insertRequest(db: Db, accountId: number | null, model = "glm-4.6"): number {
  const row = db.stmt(
    `INSERT INTO requests (proxy_request_id, account_id, provider_id, model_id, requested_model,
       client_protocol, started_at)
     VALUES (?, ?, 'p1', ?, ?, 'openai', ?) RETURNING id`,
  ).get(crypto.randomUUID(), accountId, model, model, T0);
  return Number(row?.id);
}

function usesIndex(plan: string[], index: string): boolean {
  return plan.some((line) => line.includes(`INDEX ${index}`));
}

Deno.test("requests keep history across account renames and record unknown models", () => {
  using db = openTestDatabase();
  const account = seedAccount(db);
  const id = insertRequest(db, account, "never-seen-model");
  db.stmt("UPDATE accounts SET name = 'alice-renamed' WHERE id = ?").run(account);
  const row = db.stmt(
    "SELECT a.name, r.model_id FROM requests r JOIN accounts a ON a.id = r.account_id WHERE r.id = ?",
  ).get(id);
  assert.deepEqual({ ...row }, { name: "alice-renamed", model_id: "never-seen-model" });
  assert.throws(() => db.stmt("DELETE FROM accounts WHERE id = ?").run(account), /FOREIGN KEY/);
  assert.throws(() => insertRequest(db, 999), /FOREIGN KEY/);
  insertRequest(db, null); // failed before any account was selected
});

Deno.test("requests.completed_at is set exactly when the status leaves pending", () => {
  using db = openTestDatabase();
  const id = insertRequest(db, seedAccount(db));
  assert.throws(
    () => db.stmt("UPDATE requests SET status = 'completed' WHERE id = ?").run(id),
    /CHECK constraint/,
  );
  assert.throws(
    () => db.stmt("UPDATE requests SET status = 'finished', completed_at = 1 WHERE id = ?").run(id),
    /CHECK constraint/,
  );
  db.stmt("UPDATE requests SET status = 'completed', completed_at = ? WHERE id = ?").run(
    T0 + 5,
    id,
  );
  assert.throws(
    () => db.stmt("UPDATE requests SET latency_ms = ? WHERE id = ?").run(12.5, id),
    /cannot store REAL value in INTEGER column/,
  );
});

Deno.test("deleting a request removes its attempts", () => {
  using db = openTestDatabase();
  const account = seedAccount(db);
  const id = insertRequest(db, account);
  db.stmt(
    `INSERT INTO request_attempts (request_id, attempt_number, account_id, provider_id, model_id,
       upstream_protocol, started_at) VALUES (?, 1, ?, 'p1', 'm', 'openai', ?)`,
  ).run(id, account, T0);
  db.stmt("DELETE FROM requests WHERE id = ?").run(id);
  assert.equal(db.stmt("SELECT count(*) AS n FROM request_attempts").get()?.n, 0);
});

Deno.test("account_backoffs upserts one row per account, model scope and reason", () => {
  using db = openTestDatabase();
  const account = seedAccount(db);
  const upsert = db.stmt(
    `INSERT INTO account_backoffs (account_id, model_id, reason, backoff_until, first_failure_at,
       last_failure_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id, ifnull(model_id, ''), reason) DO UPDATE SET
       consecutive_failures = consecutive_failures + 1,
       backoff_until = excluded.backoff_until, last_failure_at = excluded.last_failure_at`,
  );
  upsert.run(account, null, "rate_limited", T0 + 60_000, T0, T0);
  upsert.run(account, null, "rate_limited", T0 + 90_000, T0 + 1, T0 + 1);
  upsert.run(account, "m1", "model_unavailable", T0 + 300_000, T0, T0);
  upsert.run(account, null, "authentication_failed", null, T0, T0);
  const rows = db.stmt(
    "SELECT model_id, reason, consecutive_failures, backoff_until FROM account_backoffs ORDER BY id",
  ).all().map((r) => ({ ...r }));
  assert.deepEqual(rows, [
    { model_id: null, reason: "rate_limited", consecutive_failures: 2, backoff_until: T0 + 90_000 },
    {
      model_id: "m1",
      reason: "model_unavailable",
      consecutive_failures: 1,
      backoff_until: T0 + 300_000,
    },
    {
      model_id: null,
      reason: "authentication_failed",
      consecutive_failures: 1,
      backoff_until: null,
    },
  ]);
  assert.throws(() => upsert.run(account, null, "bored", T0, T0, T0), /CHECK constraint/);
});

Deno.test("usage_rollups adds counters into one row per bucket and dimension set", () => {
  using db = openTestDatabase();
  const add = db.stmt(
    `INSERT INTO usage_rollups (bucket_ms, bucket_start, account_id, provider_id, model_id,
       client_protocol, streamed, status, request_count, input_tokens, updated_at)
     VALUES (3600000, ?, 0, '', 'm', 'openai', 1, 'completed', 1, ?, ?)
     ON CONFLICT DO UPDATE SET request_count = request_count + excluded.request_count,
       input_tokens = input_tokens + excluded.input_tokens, updated_at = excluded.updated_at`,
  );
  add.run(T0, 10, T0);
  add.run(T0, 15, T0 + 1);
  const row = db.stmt("SELECT request_count, input_tokens FROM usage_rollups").get();
  assert.deepEqual({ ...row }, { request_count: 2, input_tokens: 25 });
});

Deno.test("the dashboard, recovery and routing queries use their indexes", () => {
  using db = openTestDatabase();
  const cases: [string, string][] = [
    [
      "SELECT count(*) FROM requests WHERE started_at >= ? AND started_at < ?",
      "idx_requests_started",
    ],
    // Per-account and per-model sums come from usage_rollups; on raw rows they
    // narrow by time first (0002 dropped the per-account and per-model indexes).
    [
      "SELECT sum(input_tokens) FROM requests WHERE account_id = ? AND started_at >= ?",
      "idx_requests_started",
    ],
    ["SELECT id FROM requests WHERE status = 'pending' ORDER BY started_at", "idx_requests_"],
    ["SELECT * FROM request_attempts WHERE request_id = ?", "idx_request_attempts_request"],
    [
      "SELECT count(*) FROM request_attempts WHERE account_id = ? AND started_at >= ?",
      "idx_request_attempts_account_started",
    ],
    [
      "SELECT * FROM account_backoffs WHERE backoff_until < ?",
      "idx_account_backoffs_until",
    ],
    [
      "SELECT * FROM provider_pings WHERE provider_id = ? AND probed_at >= ? ORDER BY probed_at",
      "idx_provider_pings_provider_probed",
    ],
    [
      "SELECT * FROM account_events WHERE occurred_at >= ? ORDER BY occurred_at DESC LIMIT 50",
      "idx_account_events_occurred",
    ],
    [
      "SELECT * FROM model_prices WHERE provider_id = ? AND model_id = ? ORDER BY captured_at DESC, id DESC LIMIT 1",
      "idx_model_prices_latest",
    ],
  ];
  for (const [sql, index] of cases) {
    const plan = queryPlan(db, sql);
    assert.ok(usesIndex(plan, index), `${sql}\n  expected ${index}, got ${plan.join(" | ")}`);
  }
});
