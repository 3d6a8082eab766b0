import assert from "node:assert/strict";
import { openTestDatabase } from "../storage/_testing.ts";
import { syncConfigRows } from "../storage/accounts_repo.ts";
import { countByStatus, interruptPending } from "../storage/requests_repo.ts";
import { StatsRecorder } from "./recorder.ts";
import type { RecorderOptions } from "./recorder.ts";
import type { Db } from "../storage/db.ts";
import type { RequestOutcome, RequestStart } from "./types.ts";

function setup(db: Db, overrides: Partial<RecorderOptions> = {}): StatsRecorder {
  const ids = syncConfigRows(
    db,
    [{ id: "p1", baseUrl: "http://127.0.0.1:9/v1", protocols: ["openai"] }],
    [{ name: "acct-1", providerId: "p1", apiKeyEnv: "K1", enabled: true, weight: 1 }],
    1,
  );
  return new StatsRecorder({
    db,
    ids: { accountId: (name) => (name === undefined ? null : ids.get(name) ?? null) },
    clock: () => 1_000,
    flushIntervalMs: 60_000,
    maxBuffered: 1_000,
    bucketMs: 300_000,
    log: () => {},
    ...overrides,
  });
}

function start(id: string): RequestStart {
  return {
    requestId: id,
    startedAt: 10,
    clientProtocol: "openai",
    requestedModel: "m1",
    streamed: true,
    bytesIn: 100,
  };
}

function outcome(overrides: Partial<RequestOutcome> = {}): RequestOutcome {
  return {
    status: "completed",
    completedAt: 50,
    statusCode: 200,
    modelId: "m1",
    providerId: "p1",
    accountName: "acct-1",
    upstreamProtocol: "openai",
    inputTokens: 7,
    outputTokens: 3,
    cacheReadTokens: 2,
    cacheWriteTokens: 0,
    reasoningTokens: 1,
    costMicros: 123,
    exactness: "exact",
    latencyMs: 40.4,
    firstByteMs: 5,
    bytesOut: 900,
    attempts: [{
      attemptNumber: 1,
      accountName: "acct-1",
      providerId: "p1",
      modelId: "m1",
      upstreamProtocol: "openai",
      startedAt: 11,
      completedAt: 50,
      statusCode: 200,
      bytesOut: 900,
    }],
    ...overrides,
  };
}

Deno.test("StatsRecorder writes a request finished before the flush as one complete row", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  rec.begin(start("r1"));
  rec.finish("r1", outcome());
  assert.equal(rec.flush(), 1);
  const row = db.stmt("SELECT * FROM requests WHERE proxy_request_id = 'r1'").get()!;
  assert.equal(row.status, "completed");
  assert.equal(row.input_tokens, 7);
  assert.equal(row.latency_ms, 40);
  assert.equal(row.attempt_count, 1);
  assert.equal(
    db.stmt("SELECT count(*) AS n FROM request_attempts").get()!.n,
    0,
    "a single successful attempt is described by the request row alone",
  );
  const rollup = db.stmt("SELECT request_count, cost_microdollars FROM usage_rollups").get()!;
  assert.deepEqual({ ...rollup }, { request_count: 1, cost_microdollars: 123 });
  rec.close();
});

Deno.test("StatsRecorder writes every attempt of a failed-over request and sums rollups per bucket", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  const first = outcome().attempts[0];
  rec.begin(start("a"));
  rec.begin(start("b"));
  rec.finish(
    "a",
    outcome({
      attempts: [{ ...first, errorClass: "upstream_rate_limited", statusCode: 429 }, {
        ...first,
        attemptNumber: 2,
      }],
    }),
  );
  rec.finish("b", outcome());
  rec.flush();
  const attempts = db.stmt("SELECT attempt_number, error_class FROM request_attempts").all();
  assert.deepEqual(attempts.map((r) => ({ ...r })), [
    { attempt_number: 1, error_class: "upstream_rate_limited" },
    { attempt_number: 2, error_class: null },
  ]);
  const rollup = db.stmt(
    "SELECT request_count, attempt_count, cost_microdollars FROM usage_rollups",
  ).all();
  assert.deepEqual(rollup.map((r) => ({ ...r })), [
    { request_count: 2, attempt_count: 3, cost_microdollars: 246 },
  ]);
  rec.close();
});

Deno.test("StatsRecorder writes a pending row first and finalizes it later exactly once", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  rec.begin(start("r2"));
  rec.flush();
  assert.deepEqual(countByStatus(db), { pending: 1 });
  rec.finish("r2", outcome({ status: "cancelled", statusCode: 499 }));
  rec.finish("r2", outcome());
  rec.flush();
  assert.deepEqual(countByStatus(db), { cancelled: 1 });
  assert.equal(rec.stats().duplicateFinishes, 1);
  rec.close();
});

Deno.test("StatsRecorder writes pending rows only for requests older than pendingMinAgeMs", () => {
  using db = openTestDatabase();
  let now = 1_000;
  const rec = setup(db, { clock: () => now, pendingMinAgeMs: 500 });
  rec.begin({ ...start("old"), startedAt: 400 });
  rec.begin({ ...start("young"), startedAt: 900 });
  rec.flush();
  assert.deepEqual(countByStatus(db), { pending: 1 }, "only the request begun 600 ms ago");
  assert.equal(rec.stats().pendingWrites, 1, "the young start still waits");
  rec.finish("young", outcome());
  rec.flush();
  assert.deepEqual(countByStatus(db), { pending: 1, completed: 1 }, "written once, whole");
  now = 2_000;
  rec.finish("old", outcome());
  rec.flush();
  assert.deepEqual(countByStatus(db), { completed: 2 });
  rec.close();
});

