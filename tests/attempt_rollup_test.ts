/**
 * The attempt and decision day rollups of migration 0006 (issue #14): the
 * writer and the delete trigger keep `attempt_days`, `attempt_latency_days`
 * and `decision_days` equal to what the migration's backfill would rebuild
 * from the rows, through the recorder's batches, the pending sweep and
 * retention deletes; and every answer read from them (attempts, retries,
 * selections, skew, decision totals, the Reliability and Routing page data)
 * equals the rows-only answer for periods that start and end inside a day.
 * Real SQLite files, rows written by the recorder and the seed script.
 */
import assert from "node:assert/strict";
import {
  accountIds,
  HISTORY_NOW,
  historyRecorder,
  undo0008,
  withHistory,
} from "./_helpers/rollup_history.ts";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { insertRequest, interruptPending } from "../src/storage/requests_repo.ts";
import { deleteOlderThan } from "../src/storage/retention_repo.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
import type { AttemptDecision, AttemptRecord, RequestOutcome } from "../src/stats/types.ts";
import type { Candidate } from "../src/accounts/decision.ts";
import type { StatsPeriod } from "../src/stats/queries/period.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";
import { attemptStats, retryDistribution } from "../src/stats/queries/latency.ts";
import {
  routingDecisionTotals,
  routingSelections,
  routingSkew,
} from "../src/stats/queries/routing.ts";
import { loadReliability, loadRouting } from "../src/dashboard/pages_a_data.ts";

const DAY = 86_400_000;
// 15:37:12.345 UTC, so named periods end inside a day.
const NOW = HISTORY_NOW;
const MIGRATION = MIGRATIONS.find((m) => m.name.startsWith("0006"))!;

/** The migration's backfill SELECT for `table`: the sums as they would be rebuilt now. */
function backfill(table: string): string {
  const from = MIGRATION.sql.indexOf(`INSERT INTO ${table}\n`) + `INSERT INTO ${table}\n`.length;
  return MIGRATION.sql.slice(from, MIGRATION.sql.indexOf(";", from));
}

const TABLES: readonly (readonly [string, string, string])[] = [
  ["attempt_days", "n <> 0", "day, account_id, provider_id, ok, category"],
  ["attempt_latency_days", "true", "day"],
  ["decision_days", "decisions <> 0", "day"],
];

/** A latency row as counts by bucket, without the zeros deletes leave behind. */
function normalized(table: string, rows: Record<string, unknown>[]): unknown[] {
  if (table !== "attempt_latency_days") return rows;
  return rows.map((r) => ({
    day: r.day,
    buckets: Object.entries(JSON.parse(String(r.buckets)) as Record<string, number>)
      .filter(([, n]) => n !== 0).sort(([a], [b]) => Number(a) - Number(b)),
  })).filter((r) => r.buckets.length > 0);
}

function assertRollupsMatchRows(db: Db, when: string): void {
  for (const [table, live, keys] of TABLES) {
    const cols = db.stmt(`SELECT name FROM pragma_table_info('${table}')`).all().map((r) => r.name);
    const stored = db.stmt(`SELECT * FROM ${table} WHERE ${live} ORDER BY ${keys}`).all();
    const rebuilt = db.stmt(
      `WITH t(${cols.join(", ")}) AS (${backfill(table)}) SELECT * FROM t ORDER BY ${keys}`,
    ).all();
    assert.deepEqual(
      normalized(table, stored),
      normalized(table, rebuilt),
      `${table} after ${when}`,
    );
  }
}

/** Every answer that reads the 0006 rollups, as the API and the pages get them. */
function answers(db: Db, p: StatsPeriod) {
  const src = { db, flush: () => {} };
  const reliability = loadReliability(src, p, NOW);
  return {
    attempts: attemptStats(db, p, {}),
    retries: retryDistribution(db, p),
    selections: routingSelections(db, p),
    skew: routingSkew(db, p),
    decisions: routingDecisionTotals(db, p),
    reliability: {
      attempts: reliability.attempts,
      byProvider: reliability.byProvider,
      retries: reliability.retries,
    },
    routing: loadRouting(src, p),
  };
}

const PERIODS = [
  "24h",
  "7d",
  "30d",
  "2026-11-24T05:17:03.250Z..2026-12-01T22:41:00Z",
  "2026-11-28T09:00:00Z..2026-11-28T21:00:00Z",
  "2026-11-27..2026-11-30",
];

function assertAnswersMatchRows(db: Db, when: string): void {
  for (const raw of PERIODS) {
    const p = parsePeriod(raw, NOW);
    assert.deepEqual(
      answers(db, p),
      withoutDayRollups(() => answers(db, p)),
      `${raw} after ${when}`,
    );
  }
}

