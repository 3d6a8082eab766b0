/**
 * The retention sweep (spec 05 §5): requests, events, pings and rollups older
 * than their `retain_*` setting are deleted so the database of a server that
 * runs for years stays the size of its retention window. Work is bounded per
 * tick (`[maintenance]`: rows per batch, batches per tick, a time budget);
 * a tick that stops with rows left reports a backlog so the caller runs the
 * next one soon instead of a day later.
 */
import type { ResolvedConfig } from "../config/schema.ts";
import type { Db } from "../storage/db.ts";
import { deleteOlderThan } from "../storage/retention_repo.ts";
import type { RetentionTable } from "../storage/retention_repo.ts";

const DAY_MS = 86_400_000;
/** Operational events have no setting of their own (spec 05 §5: 90 days). */
const OPERATIONAL_EVENT_DAYS = 90;

/** How long one table's rows are kept. */
export interface RetentionPolicy {
  table: RetentionTable;
  keepMs: number;
}

/** How much one tick may do. */
export interface SweepLimits {
  rowsPerBatch: number;
  batchesPerTick: number;
  tickBudgetMs: number;
}

/** What a tick removed, by table, and whether rows past their age remain. */
export interface SweepResult {
  deleted: Partial<Record<RetentionTable, number>>;
  backlog: boolean;
}

/** The policies the config asks for. */
export function retentionPolicies(c: ResolvedConfig): RetentionPolicy[] {
  return [
    { table: "requests", keepMs: c.dashboard.retain_request_stats_days * DAY_MS },
    { table: "account_events", keepMs: c.dashboard.retain_event_days * DAY_MS },
    { table: "operational_events", keepMs: OPERATIONAL_EVENT_DAYS * DAY_MS },
    { table: "provider_pings", keepMs: c.models.ping_retain_days * DAY_MS },
    { table: "usage_rollups", keepMs: c.metrics.rollup_retain_days * DAY_MS },
  ];
}

/** The per-tick limits of `[maintenance]`. */
export function sweepLimits(c: ResolvedConfig): SweepLimits {
  return {
    rowsPerBatch: c.maintenance.max_rows_per_batch,
    batchesPerTick: c.maintenance.max_batches_per_tick,
    tickBudgetMs: c.maintenance.max_tick_duration_ms,
  };
}

/**
 * One tick: for each table, up to `batchesPerTick` batches of rows older than
 * `now - keepMs`, each batch its own short transaction, while the time budget
 * lasts. `clock` measures the budget.
 */
export function sweepOnce(
  db: Db,
  policies: readonly RetentionPolicy[],
  limits: SweepLimits,
  now: number,
  clock: () => number = Date.now,
): SweepResult {
  const started = clock();
  const deleted: SweepResult["deleted"] = {};
  let backlog = false;
  for (const { table, keepMs } of policies) {
    const cutoff = now - keepMs;
    let full = false;
    for (let batch = 0; batch < limits.batchesPerTick; batch++) {
      if (clock() - started >= limits.tickBudgetMs) {
        full = true;
        break;
      }
      const n = deleteOlderThan(db, table, cutoff, limits.rowsPerBatch);
      if (n > 0) deleted[table] = (deleted[table] ?? 0) + n;
      full = n === limits.rowsPerBatch;
      if (!full) break;
    }
    if (full) backlog = true;
  }
  return { deleted, backlog };
}
