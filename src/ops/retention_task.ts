/**
 * Schedules the retention sweep (`src/stats/retention.ts`) as a background
 * task: first a minute after start, then every `[metrics] cleanup_interval_s`;
 * a tick that stops at its limits with rows left is followed by another after
 * a short pause until the pass is done. Each finished pass that deleted
 * something is recorded as a `retention_cleanup` operational event.
 */
import type { ResolvedConfig } from "../config/schema.ts";
import type { Db } from "../storage/db.ts";
import { insertOperationalEvent } from "../storage/requests_repo.ts";
import type { RetentionTable } from "../storage/retention_repo.ts";
import { retentionPolicies, sweepLimits, sweepOnce } from "../stats/retention.ts";
import type { TaskBoard } from "./tasks.ts";

/** The first sweep runs this long after start (or after one interval, when shorter). */
const FIRST_DELAY_MS = 60_000;
/** A tick that stopped with rows left is followed by another after this pause. */
const BACKLOG_DELAY_MS = 1_000;
/** setTimeout wraps above 2^31 - 1 ms (24.8 days); a longer interval waits that long. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What {@linkcode startRetention} needs. */
export interface RetentionDeps {
  config: ResolvedConfig;
  db: Db;
  tasks: TaskBoard;
  clock: () => number;
  log: (message: string) => void;
}

/** Starts the schedule; returns the function that stops it. */
export function startRetention(deps: RetentionDeps): () => void {
  const { config, db, tasks, clock, log } = deps;
  const policies = retentionPolicies(config);
  const limits = sweepLimits(config);
  const intervalMs = config.metrics.cleanup_interval_s * 1000;
  tasks.define("retention_cleanup", { label: "Retention cleanup", intervalMs });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let pass: Partial<Record<RetentionTable, number>> = {};
  const tick = () => {
    let next = intervalMs;
    tasks.run("retention_cleanup", () => {
      const r = sweepOnce(db, policies, limits, clock());
      for (const [table, n] of Object.entries(r.deleted) as [RetentionTable, number][]) {
        pass[table] = (pass[table] ?? 0) + n;
      }
      if (r.backlog) {
        next = BACKLOG_DELAY_MS;
        return;
      }
      if (Object.keys(pass).length > 0) {
        insertOperationalEvent(db, "retention_cleanup", pass, clock());
        log(`Retention cleanup deleted ${JSON.stringify(pass)}`);
      }
      pass = {};
    });
    schedule(next);
  };
  const schedule = (delayMs: number) => {
    if (stopped || !db.isOpen) return;
    timer = setTimeout(tick, Math.min(delayMs, MAX_TIMER_MS));
    Deno.unrefTimer(timer);
  };
  schedule(Math.min(FIRST_DELAY_MS, intervalMs));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
