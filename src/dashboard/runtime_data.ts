/**
 * What the Runtime page shows beyond `/api/stats/runtime` (spec 06 §4): the
 * process figures from `/proc`, the database's journal and sync modes,
 * pending requests, active backoffs and the dispatch overhead of the latest
 * routed requests. Every read is small: two pragmas, the pending partial
 * index, and the newest rows by primary key.
 */
import type { Db } from "../storage/db.ts";
import { pendingRequests } from "../storage/dashboard_repo.ts";
import type { AccountStatus } from "../accounts/status.ts";
import { procFigures } from "../ops/proc_figures.ts";
import type { ProcFigures } from "../ops/proc_figures.ts";
import { PENDING_STALE_MS } from "./overview_data.ts";

/** Routed requests the dispatch overhead is averaged over. */
export const DISPATCH_SAMPLE = 200;

/** The Runtime page's extra figures. */
export interface RuntimeExtras {
  proc: ProcFigures;
  journalMode: string;
  synchronous: string;
  pending: { count: number; stale: number };
  /** Backoffs still in force (account-wide and per model), and the accounts they hold. */
  activeBackoffs: { count: number; accounts: number };
  /** Start to first upstream attempt over the latest routed requests; undefined with none. */
  dispatch?: { avgMs: number; p95Ms: number; samples: number };
}

const SYNC_NAMES = ["OFF", "NORMAL", "FULL", "EXTRA"];

// The newest routed requests by primary key: a bounded read whatever the history's size.
const DISPATCH = `SELECT first_attempt_at - started_at AS ms FROM requests
  WHERE id > (SELECT coalesce(max(id), 0) FROM requests) - ?1 * 4
    AND first_attempt_at IS NOT NULL AND first_attempt_at >= started_at
  ORDER BY id DESC LIMIT ?1`;

/** Reads the extras; `statuses` is the pool's status as of `now`. */
export function loadRuntimeExtras(
  db: Db,
  statuses: readonly AccountStatus[],
  now: number,
  proc: () => ProcFigures = procFigures,
): RuntimeExtras {
  const journal = db.stmt("PRAGMA journal_mode").get();
  const sync = Number(db.stmt("PRAGMA synchronous").get()?.synchronous);
  const pending = pendingRequests(db, now - PENDING_STALE_MS);
  let count = 0;
  let accounts = 0;
  for (const s of statuses) {
    const live = s.backoffs.filter((b) => b.untilMs === undefined || b.untilMs > now).length;
    count += live;
    if (live > 0) accounts++;
  }
  const samples = db.stmt(DISPATCH).all(DISPATCH_SAMPLE).map((r) => Number(r.ms))
    .sort((a, b) => a - b);
  return {
    proc: proc(),
    journalMode: String(journal?.journal_mode ?? "unknown").toUpperCase(),
    synchronous: SYNC_NAMES[sync] ?? String(sync),
    pending: { count: pending.count, stale: pending.stale },
    activeBackoffs: { count, accounts },
    dispatch: samples.length === 0 ? undefined : {
      avgMs: samples.reduce((s, v) => s + v, 0) / samples.length,
      p95Ms: samples[Math.max(0, Math.ceil(0.95 * samples.length) - 1)],
      samples: samples.length,
    },
  };
}
