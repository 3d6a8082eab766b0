/**
 * `[readiness_probe]` (spec 02 §12, 01 readyz): while enabled, the server
 * writes to its database every `interval_s`, and `/v1/readyz` fails with
 * `database probe not started`, `database not writable: …` or `database probe
 * stale` until the latest probe succeeded within `freshness_s`. A probe that
 * takes longer than `timeout_s` counts as failed. Failures and recoveries are
 * logged once each, not per probe.
 */
import type { Db } from "../storage/db.ts";
import { probeWrite } from "../storage/write_probe.ts";

/** The resolved `[readiness_probe]` table. */
export interface ReadinessProbeSettings {
  readonly enabled: boolean;
  readonly interval_s: number;
  readonly freshness_s: number;
  readonly timeout_s: number;
  readonly initial_probe: boolean;
}

/** A running probe. */
export interface ReadinessProbe {
  /** The readiness problem to report, or undefined while the database takes writes. */
  problem(): string | undefined;
  stop(): void;
}

/** Starts probing; a disabled probe reports nothing and schedules nothing. */
export function startReadinessProbe(options: {
  db: Db;
  settings: ReadinessProbeSettings;
  clock: () => number;
  log: (message: string) => void;
}): ReadinessProbe {
  const { db, settings, clock, log } = options;
  if (!settings.enabled) return { problem: () => undefined, stop: () => {} };
  let lastOkAt: number | undefined;
  let failure: string | undefined;
  const probe = () => {
    const started = clock();
    let error: string | undefined;
    try {
      probeWrite(db);
      const took = clock() - started;
      if (took > settings.timeout_s * 1000) {
        error = `the write probe took ${took} ms, more than timeout_s (${settings.timeout_s} s)`;
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (error === undefined) {
      if (failure !== undefined) log("Database write probe works again");
      lastOkAt = clock();
    } else if (failure === undefined) {
      log(`Database write probe failed: ${error}`);
    }
    failure = error;
  };
  if (settings.initial_probe) probe();
  const timer = setInterval(probe, settings.interval_s * 1000);
  Deno.unrefTimer(timer);
  return {
    problem() {
      if (failure !== undefined) return `database not writable: ${failure}`;
      if (lastOkAt === undefined) return "database probe not started";
      if (clock() - lastOkAt > settings.freshness_s * 1000) return "database probe stale";
      return undefined;
    },
    stop: () => clearInterval(timer),
  };
}
