/**
 * The protocol-reach tables of migration 0007 stay equal to what the request
 * rows say through the recorder's batches, direct inserts, pending rows that
 * finish, the pending sweep and retention deletes; `/api/stats/transcoding`
 * answers the same with and without the day rollups for periods with partial
 * days at both ends; a migrated database gets its old rows counted as their
 * protocol's own endpoint. Real SQLite files.
 */
import assert from "node:assert/strict";
import { accountIds, HISTORY_NOW, undo0008 } from "./_helpers/rollup_history.ts";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { finalizeRequest, insertRequest, interruptPending } from "../src/storage/requests_repo.ts";
import { deleteOlderThan } from "../src/storage/retention_repo.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
import { StatsRecorder } from "../src/stats/recorder.ts";
import type { RequestOutcome, RequestStart } from "../src/stats/types.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";
import { transcodingStats } from "../src/stats/queries/transcoding.ts";
import type { Surface } from "../src/core/protocol.ts";

const DAY = 86_400_000;
const NOW = HISTORY_NOW;

/** transcode_days as stored, and as summed from the rows now. */
function dayTables(db: Db) {
  const stored = db.stmt(
    `SELECT day, client_surface, upstream_protocol, n, successful, errors, client_errors,
      cancelled, with_drops, dropped FROM transcode_days WHERE n <> 0
     ORDER BY day, client_surface, upstream_protocol`,
  ).all();
  const rows = db.stmt(
    `SELECT (r.started_at / ${DAY}) * ${DAY} AS day,
      coalesce(t.client_surface,
        CASE r.client_protocol WHEN 'anthropic' THEN 'messages' ELSE 'chat_completions' END)
        AS client_surface,
      r.upstream_protocol, count(*) * 1.0 AS n, total(r.status = 'completed') AS successful,
      total(r.status = 'error' OR r.status = 'interrupted') AS errors,
      total(r.status = 'client_error') AS client_errors, total(r.status = 'cancelled') AS cancelled,
      total(coalesce(t.dropped_fields, 0) > 0) AS with_drops,
      total(coalesce(t.dropped_fields, 0)) AS dropped
     FROM requests r LEFT JOIN request_transcodes t ON t.request_id = r.id
     WHERE r.upstream_protocol IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  ).all();
  const storedFields = db.stmt(
    `SELECT day, client_surface, upstream_protocol, field, requests FROM transcode_field_days
     WHERE requests <> 0 ORDER BY 1, 2, 3, 4`,
  ).all();
  const rowFields = db.stmt(
    `SELECT (r.started_at / ${DAY}) * ${DAY} AS day, t.client_surface, r.upstream_protocol,
      f.value AS field, count(*) * 1.0 AS requests
     FROM requests r JOIN request_transcodes t ON t.request_id = r.id, json_each(t.dropped_names) f
     WHERE r.upstream_protocol IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  ).all();
  return { stored, rows, storedFields, rowFields };
}

function assertTablesMatchRows(db: Db, when: string): void {
  const t = dayTables(db);
  assert.deepEqual(t.stored, t.rows, `transcode_days after ${when}`);
  assert.deepEqual(t.storedFields, t.rowFields, `transcode_field_days after ${when}`);
}

function start(i: number, at: number, surface?: Surface): RequestStart {
  return {
    requestId: `reach-${i}`,
    startedAt: at,
    clientProtocol: surface === "messages" ? "anthropic" : "openai",
    clientSurface: surface,
    requestedModel: "kimi-k2",
    streamed: false,
    bytesIn: 100,
  };
}

function outcome(
  at: number,
  upstream: "openai" | "anthropic" | undefined,
  status: RequestOutcome["status"],
  dropped: string[],
): RequestOutcome {
  return {
    status,
    completedAt: at + 500,
    modelId: "kimi-k2",
    providerId: "opencode-go",
    accountName: "oc-1",
    upstreamProtocol: upstream,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 1,
    exactness: "derived",
    latencyMs: 500,
    bytesOut: 10,
    attempts: [],
    droppedFields: dropped.length === 0 ? undefined : dropped.length + 1,
    droppedNames: dropped.length === 0 ? undefined : dropped,
  };
}

const SURFACES: (Surface | undefined)[] = [undefined, "chat_completions", "messages", "responses"];
const STATUSES: RequestOutcome["status"][] = ["completed", "error", "client_error", "cancelled"];

/** 240 requests over 12 days in every direction, through the recorder's batched writes. */
function writeReach(db: Db): void {
  const recorder = new StatsRecorder({
    db,
    ids: accountIds(db),
    clock: () => NOW,
    flushIntervalMs: 60_000,
    maxBuffered: 1_000_000,
    bucketMs: 0,
    log: () => {},
  });
  try {
    for (let i = 0; i < 240; i++) {
      const at = NOW - 12 * DAY + i * (DAY / 20) + 1234;
      const surface = SURFACES[i % 4];
      const upstream = i % 7 === 0 ? undefined : i % 3 === 0 ? "anthropic" : "openai";
      const dropped = i % 5 === 0
        ? ["top_p", `messages[].content[]`]
        : i % 5 === 1
        ? ["top_k"]
        : [];
      const s = start(i, at, surface);
      recorder.begin(s);
      // Every third one is flushed as pending first, so its row is finalized later.
      if (i % 3 === 1) recorder.flush();
      recorder.finish(s.requestId, outcome(at, upstream, STATUSES[i % 4], dropped));
      if (i % 10 === 9) recorder.flush();
    }
  } finally {
    recorder.close();
  }
}