function attempt(
  n: number,
  account: string,
  at: number,
  fail?: { errorClass: string; category?: string },
  latencyMs: number | undefined = 300 + n * 1_000,
): AttemptRecord {
  return {
    attemptNumber: n,
    accountName: account,
    providerId: account.startsWith("oc") ? "opencode-go" : "groq",
    modelId: "kimi-k2",
    upstreamProtocol: "openai",
    startedAt: at + n,
    completedAt: at + n + 50,
    statusCode: fail ? 503 : 200,
    errorClass: fail?.errorClass,
    retryCategory: fail?.category,
    latencyMs,
    bytesOut: fail ? 0 : 900 + n,
  };
}

function outcome(at: number, attempts: AttemptRecord[], ok = true): RequestOutcome {
  const last = attempts[attempts.length - 1];
  return {
    status: ok ? "completed" : "error",
    completedAt: at + 5_000,
    statusCode: ok ? 200 : 503,
    modelId: "kimi-k2",
    providerId: last?.providerId,
    accountName: last?.accountName,
    upstreamProtocol: "openai",
    inputTokens: 10,
    outputTokens: ok ? 5 : 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 10,
    exactness: "derived",
    latencyMs: 4_321,
    firstByteMs: 100,
    bytesOut: ok ? 1_000 : 0,
    attempts,
  };
}

Deno.test("attempt and decision rollups stay equal to the rows through the recorder, the sweep and retention", async () => {
  await withHistory((db) => {
    assertRollupsMatchRows(db, "the seed");
    assertAnswersMatchRows(db, "the seed");
    const lookup = accountIds(db);
    let now = NOW;
    const recorder = historyRecorder(db, () => now);
    // Across midnight, so one batch holds two days; the shapes the rollups must count right.
    const at = (i: number) => Date.UTC(2026, 11, 2, 23, 59, 50) + i * 500;
    const shapes = (i: number): [AttemptRecord[], boolean] => {
      const t = at(i);
      switch (i % 6) {
        case 0: // two failures of one category on two accounts, then a success
          return [[
            attempt(1, "oc-1", t, { errorClass: "rate_limited", category: "temporary" }),
            attempt(2, "oc-2", t, { errorClass: "rate_limited", category: "temporary" }),
            attempt(3, "groq-1", t),
          ], true];
        case 1: // a lone failure with no category and no latency
          return [[attempt(1, "oc-1", t, { errorClass: "transport" }, undefined)], false];
        case 2: // a first attempt on an unknown account (not stored), then a success
          return [[
            attempt(1, "gone", t, { errorClass: "auth_failed", category: "auth" }),
            attempt(2, "oc-2", t),
          ], true];
        case 3: // a slow lone success (its latency in the wide buckets)
          return [[attempt(1, "groq-1", t, undefined, 9_000 + i)], true];
        default: // a lone success, described by its request row only
          return [[attempt(1, i % 2 === 0 ? "oc-1" : "oc-2", t, undefined, 200 + i)], true];
      }
    };
    const candidate = (name: string, ord: number): Candidate => ({
      account: {} as Candidate["account"],
      name,
      ord,
      providerId: name.startsWith("oc") ? "opencode-go" : "groq",
      priority: 0,
      score: 0.5 - ord / 10,
      components: {
        p5h: 0.1,
        p7d: 0.2,
        p30d: 0.3,
        peak: 0.3,
        mean: 0.2,
        inflight: 0,
        health: 1,
        score: 0.5,
        overCap: false,
      },
      inBand: true,
    });
    const decisions = (i: number): AttemptDecision[] => {
      const [list] = shapes(i);
      return list.map((a, k) => ({
        attemptNumber: a.attemptNumber,
        selected: a.accountName,
        decision: {
          decidedAt: at(i),
          modelId: "kimi-k2",
          strategy: "quota_fair",
          // A varying number of eligible accounts, so the average is not trivially 1.
          candidates: [candidate(a.accountName, 0), candidate("oc-2", 1)].slice(0, 1 + (k % 2)),
          exclusions: k === 0 ? [] : [{ account: list[k - 1].accountName, reason: "attempted" }],
        },
      }));
    };
    for (let i = 0; i < 36; i++) {
      recorder.begin({
        requestId: `att-${i}`,
        startedAt: at(i),
        clientProtocol: "openai",
        requestedModel: "kimi-k2",
        streamed: i % 2 === 1,
        bytesIn: 100,
      });
    }
    // Half finish before the first flush (one insert each), half after their pending row.
    const finish = (i: number) => {
      const [list, ok] = shapes(i);
      recorder.finish(`att-${i}`, { ...outcome(at(i), list, ok), decisions: decisions(i) });
    };
    for (let i = 0; i < 18; i++) finish(i);
    recorder.flush();
    assertRollupsMatchRows(db, "a batch of inserts and pending rows");
    now += 5_000;
    for (let i = 18; i < 36; i++) finish(i);
    recorder.flush();
    recorder.close();
    assertRollupsMatchRows(db, "a batch of finalizes");
    const stored = db.stmt(
      "SELECT count(*) AS n FROM request_attempts ra JOIN requests r ON r.id = ra.request_id WHERE r.proxy_request_id LIKE 'att-%'",
    ).get()!;
    assert.equal(Number(stored.n), 6 * 3 + 6 + 6, "three, one and one (of two) stored per shape");

    // A pending row whose attempt is still open: the sweep closes it as a failure.
    const pendingId = insertRequest(db, lookup, {
      requestId: "open-attempt",
      startedAt: NOW - DAY,
      clientProtocol: "openai",
      requestedModel: "kimi-k2",
      streamed: false,
      bytesIn: 10,
    })!;
    db.stmt(
      `INSERT INTO request_attempts (request_id, attempt_number, account_id, provider_id,
        model_id, upstream_protocol, started_at, latency_ms, bytes_out)
       VALUES (?, 1, ?, 'opencode-go', 'kimi-k2', 'openai', ?, 77, 0)`,
    ).run(pendingId, lookup.accountId("oc-1")!, NOW - DAY + 5);
    // (Written behind the writer's back, as an older process could have left it.)
    db.exec(`DELETE FROM attempt_days; DELETE FROM attempt_latency_days;
      INSERT INTO attempt_days ${backfill("attempt_days")};
      INSERT INTO attempt_latency_days ${backfill("attempt_latency_days")}`);
    assert.equal(interruptPending(db, NOW, { errorClass: "shutdown" }), 1);
    assertRollupsMatchRows(db, "the pending sweep closing an open attempt");
    const swept = db.stmt(
      "SELECT total(n) AS n FROM attempt_days WHERE ok = 0 AND category = 'none'",
    ).get()!;
    assert.equal(Number(swept.n), 1, "the closed attempt counts as failed, category none");
    assertAnswersMatchRows(db, "the recorder's writes and the sweep");

    const week = answers(db, parsePeriod("7d", NOW));
    assert.ok(week.attempts.total_attempts > 2_000, "the week holds most of the seed's attempts");
    assert.ok(week.attempts.retried_requests > 50, "the seed's failovers are retried requests");
    assert.ok(week.decisions.decisions > week.attempts.requests_with_attempts);
    const temporary = week.retries.find((r) => r.retry_category === "temporary")!;
    assert.ok(temporary.requests < temporary.failed_attempts, "two failures, one request");

    const before = Number(db.stmt("SELECT total(n) AS n FROM attempt_days").get()!.n);
    const deleted = deleteOlderThan(db, "requests", NOW - 9 * DAY, 100_000);
    assert.ok(deleted > 500, `retention deleted ${deleted} rows`);
    assertRollupsMatchRows(db, "retention deletes");
    assertAnswersMatchRows(db, "retention deletes");
    const after = Number(db.stmt("SELECT total(n) AS n FROM attempt_days").get()!.n);
    assert.ok(after < before, "the deleted requests' attempts left the rollups");
  });
});

