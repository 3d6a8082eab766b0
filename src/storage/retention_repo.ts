/**
 * SQL for the retention sweep (spec 05 §5): delete rows older than a cutoff,
 * a bounded batch at a time, so no single statement holds the write lock for
 * long on a slow SD card.
 */
import type { Db } from "./db.ts";
import { watchedHourWrites } from "./hour_writes.ts";

/** Tables the retention sweep prunes. */
export type RetentionTable =
  | "requests"
  | "account_events"
  | "operational_events"
  | "provider_pings"
  | "usage_rollups";

const ROLLUP_KEY =
  "bucket_ms, bucket_start, account_id, provider_id, model_id, client_protocol, streamed, status";

/**
 * One batch per table, oldest first. Requests still pending are never removed
 * (crash recovery and the stale finalizer own them); their attempts go with a
 * request (ON DELETE CASCADE).
 */
const DELETE_BATCH: Readonly<Record<RetentionTable, string>> = {
  requests: `DELETE FROM requests WHERE id IN (
    SELECT id FROM requests WHERE started_at < ? AND status <> 'pending'
    ORDER BY started_at LIMIT ?)`,
  account_events: `DELETE FROM account_events WHERE id IN (
    SELECT id FROM account_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`,
  operational_events: `DELETE FROM operational_events WHERE id IN (
    SELECT id FROM operational_events WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?)`,
  provider_pings: `DELETE FROM provider_pings WHERE id IN (
    SELECT id FROM provider_pings WHERE probed_at < ? ORDER BY probed_at LIMIT ?)`,
  usage_rollups: `DELETE FROM usage_rollups WHERE (${ROLLUP_KEY}) IN (
    SELECT ${ROLLUP_KEY} FROM usage_rollups WHERE bucket_start < ? LIMIT ?)`,
};

/** Deletes up to `limit` rows of `table` older than `cutoff` (epoch ms); returns how many. */
export function deleteOlderThan(
  db: Db,
  table: RetentionTable,
  cutoff: number,
  limit: number,
): number {
  const watch = table === "requests" ? watchedHourWrites(db) : undefined;
  // The 0005 delete trigger takes each row out of its hour, which starts before the cutoff.
  if (watch !== undefined) watch.before = Math.max(watch.before, cutoff);
  return Number(db.stmt(DELETE_BATCH[table]).run(cutoff, limit).changes);
}
