/**
 * The grouped view's hour cache (src/stats/queries/_hour_rows.ts, issue #14)
 * and the points text kept beside it: an hour is read again exactly when the
 * connection wrote into it (the recorder's batches, a late finalize, a
 * retention delete) and everything when another connection committed,
 * and between such writes the route's text stays the text of a fresh,
 * cache-less sum over the request rows. Real SQLite files, the seeded history
 * of tests/_helpers/rollup_history.ts, rows written through the recorder.
 */
import assert from "node:assert/strict";
import {
  accountIds,
  HISTORY_NOW,
  historyRecorder,
  withHistory,
} from "./_helpers/rollup_history.ts";
import { openDatabase } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { statsApp } from "./stats_api_fixture.ts";
import type { Db } from "../src/storage/db.ts";
import { finalizeRequest, insertRequest } from "../src/storage/requests_repo.ts";
import { deleteOlderThan } from "../src/storage/retention_repo.ts";
import type { RequestOutcome } from "../src/stats/types.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
import { hourRows } from "../src/stats/queries/_hour_rows.ts";
import type { HourRows, HourTable } from "../src/stats/queries/_hour_rows.ts";
import { groupedTimeseries, groupedTimeseriesJson } from "../src/stats/queries/grouped.ts";
import type { GroupBy } from "../src/stats/queries/grouped.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";
import type { Bucket, StatsPeriod } from "../src/stats/queries/period.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = HISTORY_NOW;
// Whole hours of the last three days before the hour NOW is in.
const FROM = Math.floor((NOW - 3 * DAY) / HOUR) * HOUR;
const TO = Math.floor(NOW / HOUR) * HOUR;

function outcome(startedAt: number, i: number): RequestOutcome {
  return {
    status: i % 4 === 0 ? "error" : "completed",
    completedAt: startedAt + 1_500,
    statusCode: i % 4 === 0 ? 502 : 200,
    modelId: i % 2 === 0 ? "kimi-k2" : "glm-4.6",
    providerId: "opencode-go",
    accountName: i % 3 === 0 ? "oc-1" : "oc-2",
    upstreamProtocol: "openai",
    inputTokens: 100 + i,
    outputTokens: 10 * i,
    cacheReadTokens: i,
    cacheWriteTokens: 2,
    reasoningTokens: i % 3,
    costMicros: 700 + 11 * i,
    exactness: "exact",
    latencyMs: 1_400 + i,
    firstByteMs: i % 2 === 0 ? 90 + i : undefined,
    bytesOut: 900 + i,
    attempts: [],
  };
}

/** Which hours of `before` are the same objects in `after`. */
function kept(before: HourRows[], after: HourRows[]): boolean[] {
  return before.map((h, i) => h === after[i]);
}

/** The hour index of `at` from FROM. */
function hourOf(at: number): number {
  return (Math.floor(at / HOUR) * HOUR - FROM) / HOUR;
}

