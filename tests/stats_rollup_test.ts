/**
 * The day rollups of migration 0004 (issue #14, speed with history): the
 * triggers keep `request_days` and `routing_exclusion_days` equal to the sums
 * over `requests` through inserts, finalizes, the pending sweep and retention
 * deletes, and every stats query that reads them answers exactly what summing
 * the request rows answers, for periods that start and end inside a day.
 * Real SQLite files, rows written through the recorder's repositories.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { finalizeRequest, insertRequest, interruptPending } from "../src/storage/requests_repo.ts";
import type { IdLookup } from "../src/storage/requests_repo.ts";
import { deleteOlderThan } from "../src/storage/retention_repo.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
import { StatsRecorder } from "../src/stats/recorder.ts";
import type { RequestOutcome } from "../src/stats/types.ts";
import type { StatsPeriod } from "../src/stats/queries/period.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";
import {
  accountStats,
  bandwidth,
  modelStats,
  summary,
  timeseries,
} from "../src/stats/queries/usage.ts";
import { groupedTimeseries } from "../src/stats/queries/grouped.ts";
import { routingDistribution, routingExclusions } from "../src/stats/queries/routing.ts";

const DAY = 86_400_000;
// 15:37:12.345 UTC, so named periods end inside a day.
const NOW = Date.UTC(2026, 11, 3, 15, 37, 12, 345);

/** The migration's backfill SELECT for `table`: the sums as they would be rebuilt now. */
function backfill(table: string): string {
  const sql = MIGRATIONS.find((m) => m.name.startsWith("0004"))!.sql;
  const from = sql.indexOf(`INSERT INTO ${table}\n`) + `INSERT INTO ${table}\n`.length;
  return sql.slice(from, sql.indexOf(";", from));
}

function stored(db: Db, table: string, live: string, keys: string): unknown[] {
  return db.stmt(`SELECT * FROM ${table} WHERE ${live} <> 0 ORDER BY ${keys}`).all();
}

function rebuilt(db: Db, table: string, keys: string): unknown[] {
  const cols = db.stmt(`SELECT name FROM pragma_table_info('${table}')`).all().map((r) => r.name);
  return db.stmt(
    `WITH t(${cols.join(", ")}) AS (${backfill(table)}) SELECT * FROM t ORDER BY ${keys}`,
  ).all();
}

function assertRollupsMatchRows(db: Db, when: string): void {
  const dayKeys = "day, account_id, provider_id, model_id, routed";
  assert.deepEqual(
    stored(db, "request_days", "n", dayKeys),
    rebuilt(db, "request_days", dayKeys),
    `request_days after ${when}`,
  );
  const xKeys = "day, account_id, reason";
  assert.deepEqual(
    stored(db, "routing_exclusion_days", "exclusions", xKeys),
    rebuilt(db, "routing_exclusion_days", xKeys),
    `routing_exclusion_days after ${when}`,
  );
}

function ids(db: Db): IdLookup {
  const byName = new Map(
    db.stmt("SELECT id, name FROM accounts").all().map((r) => [String(r.name), Number(r.id)]),
  );
  return { accountId: (n) => (n === undefined ? null : byName.get(n) ?? null) };
}

/** Every query that reads the rollups, as the API calls them. */
function answers(db: Db, p: StatsPeriod) {
  const accountId = Number(db.stmt("SELECT min(id) AS id FROM accounts").get()!.id);
  return {
    summary: summary(db, p),
    accounts: accountStats(db, p, true),
    models: modelStats(db, p),
    modelsOfAccount: modelStats(db, p, accountId),
    days: timeseries(db, p, "day", {}),
    daysFiltered: timeseries(db, p, "day", { accountId, modelId: "glm-4.6" }),
    bandwidth: bandwidth(db, p),
    bandwidthOfAccount: bandwidth(db, p, accountId),
    grouped: groupedTimeseries(db, p, "day", "provider_model", 5, {}),
    groupedAccount: groupedTimeseries(db, p, "day", "account", 3, { modelId: "kimi-k2" }),
    routing: routingDistribution(db, p),
    exclusions: routingExclusions(db, p),
  };
}

async function withHistory(fn: (db: Db) => void): Promise<void> {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/history.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 4_000, days: 12, now: NOW });
    fn(db);
  } finally {
    db.close();
  }
}