async function withReach(fn: (db: Db) => void): Promise<void> {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/reach.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 2_000, days: 12, now: NOW });
    writeReach(db);
    fn(db);
  } finally {
    db.close();
  }
}

Deno.test("transcode rollups stay equal to the rows through batches, finalizes, direct writes, the sweep and retention", async () => {
  await withReach((db) => {
    assertTablesMatchRows(db, "the recorder's batches");
    const side = db.stmt("SELECT count(*) AS n FROM request_transcodes").get()!;
    // responses rows (60) and rows with drops on other surfaces (96 of 180) have one.
    assert.equal(Number(side.n), 60 + 72);
    const lookup = accountIds(db);
    // A direct write without a batch, and pending rows the sweep ends.
    insertRequest(
      db,
      lookup,
      start(1000, NOW - DAY + 5, "responses"),
      outcome(NOW - DAY + 5, "anthropic", "completed", ["tools[].type=web_search"]),
    );
    insertRequest(db, lookup, start(1001, NOW - 2 * DAY, "responses"));
    insertRequest(db, lookup, start(1002, NOW - 2 * DAY, "messages"));
    assertTablesMatchRows(db, "direct writes");
    assert.equal(interruptPending(db, NOW, { errorClass: "shutdown" }), 2);
    assertTablesMatchRows(db, "the pending sweep");
    assert.equal(
      finalizeRequest(db, lookup, "reach-1001", outcome(NOW, "openai", "completed", [])),
      undefined,
      "a swept row is never finalized again",
    );
    const before = transcodingStats(db, parsePeriod("30d", NOW)).totals.requests;
    const deleted = deleteOlderThan(db, "requests", NOW - 6 * DAY, 100_000);
    assert.ok(deleted > 500, `retention deleted ${deleted} rows`);
    assertTablesMatchRows(db, "retention deletes");
    const orphans = db.stmt(
      `SELECT count(*) AS n FROM request_transcodes t
       WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = t.request_id)`,
    ).get()!;
    assert.equal(Number(orphans.n), 0, "side rows leave with their requests");
    const after = transcodingStats(db, parsePeriod("30d", NOW)).totals.requests;
    const routedDeleted = before - after;
    assert.ok(routedDeleted > 0 && routedDeleted <= deleted);
  });
});

Deno.test("/api/stats/transcoding answers the same from the rollups as from the rows alone", async () => {
  await withReach((db) => {
    const periods = [
      parsePeriod("7d", NOW),
      parsePeriod("30d", NOW),
      parsePeriod("2026-11-24T05:17:03.250Z..2026-12-01T22:41:00Z", NOW),
      parsePeriod("2026-11-28T09:00:00Z..2026-11-28T21:00:00Z", NOW),
      parsePeriod("2026-11-27..2026-11-30", NOW),
    ];
    for (const p of periods) {
      const fromRollups = transcodingStats(db, p);
      const fromRows = withoutDayRollups(() => transcodingStats(db, p));
      assert.deepEqual(fromRollups, fromRows, `period ${p.label} ${p.start}..${p.end}`);
    }
    const all = transcodingStats(db, parsePeriod("30d", NOW));
    const responses = all.directions.filter((d) => d.client_surface === "responses");
    assert.equal(responses.length, 2);
    assert.ok(responses.every((d) => d.transcoded && d.client_protocol === "openai"));
    const fields = new Set(all.directions.flatMap((d) => d.top_dropped_fields.map((f) => f.field)));
    assert.deepEqual([...fields].sort(), ["messages[].content[]", "top_k", "top_p"]);
  });
});

Deno.test("migration 0007 counts the rows a database already has as their protocol's own endpoint", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/old.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => NOW });
    seedHistory(db, { rows: 1_500, days: 5, now: NOW });
    // Back to the file as the migrations before 0007 left it, then migrated again.
    undo0008(db);
    db.exec(`DROP TRIGGER request_transcodes_delete; DROP TABLE request_transcodes;
      DROP TABLE transcode_days; DROP TABLE transcode_field_days;
      DELETE FROM schema_migrations WHERE name LIKE '0007%'`);
    const routed = db.stmt(
      `SELECT client_protocol, count(*) AS n FROM requests WHERE upstream_protocol IS NOT NULL
       GROUP BY 1 ORDER BY 1`,
    ).all().map((r) => [String(r.client_protocol), Number(r.n)]);
    assert.deepEqual(migrate(db, MIGRATIONS, { clock: () => NOW }).map((m) => m.name), [
      "0007_transcode_stats.sql",
      "0008_ttft_day_packs.sql",
    ]);
    assertTablesMatchRows(db, "the backfill");
    const stats = transcodingStats(db, parsePeriod("30d", NOW));
    const bySurface = Object.fromEntries(
      stats.directions.map((d) => [`${d.client_surface}>${d.upstream_protocol}`, d.requests]),
    );
    const expected = Object.fromEntries(routed.map(([protocol, n]) => [
      protocol === "anthropic" ? "messages>anthropic" : "chat_completions>openai",
      n,
    ]));
    assert.deepEqual(bySurface, expected);
    assert.equal(stats.totals.transcoded, 0);
  } finally {
    db.close();
  }
});