Deno.test("a migrated database backfills the attempt and decision rollups of its rows", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/old.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 1_500, days: 5, now: NOW });
    const written = TABLES.map(([t, , keys]) =>
      normalized(t, db.stmt(`SELECT * FROM ${t} ORDER BY ${keys}`).all())
    );
    // Back to the file as 0004 left it, with the rows it already had, then migrated again
    // (0007's tables and 0008 go too: a later migration on file refuses an earlier one).
    undo0008(db);
    db.exec(`DROP TRIGGER attempt_days_delete; DROP TABLE attempt_days;
      DROP TABLE attempt_latency_days; DROP TABLE decision_days;
      DROP TRIGGER request_transcodes_delete; DROP TABLE request_transcodes;
      DROP TABLE transcode_days; DROP TABLE transcode_field_days;
      DELETE FROM schema_migrations WHERE name LIKE '0006%' OR name LIKE '0007%'`);
    assert.deepEqual(migrate(db, MIGRATIONS, { clock: () => NOW }).map((m) => m.name), [
      MIGRATION.name,
      "0007_transcode_stats.sql",
      "0008_ttft_day_packs.sql",
    ]);
    const backfilled = TABLES.map(([t, , keys]) =>
      normalized(t, db.stmt(`SELECT * FROM ${t} ORDER BY ${keys}`).all())
    );
    assert.deepEqual(backfilled, written, "the backfill equals what the writer summed");
    const n = db.stmt("SELECT total(n) AS n, total(requests) AS r FROM attempt_days").get()!;
    const routed = db.stmt(
      "SELECT count(*) AS n FROM requests WHERE attempt_count > 0 AND account_id IS NOT NULL",
    ).get()!;
    assert.equal(Number(n.r), Number(routed.n), "one request count per routed request");
    assert.ok(Number(n.n) > Number(n.r), "failovers made more attempts than requests");
    assertAnswersMatchRows(db, "the backfill");
  } finally {
    db.close();
  }
});