Deno.test("day rollups stay equal to the request rows through insert, finalize, sweep and retention", async () => {
  await withHistory((db) => {
    assertRollupsMatchRows(db, "the seed");
    const lookup = ids(db);
    // Pending rows, one of them finalized with routing exclusions, the others swept.
    db.transaction(() => {
      for (let i = 0; i < 3; i++) {
        insertRequest(db, lookup, {
          requestId: `pending-${i}`,
          startedAt: NOW - DAY - i * 1000,
          clientProtocol: "openai",
          requestedModel: "kimi-k2",
          streamed: true,
          bytesIn: 321,
        });
      }
    });
    assertRollupsMatchRows(db, "pending inserts");
    const decisions = JSON.stringify([
      [1, NOW - DAY, "opencode-go", lookup.accountId("oc-1"), 1, 2, [], [
        [lookup.accountId("oc-2"), "backoff", NOW],
        [lookup.accountId("groq-1"), "wrong_provider", null],
      ]],
    ]);
    const id = finalizeRequest(db, lookup, "pending-0", {
      status: "completed",
      completedAt: NOW - DAY + 900,
      statusCode: 200,
      modelId: "kimi-k2",
      providerId: "opencode-go",
      accountName: "oc-1",
      upstreamProtocol: "openai",
      inputTokens: 100,
      outputTokens: 50,
      cacheReadTokens: 7,
      cacheWriteTokens: 0,
      reasoningTokens: 3,
      costMicros: 1234,
      exactness: "provider_reported",
      latencyMs: 900,
      firstByteMs: 120,
      bytesOut: 2048,
      attempts: [],
    }, decisions);
    assert.ok(id !== undefined, "the pending row was finalized");
    assertRollupsMatchRows(db, "a finalize");
    assert.equal(interruptPending(db, NOW, { errorClass: "shutdown" }), 2);
    assertRollupsMatchRows(db, "the pending sweep");
    const before = Number(db.stmt("SELECT total(n) AS n FROM request_days").get()!.n);
    const deleted = deleteOlderThan(db, "requests", NOW - 9 * DAY, 100_000);
    assert.ok(deleted > 500, `retention deleted ${deleted} rows`);
    assertRollupsMatchRows(db, "retention deletes");
    const after = Number(db.stmt("SELECT total(n) AS n FROM request_days").get()!.n);
    assert.equal(before - after, deleted);
    const excluded = db.stmt(
      "SELECT total(exclusions) AS n FROM routing_exclusion_days WHERE reason = 'backoff'",
    ).get()!;
    assert.equal(Number(excluded.n), 1);
  });
});

Deno.test("a migrated database backfills the rollups of the rows it already has", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/old.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 1_500, days: 5, now: NOW });
    // Back to the file as 0003 left it, with the rows it already had, then migrated again.
    // 0006's and 0007's tables go too: a later migration on file refuses an earlier one.
    db.exec(`DROP TRIGGER request_days_delete; DROP TABLE request_days;
      DROP TABLE routing_exclusion_days; DELETE FROM schema_migrations WHERE name LIKE '0004%';
      DROP TRIGGER attempt_days_delete; DROP TABLE attempt_days; DROP TABLE attempt_latency_days;
      DROP TABLE decision_days; DELETE FROM schema_migrations WHERE name LIKE '0006%';
      DROP TRIGGER request_transcodes_delete; DROP TABLE request_transcodes;
      DROP TABLE transcode_days; DROP TABLE transcode_field_days;
      DELETE FROM schema_migrations WHERE name LIKE '0007%'`);
    assert.deepEqual(migrate(db, MIGRATIONS, { clock: () => NOW }).map((m) => m.name), [
      "0004_day_rollups.sql",
      "0006_attempt_decision_days.sql",
      "0007_transcode_stats.sql",
    ]);
    const n = db.stmt("SELECT total(n) AS n FROM request_days").get()!;
    assert.equal(Number(n.n), 1_500);
    const x = db.stmt("SELECT total(exclusions) AS n FROM routing_exclusion_days").get()!;
    assert.ok(Number(x.n) > 0, "the seed's failovers left exclusions");
    assertRollupsMatchRows(db, "the backfill");
  } finally {
    db.close();
  }
});

