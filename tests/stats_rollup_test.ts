/**
 * The rollups of migrations 0004 and 0005 (issue #14, speed with history):
 * the recorder's batches and the delete triggers keep `request_days`,
 * `routing_exclusion_days`, `request_hours`, `client_ip_days`, `ttft_days`
 * and `phase_days` equal to the sums over `requests` through inserts,
 * finalizes, the pending sweep and retention deletes, and every stats query
 * that reads them answers exactly what the request rows alone answer, for
 * periods that start and end inside a day and inside an hour. Real SQLite
 * files, rows written through the recorder's repositories.
 */
import assert from "node:assert/strict";
import {
  accountIds,
  HISTORY_NOW,
  historyRecorder,
  insertStreamed,
  withHistory,
} from "./_helpers/rollup_history.ts";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { finalizeRequest, insertRequest, interruptPending } from "../src/storage/requests_repo.ts";
import { deleteOlderThan } from "../src/storage/retention_repo.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
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
import { clientIps } from "../src/stats/queries/usage.ts";
import { latency } from "../src/stats/queries/latency.ts";
import { pricingProvenance } from "../src/stats/queries/events.ts";
import { cacheShares } from "../src/storage/cache_stats_repo.ts";
import { arrays, nearestRank, sortedValues } from "../src/stats/queries/_sql.ts";
import { TTFT_BOUNDS } from "../src/storage/ttft_buckets.ts";
import { unpack } from "../src/storage/ttft_pack.ts";

const DAY = 86_400_000;
// 15:37:12.345 UTC, so named periods end inside a day.
const NOW = HISTORY_NOW;

/**
 * The migration's backfill SELECT for `table`: the sums as they would be
 * rebuilt now (for `ttft_days`, 0005's, one row per bucket; 0008 packs them).
 */
function backfill(table: string): string {
  const head = `INSERT INTO ${table}\n`;
  const sql = MIGRATIONS.find((m) => m.sql.includes(head))!.sql;
  const from = sql.indexOf(head) + head.length;
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
  for (
    const [table, keys] of [
      ["request_hours", "hour, provider_id, model_id"],
      ["account_hours", "hour, account_id"],
      ["client_ip_days", "day, client_ip"],
      ["phase_days", "day"],
    ]
  ) {
    assert.deepEqual(
      stored(db, table, "n", keys),
      rebuilt(db, table, keys),
      `${table} after ${when}`,
    );
  }
  // The TTFT cache counts only the days marked done; their packed buckets
  // (0008) must equal the rows' buckets, as 0005 sums them one row per bucket.
  const done = "day IN (SELECT day FROM ttft_days_done)";
  assert.deepEqual(
    unpackedTtftDays(db, `WHERE ${done}`),
    arrays(
      db,
      `WITH t(day, provider_id, model_id, lo, n, ms) AS (${backfill("ttft_days")})
      SELECT * FROM t WHERE ${done} ORDER BY day, provider_id, model_id, lo`,
      [],
    ),
    `ttft_days after ${when}`,
  );
}

/** The cached TTFT histograms `where`, one `[day, provider, model, lo, n, ms]` per bucket. */
function unpackedTtftDays(db: Db, where: string): unknown[][] {
  const rows = arrays(
    db,
    `SELECT day, provider_id, model_id, pack FROM ttft_days ${where}
      ORDER BY day, provider_id, model_id`,
    [],
  );
  return rows.flatMap(([day, provider, model, pack]) =>
    unpack(pack as Uint8Array).map((cell) => [day, provider, model, ...cell])
  );
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
    hours: timeseries(db, p, "hour", {}),
    hoursFiltered: timeseries(db, p, "hour", { accountId, modelId: "glm-4.6" }),
    hoursOfAccount: timeseries(db, p, "hour", { accountId }),
    hoursOfModel: timeseries(db, p, "hour", { modelId: "kimi-k2" }),
    groupedHoursOneAccount: groupedTimeseries(db, p, "hour", "account", 3, { accountId }),
    groupedHoursOneModel: groupedTimeseries(db, p, "hour", "provider", 3, { modelId: "kimi-k2" }),
    groupedHours: groupedTimeseries(db, p, "hour", "provider_model", 5, {}),
    groupedHoursAccount: groupedTimeseries(db, p, "hour", "account", 3, { modelId: "kimi-k2" }),
    groupedHoursModel: groupedTimeseries(db, p, "hour", "model", 4, { accountId }),
    groupedHoursProvider: groupedTimeseries(db, p, "hour", "provider", 2, {}),
    ips: clientIps(db, p),
    latency: latency(db, p),
    provenance: pricingProvenance(db, p.end, () => undefined),
    cacheAccounts: cacheShares(db, p.start, "account"),
    cacheModels: cacheShares(db, p.start, "model"),
  };
}