Deno.test("the hour cache keeps unchanged hours and reads again exactly the hours written on its connection", async () => {
  await withHistory((db) => {
    const lookup = accountIds(db);
    // A new connection starts a new cache: a fresh read.
    const fresh = (t: HourTable) => {
      const ro = openDatabase({ path: db.path, readOnly: true });
      try {
        return hourRows(ro, t, FROM, TO);
      } finally {
        ro.close();
      }
    };
    // A reader on another connection learns of every write from data_version.
    const reader = openDatabase({ path: db.path, readOnly: true });
    const tables: HourTable[] = ["request_hours", "account_hours"];
    let last = tables.map((t) => hourRows(db, t, FROM, TO));
    assert.equal(last[0].length, 72);
    assert.ok(last[0].filter((h) => h.keys.length > 0).length > 60, "the seed fills most hours");
    const step = (what: string, changed: number[] | "all") => {
      const now = tables.map((t) => hourRows(db, t, FROM, TO));
      for (const [i, t] of tables.entries()) {
        const expect = fresh(t);
        assert.deepEqual(now[i], expect, `${t} after ${what} equals a fresh read`);
        assert.deepEqual(hourRows(reader, t, FROM, TO), expect, `${t} on the reader`);
        const expected = last[i].map((_, h) => changed !== "all" && !changed.includes(h));
        assert.deepEqual(kept(last[i], now[i]), expected, `${t}: hours kept after ${what}`);
      }
      last = now;
    };
    step("nothing", []);
    // A long stream that began two days ago: its pending row, then its late finalize.
    const longStart = NOW - 2 * DAY + 7 * 60_000;
    db.transaction(() => {
      insertRequest(db, lookup, {
        requestId: "long-stream",
        startedAt: longStart,
        clientProtocol: "openai",
        requestedModel: "kimi-k2",
        streamed: true,
        bytesIn: 400,
      });
    });
    step("a pending row in a past hour", [hourOf(longStart)]);
    finalizeRequest(db, lookup, "long-stream", outcome(longStart, 2));
    step("its late finalize", [hourOf(longStart)]);
    // The current hour is not a whole hour: no cached hour changes.
    insertRequest(db, lookup, {
      requestId: "now",
      startedAt: NOW - 1_000,
      clientProtocol: "openai",
      requestedModel: "glm-4.6",
      streamed: false,
      bytesIn: 10,
    }, outcome(NOW - 1_000, 1));
    step("a row in the current hour", []);
    // Retention takes the rows before a cutoff inside the first cached hour.
    const cutoff = FROM + 20 * 60_000;
    assert.ok(deleteOlderThan(db, "requests", cutoff, 100_000) > 0);
    step("a retention delete", [0]);
    // Another connection's commit: its hours are unknown here, so all are read again.
    const other = openDatabase({ path: db.path });
    try {
      insertRequest(other, accountIds(other), {
        requestId: "elsewhere",
        startedAt: NOW - DAY,
        clientProtocol: "openai",
        requestedModel: "kimi-k2",
        streamed: false,
        bytesIn: 10,
      }, outcome(NOW - DAY, 3));
    } finally {
      other.close();
    }
    step("another connection's insert", "all");
    step("nothing", []);
    reader.close();
  });
});

const GROUPINGS: readonly GroupBy[] = ["provider_model", "provider", "model", "account"];
const BUCKETS: readonly Bucket[] = ["hour", "day"];

/** The route's text and the object answer of one view against a fresh sum over the rows. */
function assertViewLikeRows(db: Db, p: StatsPeriod, view: View, when: string): void {
  const { bucket, by, limit, f } = view;
  const what = `${when}: ${p.label} ${bucket} ${by} ${JSON.stringify(f)} limit ${limit}`;
  const fromRows = withoutDayRollups(() => groupedTimeseries(db, p, bucket, by, limit, f));
  const echo = { period: p.label, limit };
  assert.equal(
    groupedTimeseriesJson(db, p, bucket, by, limit, f, echo),
    JSON.stringify({ ...echo, ...fromRows }),
    what,
  );
  assert.deepEqual(groupedTimeseries(db, p, bucket, by, limit, f), fromRows, what);
}

interface View {
  bucket: Bucket;
  by: GroupBy;
  limit: number;
  f: { accountId?: number; modelId?: string };
}

/**
 * Every view of `periods` like the rows. The dashboard's default view of the
 * first period comes first and last, so after a write its points text, kept
 * from the step before, is read back for the hours nothing wrote into.
 */
function assertLikeRows(db: Db, periods: StatsPeriod[], when: string): void {
  const main: View = { bucket: "hour", by: "provider_model", limit: 3, f: {} };
  assertViewLikeRows(db, periods[0], main, when);
  const accountId = accountIds(db).accountId("oc-1")!;
  for (const p of periods) {
    for (const bucket of BUCKETS) {
      for (const by of GROUPINGS) {
        for (const f of [{}, { modelId: "kimi-k2" }, { accountId }]) {
          for (const limit of [1, 25]) assertViewLikeRows(db, p, { bucket, by, limit, f }, when);
        }
      }
    }
  }
  assertViewLikeRows(db, periods[0], main, when);
}

