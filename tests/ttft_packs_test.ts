/**
 * Migration 0008 packs the TTFT histogram cache of 0005 (one row per day,
 * provider, model and bucket) into one row per day, provider and model. A
 * database at 0007 with cached days must come out with the very bytes a
 * latency read writes for those days (src/storage/ttft_pack.ts), its
 * uncached days left for the next read, and the same latency answers. Real
 * SQLite file, rows through the recorder's repository.
 */
import assert from "node:assert/strict";
import { HISTORY_NOW, insertStreamed } from "./_helpers/rollup_history.ts";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { seedHistory } from "../scripts/seed_history.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { withoutDayRollups } from "../src/stats/queries/_days.ts";
import { parsePeriod } from "../src/stats/queries/period.ts";
import { latency } from "../src/stats/queries/latency.ts";
import { arrays } from "../src/stats/queries/_sql.ts";
import { unpack } from "../src/storage/ttft_pack.ts";
import { TTFT_BOUNDS } from "../src/storage/ttft_buckets.ts";

const DAY = 86_400_000;
const NOW = HISTORY_NOW;

/** 0005's per-bucket backfill of `ttft_days`, as that migration ran it. */
function perBucketBackfill(): string {
  const sql = MIGRATIONS.find((m) => m.name === "0005_hour_ip_ttft_rollups.sql")!.sql;
  const from = sql.indexOf("INSERT INTO ttft_days\n");
  return sql.slice(from, sql.indexOf(";", from));
}

/** Two streamed requests whose TTFTs sum past 2^32 ms in one bucket, at `at`. */
function addHugeTtfts(db: Db, at: number): void {
  [3_000_000_000, 3_000_000_007].forEach((ttft, i) =>
    insertStreamed(db, {
      requestId: `huge-${i}`,
      startedAt: at + i,
      completedAt: at + i + 1,
      firstByteMs: ttft,
      latencyMs: ttft + 5,
    })
  );
}

/** The cache as `[day, provider, model, pack as hex]`, in key order. */
function cached(db: Db): unknown[][] {
  return arrays(
    db,
    "SELECT day, provider_id, model_id, hex(pack) FROM ttft_days ORDER BY day, provider_id, model_id",
    [],
  );
}

Deno.test("migration 0008 packs a 0007 database's cached TTFT days into the bytes a read writes", async () => {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/old.sqlite3` });
  try {
    migrate(db, MIGRATIONS.filter((m) => m.version <= 7), { clock: () => NOW });
    seedHistory(db, { rows: 1_500, days: 5, now: NOW });
    const today = Math.floor(NOW / DAY) * DAY;
    addHugeTtfts(db, today - 2 * DAY + 3_600_000);
    // The 0007 cache as reads left it: every day cached but one, whose stale rows must go.
    const uncached = today - 3 * DAY;
    db.exec(`${perBucketBackfill()};
      INSERT INTO ttft_days_done SELECT DISTINCT day FROM ttft_days WHERE day <> ${uncached};
      INSERT INTO ttft_days VALUES (${uncached - DAY * 30}, 'gone', 'm', 5, 99, 495)`);
    const oldRows = Number(db.stmt("SELECT count(*) AS n FROM ttft_days").get()!.n);
    const p = parsePeriod("7d", NOW);
    const fromRows = withoutDayRollups(() => latency(db, p));

    assert.deepEqual(migrate(db, MIGRATIONS, { clock: () => NOW }).map((m) => m.name), [
      "0008_ttft_day_packs.sql",
    ]);
    const converted = cached(db);
    assert.ok(converted.length > 0 && converted.length * 5 < oldRows, "fewer rows, packed");
    assert.ok(!converted.some((r) => r[0] === uncached), "the uncached day has no pack yet");
    assert.ok(!converted.some((r) => r[1] === "gone"), "rows of days not cached are dropped");
    const huge = converted.find((r) =>
      r[0] === today - 2 * DAY && r[1] === "opencode-go" && r[2] === "kimi-k2"
    )!;
    const bytes = Uint8Array.from(String(huge[3]).match(/../g)!.map((h) => parseInt(h, 16)));
    assert.deepEqual(unpack(bytes).at(-1), [TTFT_BOUNDS.at(-1), 2, 6_000_000_007]);

    // The read answers as the rows do, and caches the day 0008 left out.
    assert.deepEqual(latency(db, p), fromRows);
    assert.deepEqual(
      cached(db).filter((r) => r[0] !== uncached),
      converted,
      "no converted day was summed again",
    );
    assert.ok(cached(db).some((r) => r[0] === uncached));
    // Every whole day summed again from the rows by the read's own writer: the same bytes
    // (today is partial, read from the rows, so the read caches it no more).
    db.exec("DELETE FROM ttft_days; DELETE FROM ttft_days_done");
    assert.deepEqual(latency(db, p), fromRows);
    const wholeDays = (rows: unknown[][]) =>
      rows.filter((r) => r[0] !== uncached && Number(r[0]) < today);
    assert.ok(wholeDays(converted).length >= 4 * 3, "four whole days of several models");
    assert.deepEqual(wholeDays(cached(db)), wholeDays(converted));
  } finally {
    db.close();
  }
});
