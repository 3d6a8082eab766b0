import assert from "node:assert/strict";
import { openTestDatabase } from "../storage/_testing.ts";
import { syncConfigRows } from "../storage/accounts_repo.ts";
import { countByStatus, insertOperationalEvent } from "../storage/requests_repo.ts";
import type { Db } from "../storage/db.ts";
import { StatsRecorder } from "./recorder.ts";
import { sweepOnce } from "./retention.ts";
import type { RetentionPolicy } from "./retention.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22);

/** `old` requests 40 days back, `fresh` ones an hour back, one old request still pending. */
function seed(db: Db, old: number, fresh: number) {
  const ids = syncConfigRows(
    db,
    [{ id: "p1", baseUrl: "http://127.0.0.1:9/v1", protocols: ["openai"] }],
    [{ name: "a1", providerId: "p1", apiKeyEnv: "K", enabled: true, weight: 1 }],
    1,
  );
  const accountId = ids.get("a1")!;
  const rec = new StatsRecorder({
    db,
    ids: { accountId: (n) => (n === undefined ? null : ids.get(n) ?? null) },
    clock: () => NOW,
    flushIntervalMs: 60_000,
    maxBuffered: 100_000,
    bucketMs: 300_000,
    log: () => {},
  });
  const request = (id: string, at: number, failedOver: boolean) => {
    rec.begin({
      requestId: id,
      startedAt: at,
      clientProtocol: "openai",
      requestedModel: "m",
      streamed: false,
      bytesIn: 10,
    });
    const attempt = (n: number, status: number) => ({
      attemptNumber: n,
      accountName: "a1",
      providerId: "p1",
      modelId: "m",
      upstreamProtocol: "openai" as const,
      startedAt: at,
      completedAt: at + 5,
      statusCode: status,
      bytesOut: 1,
    });
    rec.finish(id, {
      status: "completed",
      completedAt: at + 10,
      statusCode: 200,
      accountName: "a1",
      providerId: "p1",
      modelId: "m",
      inputTokens: 1,
      outputTokens: 1,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      costMicros: 1,
      exactness: "exact",
      bytesOut: 1,
      attempts: failedOver ? [attempt(1, 429), attempt(2, 200)] : [attempt(1, 200)],
    });
  };
  for (let i = 0; i < old; i++) request(`old-${i}`, NOW - 40 * DAY + i * 60_000, i === 0);
  for (let i = 0; i < fresh; i++) request(`new-${i}`, NOW - 3_600_000 + i, false);
  rec.begin({
    requestId: "stuck",
    startedAt: NOW - 40 * DAY,
    clientProtocol: "openai",
    requestedModel: "m",
    streamed: false,
    bytesIn: 1,
  });
  rec.flush();
  for (const at of [NOW - 100 * DAY, NOW - DAY]) {
    insertOperationalEvent(db, "crash_recovery", { interrupted: 1 }, at);
    db.stmt("INSERT INTO account_events (account_id, event_type, occurred_at) VALUES (?, 'x', ?)")
      .run(accountId, at);
    db.stmt("INSERT INTO provider_pings (provider_id, probed_at) VALUES ('p1', ?)").run(at);
  }
}

function count(db: Db, table: string): number {
  return Number(db.stmt(`SELECT count(*) AS n FROM ${table}`).get()?.n);
}

const POLICIES: RetentionPolicy[] = [
  { table: "requests", keepMs: 30 * DAY },
  { table: "account_events", keepMs: 90 * DAY },
  { table: "operational_events", keepMs: 90 * DAY },
  { table: "provider_pings", keepMs: 7 * DAY },
  { table: "usage_rollups", keepMs: 30 * DAY },
];

Deno.test("the retention sweep deletes what outlived its window and keeps the rest", () => {
  using db = openTestDatabase();
  seed(db, 3, 2);
  assert.equal(count(db, "request_attempts"), 2, "the failed-over old request has attempt rows");
  const rollupsBefore = count(db, "usage_rollups");
  const r = sweepOnce(
    db,
    POLICIES,
    { rowsPerBatch: 100, batchesPerTick: 4, tickBudgetMs: 5_000 },
    NOW,
  );
  assert.equal(r.backlog, false);
  assert.deepEqual(r.deleted, {
    requests: 3,
    account_events: 1,
    operational_events: 1,
    provider_pings: 1,
    usage_rollups: rollupsBefore - 1,
  });
  assert.deepEqual(countByStatus(db), { completed: 2, pending: 1 }, "the pending row stays");
  assert.equal(count(db, "request_attempts"), 0, "attempts go with their request");
  assert.equal(count(db, "usage_rollups"), 1, "the recent bucket stays");
  for (const t of ["account_events", "operational_events", "provider_pings"]) {
    assert.equal(count(db, t), 1, t);
  }
  assert.equal(db.integrityCheck(), "ok");
});

Deno.test("the retention sweep stops at its batch limits and reports the backlog", () => {
  using db = openTestDatabase();
  seed(db, 25, 1);
  const limits = { rowsPerBatch: 10, batchesPerTick: 2, tickBudgetMs: 5_000 };
  const first = sweepOnce(db, POLICIES.slice(0, 1), limits, NOW);
  assert.deepEqual(first, { deleted: { requests: 20 }, backlog: true });
  const second = sweepOnce(db, POLICIES.slice(0, 1), limits, NOW);
  assert.deepEqual(second, { deleted: { requests: 5 }, backlog: false });
  // A spent time budget also leaves a backlog, without deleting anything.
  let t = 0;
  const late = sweepOnce(db, POLICIES, { ...limits, tickBudgetMs: 1 }, NOW, () => t++);
  assert.equal(late.backlog, true);
});
