/**
 * The seeded history the rollup tests share: a real SQLite file migrated to
 * the newest schema with 4 000 requests over 12 days (scripts/seed_history.ts),
 * ending at a fixed moment inside a day and an hour so periods have partial
 * slots at both ends, and the account lookup the repositories take.
 */
import { openDatabase } from "../../src/storage/db.ts";
import type { Db } from "../../src/storage/db.ts";
import { migrate } from "../../src/storage/migrate.ts";
import { MIGRATIONS } from "../../src/storage/migrations.ts";
import { insertRequest } from "../../src/storage/requests_repo.ts";
import { StatsRecorder } from "../../src/stats/recorder.ts";
import type { IdLookup } from "../../src/storage/requests_repo.ts";
import { seedHistory } from "../../scripts/seed_history.ts";
import { withTmpDir } from "./tmp.ts";

/** The seeded history ends here (mid-day, mid-hour, mid-second). */
export const HISTORY_NOW = Date.UTC(2026, 11, 3, 15, 37, 12, 345);

/**
 * Takes a file migrated to 0008 back to 0007 for a test that migrates again:
 * the TTFT cache in 0005's one-row-per-bucket shape (its statement, from the
 * embedded 0005), empty, no day cached, and 0008 unrecorded.
 */
export function undo0008(db: Db): void {
  const sql = MIGRATIONS.find((m) => m.name === "0005_hour_ip_ttft_rollups.sql")!.sql;
  const from = sql.indexOf("CREATE TABLE ttft_days (");
  db.exec(`DROP TABLE ttft_days; ${sql.slice(from, sql.indexOf(";", from) + 1)}
    DELETE FROM ttft_days_done; DELETE FROM schema_migrations WHERE name LIKE '0008%'`);
}

/** Account ids by name, as stored in `accounts`. */
export function accountIds(db: Db): IdLookup {
  const byName = new Map(
    db.stmt("SELECT id, name FROM accounts").all().map((r) => [String(r.name), Number(r.id)]),
  );
  return { accountId: (n) => (n === undefined ? null : byName.get(n) ?? null) };
}

/**
 * A recorder on the history that writes only when told (`flush()`), on the
 * test's clock, with 5-minute buckets and no minimum age for the pending sweep.
 */
export function historyRecorder(db: Db, clock: () => number): StatsRecorder {
  return new StatsRecorder({
    db,
    ids: accountIds(db),
    clock,
    flushIntervalMs: 60_000,
    maxBuffered: 1_000,
    bucketMs: 300_000,
    pendingMinAgeMs: 0,
    log: () => {},
  });
}

/** One streamed kimi-k2 request on oc-1 (opencode-go), completed, with the times given. */
export function insertStreamed(
  db: Db,
  r: {
    requestId: string;
    startedAt: number;
    completedAt: number;
    firstByteMs: number;
    latencyMs: number;
  },
): void {
  insertRequest(db, accountIds(db), {
    requestId: r.requestId,
    startedAt: r.startedAt,
    clientProtocol: "openai",
    requestedModel: "kimi-k2",
    streamed: true,
    bytesIn: 10,
  }, {
    status: "completed",
    completedAt: r.completedAt,
    statusCode: 200,
    modelId: "kimi-k2",
    providerId: "opencode-go",
    accountName: "oc-1",
    upstreamProtocol: "openai",
    inputTokens: 1,
    outputTokens: 1,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    exactness: "unknown",
    latencyMs: r.latencyMs,
    firstByteMs: r.firstByteMs,
    bytesOut: 1,
    attempts: [],
  });
}

/** Runs `fn` on a fresh seeded history file, closed and removed afterwards. */
export async function withHistory(fn: (db: Db) => void): Promise<void> {
  await using dir = await withTmpDir();
  const db = openDatabase({ path: `${dir.path}/history.sqlite3` });
  try {
    migrate(db, MIGRATIONS, { clock: () => HISTORY_NOW });
    seedHistory(db, { rows: 4_000, days: 12, now: HISTORY_NOW });
    fn(db);
  } finally {
    db.close();
  }
}