Deno.test("StatsRecorder keeps records buffered while the database refuses writes", () => {
  using db = openTestDatabase();
  const logs: string[] = [];
  const rec = setup(db, { log: (m) => logs.push(m) });
  db.exec("PRAGMA query_only = ON");
  rec.begin(start("r3"));
  rec.finish("r3", outcome());
  assert.equal(rec.flush(), 0);
  assert.equal(rec.stats().writeFailures, 1);
  assert.equal(rec.stats().pendingWrites, 1);
  assert.equal(logs.length, 1);
  db.exec("PRAGMA query_only = OFF");
  assert.equal(rec.flush(), 1);
  assert.deepEqual(countByStatus(db), { completed: 1 });
  const events = db.stmt("SELECT event_type FROM operational_events").all().map((r) =>
    r.event_type
  );
  assert.deepEqual(events, ["stats_write_recovered"]);
  rec.close();
});

Deno.test("interruptPending() finalizes rows a dead process left pending, sparing live ones", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  rec.begin(start("old"));
  rec.begin({ ...start("live"), startedAt: 5 });
  rec.flush();
  const changed = interruptPending(db, 2_000, {
    startedBefore: 1_000,
    skip: new Set(["live"]),
    errorClass: "stale_request",
  });
  assert.equal(changed, 1);
  assert.deepEqual(countByStatus(db), { interrupted: 1, pending: 1 });
  rec.finish("live", outcome());
  rec.finish("old", outcome());
  rec.close();
  assert.deepEqual(countByStatus(db), { interrupted: 1, completed: 1 });
  assert.equal(rec.stats().duplicateFinishes, 1);
});

Deno.test("StatsRecorder.flush() splits a refused batch: the bad row becomes an event, the rest land", () => {
  using db = openTestDatabase();
  const events: string[] = [];
  const rec = setup(db, { log: (m) => events.push(m) });
  // A rollup counter already at the top of int64: adding to it overflows and
  // the STRICT table refuses the value (as ~1 000 huge upstream counts did).
  rec.begin(start("seed"));
  rec.finish("seed", outcome());
  assert.equal(rec.flush(), 1);
  db.exec(`UPDATE usage_rollups SET input_tokens = ${2n ** 63n - 1n}`);
  rec.begin(start("bad"));
  rec.finish("bad", outcome());
  rec.begin(start("good"));
  rec.finish("good", outcome({ modelId: "m2" }));
  assert.equal(rec.flush(), 1);
  assert.equal(rec.stats().pendingWrites, 0, "nothing stays behind to block later batches");
  assert.equal(rec.stats().rejectedRecords, 1);
  const rows = db.stmt("SELECT proxy_request_id FROM requests ORDER BY id").all();
  assert.deepEqual(rows.map((r) => r.proxy_request_id), ["seed", "good"]);
  const rejected = db.stmt(
    "SELECT details_json FROM operational_events WHERE event_type = 'stats_record_rejected'",
  ).all();
  assert.equal(rejected.length, 1);
  assert.equal(JSON.parse(String(rejected[0].details_json)).requestId, "bad");
  assert.ok(events.some((m) => m.includes("bad") && m.includes("refused")));
  rec.begin(start("later"));
  rec.finish("later", outcome({ modelId: "m3" }));
  assert.equal(rec.flush(), 1, "later batches are written");
});

Deno.test("StatsRecorder stores client strings cut to a bound, with a marker", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  const huge = "m".repeat(5_000_000);
  rec.begin({ ...start("r1"), requestedModel: huge, sessionKeyHash: huge });
  rec.finish("r1", outcome({ errorMessage: huge, modelId: huge, upstreamRequestId: huge }));
  assert.equal(rec.flush(), 1);
  const row = db.stmt(
    `SELECT requested_model, session_key_hash, error_message, model_id, upstream_request_id
     FROM requests`,
  ).get()!;
  for (const [column, value] of Object.entries(row)) {
    const text = String(value);
    assert.ok(text.length < 1_100, `${column} is bounded (${text.length} chars)`);
    assert.match(text, /…\[cut \d+ chars\]$/, `${column} says it was cut`);
  }
  const rollup = db.stmt("SELECT model_id FROM usage_rollups").get()!;
  assert.ok(String(rollup.model_id).length < 300);
});

Deno.test("StatsRecorder records implausible upstream usage as an event", () => {
  using db = openTestDatabase();
  const rec = setup(db);
  rec.begin(start("r1"));
  rec.finish("r1", outcome({ implausibleUsage: "upstream reported an implausible value: x=-1" }));
  rec.flush();
  const ev = db.stmt(
    "SELECT details_json FROM operational_events WHERE event_type = 'implausible_usage'",
  ).get()!;
  const details = JSON.parse(String(ev.details_json));
  assert.equal(details.requestId, "r1");
  assert.equal(details.detail, "upstream reported an implausible value: x=-1");
});
