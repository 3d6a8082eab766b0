/**
 * The shape of `GET /api/stats/runtime`, shared by the route that builds it
 * and `eggpool runtime-status`, which prints it.
 */
import type { LagStats } from "./loop_lag.ts";
import type { ProviderOutbound } from "./runtime_diagnostics.ts";
import type { ServerProcesses } from "./server_processes.ts";

/** A background task in the snapshot; times are ISO strings. */
export interface RuntimeTask {
  name: string;
  state: "idle" | "ok" | "failing";
  intervalMs?: number;
  runs: number;
  failures: number;
  lastRunAt?: string;
  lastDurationMs?: number;
  lastError?: string;
  lastErrorAt?: string;
}

/** The JSON body of `GET /api/stats/runtime`. */
export interface RuntimeSnapshot {
  status: "ok" | "degraded";
  problems: string[];
  pid: number;
  startedAt: string;
  uptimeS: number;
  versions: { eggpool: string; deno: string; v8: string; typescript: string };
  memory: {
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    externalBytes: number;
  };
  eventLoop: LagStats;
  backgroundTasks: RuntimeTask[];
  database: { path: string; dbBytes: number; walBytes: number; shmBytes: number };
  requests: {
    inFlight: number;
    pendingWrites: number;
    writeFailures: number;
    droppedRecords: number;
    lastFlushAt?: string;
    lastWriteError?: string;
  };
  readiness: { ok: boolean; reason?: string };
  /** EggPool servers with this database open (this one included) and the other PIDs. */
  processes?: ServerProcesses;
  /** Per provider: HTTP clients, connection slots and requests in flight. */
  outbound?: ProviderOutbound[];
}