Deno.test("the grouped view answers what the request rows answer as the recorder writes into past and current hours", async () => {
  await withHistory((db) => {
    let now = NOW;
    const periods = () => [
      parsePeriod("7d", now),
      // Starts and ends inside an hour, ends before the current hour.
      parsePeriod("2026-11-29T05:17:03.250Z..2026-12-02T22:41:00Z", now),
      parsePeriod("24h", now),
    ];
    const recorder = historyRecorder(db, () => now);
    try {
      assertLikeRows(db, periods(), "the seed");
      const seeded = groupedTimeseries(db, periods()[0], "hour", "provider_model", 3, {});
      assert.ok(seeded.series.some((s) => s.is_other), "limit 3 folds some series into Other");
      assert.equal(seeded.buckets.length, 7 * 24 + 1);
      // Long streams that began in past hours (one of them inside the custom
      // period), written pending, and requests in the current hour.
      const starts = [NOW - 2 * DAY + 60_000, Date.UTC(2026, 11, 1, 3, 12), NOW - 30 * 60_000];
      for (const [i, startedAt] of starts.entries()) {
        recorder.begin({
          requestId: `long-${i}`,
          startedAt,
          clientProtocol: "openai",
          requestedModel: "kimi-k2",
          streamed: true,
          bytesIn: 300 + i,
        });
      }
      for (let i = 0; i < 5; i++) {
        const startedAt = NOW - 5_000 + i * 100;
        recorder.begin({
          requestId: `now-${i}`,
          startedAt,
          clientProtocol: "openai",
          requestedModel: "glm-4.6",
          streamed: false,
          bytesIn: 50,
        });
        recorder.finish(`now-${i}`, outcome(startedAt, i));
      }
      recorder.flush();
      assertLikeRows(db, periods(), "pending long streams and rows in the current hour");
      // An hour later the streams end: late finalizes into hours now cached.
      now += HOUR;
      for (const [i, startedAt] of starts.entries()) {
        recorder.finish(`long-${i}`, outcome(startedAt, 10 + i));
      }
      recorder.flush();
      const stillPending = db.stmt("SELECT count(*) AS n FROM requests WHERE status = 'pending'");
      assert.equal(Number(stillPending.get()!.n), 0);
      assertLikeRows(db, periods(), "late finalizes an hour later");
      assert.ok(deleteOlderThan(db, "requests", NOW - 6 * DAY + 17 * 60_000, 100_000) > 0);
      assertLikeRows(db, periods(), "a retention delete inside the 7-day period");
    } finally {
      recorder.close();
    }
  });
});

Deno.test("the grouped route writes the JSON text of the row-based answer, with JSON headers", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/history.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 2_000, days: 10, now: NOW });
    const app = statsApp(db, { isPublic: true, extra: { clock: () => NOW } });
    const oc1 = accountIds(db).accountId("oc-1")!;
    for (
      const [query, echo, bucket, by, limit, f] of [
        ["period=7d&bucket=hour&limit=3", "7d", "hour", "provider_model", 3, {}],
        ["period=7d&bucket=hour&group_by=account&limit=2", "7d", "hour", "account", 2, {}],
        ["period=24h&bucket=hour&model=kimi-k2&group_by=provider", "24h", "hour", "provider", 12, {
          modelId: "kimi-k2",
        }],
        ["period=30d&account=oc-1&group_by=model&limit=1", "30d", "day", "model", 1, {
          accountId: oc1,
        }],
      ] as const
    ) {
      for (const round of ["cold", "warm"]) {
        const res = await app.request(`http://localhost/api/timeseries/grouped?${query}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "application/json");
        assert.equal(res.headers.get("cache-control"), "no-store");
        const p = parsePeriod(echo, NOW);
        const fromRows = withoutDayRollups(() => groupedTimeseries(db, p, bucket, by, limit, f));
        assert.ok(fromRows.points.length > 0, query);
        assert.equal(
          await res.text(),
          JSON.stringify({
            period: echo,
            bucket,
            group_by: by,
            metric: "requests",
            limit,
            account_filter: "accountId" in f ? "oc-1" : null,
            model_filter: "modelId" in f ? f.modelId : null,
            ...fromRows,
          }),
          `${query} (${round})`,
        );
      }
    }
  } finally {
    db.close();
  }
});