Deno.test("day rollups stay equal to the request rows through insert, finalize, sweep and retention", async () => {
  await withHistory((db) => {
    assertRollupsMatchRows(db, "the seed");
    const lookup = accountIds(db);
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
    // The cutoff is inside a day and an hour: the answers still equal the rows'.
    for (const period of ["30d", "2026-11-23T22:10:00Z..2026-11-26T03:30:00.5Z"]) {
      const p = parsePeriod(period, NOW);
      assert.deepEqual(answers(db, p), withoutDayRollups(() => answers(db, p)), period);
    }
    for (const t of ["request_hours", "account_hours", "client_ip_days", "phase_days"]) {
      const empty = db.stmt(`SELECT count(*) AS n FROM ${t} WHERE n = 0`).get()!;
      assert.equal(Number(empty.n), 0, `${t} keeps no rows of deleted requests`);
    }
    // The TTFT cache (refilled by the reads above) holds no day before the cutoff's, no empty pack.
    const stale = db.stmt("SELECT count(*) AS n FROM ttft_days WHERE day < ? OR length(pack) = 0")
      .get(Math.floor((NOW - 9 * DAY) / DAY) * DAY)!;
    assert.equal(Number(stale.n), 0, "ttft_days keeps no rows of deleted requests");
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
    // The answers on the rollups the writes kept, then back to the file as
    // 0003 left it, with the rows it already had, migrated again. 0006's to
    // 0008's tables go too: a later migration on file refuses an earlier one.
    // 0005 fills its per-bucket TTFT cache for every day, 0008 packs it.
    const answersBefore = answers(db, parsePeriod("7d", NOW));
    db.exec(`DROP TRIGGER request_days_delete; DROP TABLE request_days;
      DROP TABLE routing_exclusion_days; DROP TRIGGER request_rollups_0005_delete;
      DROP TABLE request_hours; DROP TABLE account_hours; DROP TABLE client_ip_days;
      DROP TABLE ttft_days; DROP TABLE ttft_buckets; DROP TABLE ttft_days_done;
      DROP TABLE phase_days;
      DROP TRIGGER attempt_days_delete; DROP TABLE attempt_days; DROP TABLE attempt_latency_days;
      DROP TABLE decision_days;
      DROP TRIGGER request_transcodes_delete; DROP TABLE request_transcodes;
      DROP TABLE transcode_days; DROP TABLE transcode_field_days;
      DELETE FROM schema_migrations WHERE name LIKE '0004%' OR name LIKE '0005%'
        OR name LIKE '0006%' OR name LIKE '0007%' OR name LIKE '0008%'`);
    assert.deepEqual(migrate(db, MIGRATIONS, { clock: () => NOW }).map((m) => m.name), [
      "0004_day_rollups.sql",
      "0005_hour_ip_ttft_rollups.sql",
      "0006_attempt_decision_days.sql",
      "0007_transcode_stats.sql",
      "0008_ttft_day_packs.sql",
    ]);
    assert.deepEqual(answers(db, parsePeriod("7d", NOW)), answersBefore);
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
    assert.equal(week.hours.length, 7 * 24 + 1, "and 169 hours");
    assert.equal(week.groupedHours.buckets.length, 7 * 24 + 1);
    assert.ok(week.ips.length >= 3, "the seed's client IPs");
    assert.ok(week.latency.provider_ttft.length >= 2 && week.latency.model_ttft.length >= 4);
    assert.ok(week.latency.phases.completed_requests > 1_000);
    assert.ok(week.cacheModels.length >= 4 && week.cacheAccounts.length >= 4);
  });
});