Deno.test("rollup-backed answers equal sums over the rows for periods with partial days at both ends", async () => {
  await withHistory((db) => {
    const periods = [
      parsePeriod("7d", NOW),
      parsePeriod("30d", NOW),
      parsePeriod("2026-11-24T05:17:03.250Z..2026-12-01T22:41:00Z", NOW),
      parsePeriod("2026-11-28T09:00:00Z..2026-11-28T21:00:00Z", NOW),
      parsePeriod("2026-11-27..2026-11-30", NOW),
      parsePeriod("2026-11-30T23:59:59.999Z", NOW),
    ];
    for (const p of periods) {
      const fromRollups = answers(db, p);
      const fromRows = withoutDayRollups(() => answers(db, p));
      assert.deepEqual(fromRollups, fromRows, `period ${p.start}..${p.end}`);
      const count = db.stmt(
        "SELECT count(*) AS n FROM requests WHERE started_at >= ? AND started_at < ?",
      ).get(p.start, p.end)!;
      assert.equal(fromRollups.summary.total_requests, Number(count.n));
    }
    const week = answers(db, periods[0]);
    assert.ok(week.summary.total_requests > 2_000, "the 7-day period holds most of the seed");
    assert.ok(week.exclusions.length > 0, "failovers left exclusions in the period");
    assert.equal(week.days.length, 8, "7 days that start and end inside a day touch 8 days");
  });
});

Deno.test("the recorder's batches keep the day rollups equal to the rows it writes", async () => {
  await withHistory((db) => {
    const lookup = ids(db);
    let now = NOW;
    const recorder = new StatsRecorder({
      db,
      ids: lookup,
      clock: () => now,
      flushIntervalMs: 60_000,
      maxBuffered: 1_000,
      bucketMs: 300_000,
      pendingMinAgeMs: 0,
      log: () => {},
    });
    const done = (i: number): RequestOutcome => ({
      status: i % 5 === 0 ? "error" : "completed",
      completedAt: now,
      statusCode: i % 5 === 0 ? 502 : 200,
      modelId: i % 2 === 0 ? "kimi-k2" : "glm-4.6",
      providerId: "opencode-go",
      accountName: i % 3 === 0 ? "oc-1" : "oc-2",
      upstreamProtocol: "openai",
      inputTokens: 10 * i,
      outputTokens: i,
      cacheReadTokens: i % 4,
      cacheWriteTokens: 1,
      reasoningTokens: 0,
      costMicros: 100 + i,
      exactness: i % 2 === 0 ? "exact" : "estimated",
      latencyMs: 250.6 + i,
      firstByteMs: i % 3 === 0 ? undefined : 40 + i,
      bytesOut: 700,
      attempts: [],
    });
    for (let i = 0; i < 40; i++) {
      recorder.begin({
        requestId: `rec-${i}`,
        // Across midnight: two days' rows in one batch.
        startedAt: Date.UTC(2026, 11, 2, 23, 59, 50) + i * 500,
        clientProtocol: "openai",
        requestedModel: "kimi-k2",
        streamed: i % 2 === 1,
        bytesIn: 500 + i,
      });
    }
    // Half finish before the first flush (one insert each), half after their pending row.
    for (let i = 0; i < 20; i++) recorder.finish(`rec-${i}`, done(i));
    recorder.flush();
    const open = db.stmt("SELECT count(*) AS n FROM requests WHERE status = 'pending'").get()!;
    assert.equal(Number(open.n), 20, "the unfinished half was written pending");
    assertRollupsMatchRows(db, "a batch of inserts and pending rows");
    now += 5_000;
    for (let i = 20; i < 40; i++) recorder.finish(`rec-${i}`, done(i));
    recorder.flush();
    assertRollupsMatchRows(db, "a batch of finalizes");
    const pending = db.stmt("SELECT count(*) AS n FROM requests WHERE status = 'pending'").get()!;
    assert.equal(Number(pending.n), 0);
    const day = db.stmt(
      "SELECT total(n) AS n FROM request_days WHERE day = ? AND provider_id = 'opencode-go'",
    ).get(Date.UTC(2026, 11, 3))!;
    assert.ok(Number(day.n) >= 20, "the rows after midnight count on the 3rd");
    recorder.close();
  });
});