Deno.test("the recorder's batches keep the day rollups equal to the rows it writes", async () => {
  await withHistory((db) => {
    let now = NOW;
    const recorder = historyRecorder(db, () => now);
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
      // Half with their attempt: the latency phases need its start.
      attempts: i % 2 === 0 ? [] : [{
        attemptNumber: 1,
        accountName: i % 3 === 0 ? "oc-1" : "oc-2",
        providerId: "opencode-go",
        modelId: i % 2 === 0 ? "kimi-k2" : "glm-4.6",
        upstreamProtocol: "openai",
        startedAt: Date.UTC(2026, 11, 2, 23, 59, 50) + i * 500 + 3,
        completedAt: now,
        statusCode: i % 5 === 0 ? 502 : 200,
        latencyMs: 240,
        bytesOut: 700,
      }],
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
        clientIp: i % 3 === 0 ? undefined : `10.1.0.${i % 4}`,
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
    const phases = db.stmt("SELECT total(n) AS n FROM phase_days WHERE day >= ?").get(
      Date.UTC(2026, 11, 2),
    )!;
    assert.ok(Number(phases.n) >= 10, "completed requests with an attempt have phases");
    const ips = db.stmt("SELECT count(*) AS n FROM client_ip_days WHERE client_ip LIKE '10.1.0.%'")
      .get()!;
    assert.ok(Number(ips.n) >= 4, "the batch's client IPs on both days");
    recorder.close();
  });
});

Deno.test("the TTFT buckets are one value wide below 100 ms and at most 2 % wide above", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/b.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    const table = db.stmt("SELECT lo FROM ttft_buckets ORDER BY lo").all().map((r) => r.lo);
    assert.deepEqual(table, [...TTFT_BOUNDS], "the migration and the writer use the same bounds");
    for (let i = 0; i + 1 < TTFT_BOUNDS.length; i++) {
      const [lo, next] = [TTFT_BOUNDS[i], TTFT_BOUNDS[i + 1]];
      if (lo < 100) assert.equal(next - lo, 1, `bucket ${lo}`);
      else assert.ok((next - lo) / lo <= 0.02, `bucket ${lo}..${next}`);
    }
    assert.ok(TTFT_BOUNDS[TTFT_BOUNDS.length - 1] >= 1e9);
  } finally {
    db.close();
  }
});

Deno.test("TTFT percentiles from the histogram are within 2 % of the exact nearest rank", async () => {
  await withHistory((db) => {
    const p = parsePeriod("30d", NOW);
    const answer = latency(db, p);
    const exact = new Map<string, number[]>();
    const rows = arrays(
      db,
      `SELECT provider_id, first_byte_ms FROM requests WHERE started_at >= ? AND started_at < ?
        AND streamed = 1 AND first_byte_ms IS NOT NULL AND provider_id IS NOT NULL`,
      [p.start, p.end],
    );
    for (const [provider, v] of rows) {
      const k = String(provider);
      (exact.get(k) ?? exact.set(k, []).get(k)!).push(Number(v));
    }
    assert.equal(answer.provider_ttft.length, exact.size);
    assert.ok(exact.size >= 2, "the seed streams from several providers");
    let off = 0;
    for (const g of answer.provider_ttft) {
      const values = sortedValues(exact.get(g.provider_id)!);
      assert.equal(g.streamed_requests, values.length);
      const avg = values.reduce((s, v) => s + v, 0) / values.length;
      assert.equal(g.avg_ttft_ms, Math.round(avg * 10) / 10, "averages are exact sums");
      for (const [pct, got] of [[50, g.p50_ttft_ms], [95, g.p95_ttft_ms], [99, g.p99_ttft_ms]]) {
        const want = nearestRank(values, pct as number)!;
        assert.ok(
          Math.abs(Number(got) - want) <= 0.02 * want,
          `${g.provider_id} p${pct}: ${got} against exact ${want}`,
        );
        off = Math.max(off, Math.abs(Number(got) - want) / want);
      }
    }
    assert.ok(off < 0.02);
  });
});

Deno.test("TTFT percentiles are exact when the ranked values sit alone in their buckets", async () => {
  await withHistory((db) => {
    const lookup = accountIds(db);
    // A provider of its own on a day of its own: values 7, 55, 99 (1 ms buckets) and
    // 1000, 2000, 5000 (buckets 20, 40 and 100 ms wide, one value each).
    const at = Date.UTC(2026, 10, 1, 6);
    const values = [7, 55, 99, 1000, 2000, 5000, 5000, 5000];
    db.exec(`INSERT INTO providers (id, base_url, created_at, updated_at)
      VALUES ('solo', 'http://127.0.0.1:9', 0, 0)`);
    db.transaction(() => {
      values.forEach((v, i) =>
        insertRequest(db, lookup, {
          requestId: `solo-${i}`,
          startedAt: at + i * 60_000,
          clientProtocol: "openai",
          requestedModel: "m-solo",
          streamed: true,
          bytesIn: 10,
        }, {
          status: "completed",
          completedAt: at + i * 60_000 + v + 10,
          statusCode: 200,
          modelId: "m-solo",
          providerId: "solo",
          upstreamProtocol: "openai",
          inputTokens: 1,
          outputTokens: 1,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          reasoningTokens: 0,
          costMicros: 0,
          exactness: "unknown",
          latencyMs: v + 10,
          firstByteMs: v,
          bytesOut: 1,
          attempts: [],
        })
      );
    });
    const p = parsePeriod("2026-10-30..2026-11-03", NOW);
    const solo = latency(db, p).provider_ttft.find((g) => g.provider_id === "solo")!;
    const sorted = sortedValues(values);
    assert.deepEqual(
      [solo.p50_ttft_ms, solo.p95_ttft_ms, solo.p99_ttft_ms],
      [nearestRank(sorted, 50), nearestRank(sorted, 95), nearestRank(sorted, 99)],
    );
    assert.deepEqual([solo.p50_ttft_ms, solo.p95_ttft_ms], [1000, 5000]);
    assertRollupsMatchRows(db, "the solo provider's rows");
  });
});

Deno.test("the TTFT cache fills on read and drops a day when its TTFTs change", async () => {
  await withHistory((db) => {
    const doneDays = () =>
      db.stmt("SELECT day FROM ttft_days_done ORDER BY day").all().map((r) => Number(r.day));
    assert.deepEqual(doneDays(), [], "a database migrated empty caches no day yet");
    const p = parsePeriod("7d", NOW);
    const first = latency(db, p);
    const start = Math.ceil(p.start / DAY) * DAY;
    assert.deepEqual(doneDays(), Array.from({ length: 6 }, (_, i) => start + i * DAY));
    assertRollupsMatchRows(db, "a read that filled the cache");
    assert.deepEqual(latency(db, p), first, "the second read comes from the cache");
    // A streamed request on a cached day takes the day out; the answer follows the rows.
    insertStreamed(db, {
      requestId: "late-ttft",
      startedAt: start + DAY + 3_600_000,
      completedAt: start + DAY + 3_700_000,
      firstByteMs: 98_765,
      latencyMs: 99_000,
    });
    assert.ok(!doneDays().includes(start + DAY), "the changed day left the cache");
    const after = latency(db, p);
    assert.deepEqual(after, withoutDayRollups(() => latency(db, p)));
    const oc = after.provider_ttft.find((g) => g.provider_id === "opencode-go")!;
    const before = first.provider_ttft.find((g) => g.provider_id === "opencode-go")!;
    assert.equal(oc.streamed_requests, before.streamed_requests + 1);
    assert.ok(oc.p99_ttft_ms! >= before.p99_ttft_ms!, "a 98.8 s TTFT does not lower the p99");
    assertRollupsMatchRows(db, "a write to a cached day and the next read");
    // Retention takes deleted days out of the cache with their rows.
    deleteOlderThan(db, "requests", start + 2 * DAY, 100_000);
    assert.ok(!doneDays().includes(start) && !doneDays().includes(start + DAY));
    const stale = db.stmt("SELECT count(*) AS n FROM ttft_days WHERE day < ?").get(start + DAY)!;
    assert.equal(Number(stale.n), 0);
    assert.deepEqual(latency(db, p), withoutDayRollups(() => latency(db, p)));
  });
});

Deno.test("a read-only connection answers latency from the rows without caching", async () => {
  await using dir = await withTmpDir();
  const path = `${dir.path}/ro.sqlite3`;
  const db = openDatabase({ path });
  migrate(db, MIGRATIONS, { clock: () => NOW });
  seedHistory(db, { rows: 1_000, days: 5, now: NOW });
  db.close();
  const ro = openDatabase({ path, readOnly: true });
  try {
    const p = parsePeriod("7d", NOW);
    const answer = latency(ro, p);
    assert.ok(answer.provider_ttft.length > 0);
    assert.deepEqual(answer, withoutDayRollups(() => latency(ro, p)));
    const done = ro.stmt("SELECT count(*) AS n FROM ttft_days_done").get()!;
    assert.equal(Number(done.n), 0, "nothing was written");
  } finally {
    ro.close();
  }
});
