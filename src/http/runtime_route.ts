/**
 * `GET /api/stats/runtime`: process, memory, event loop, background tasks,
 * database and write-queue figures for `eggpool runtime-status`. Always
 * gated by the local key, even when the dashboard is public (09-decisions),
 * because it exposes process details.
 */
import type { Hono } from "hono";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv, Readiness } from "./server.ts";
import type { DatabaseFileSizes } from "../storage/db.ts";
import type { RecorderStats } from "../stats/recorder.ts";
import type { TaskStatus } from "../ops/tasks.ts";
import type { LagStats } from "../ops/loop_lag.ts";
import type { RuntimeSnapshot } from "../ops/runtime_snapshot.ts";
import type { ProviderOutbound } from "../ops/runtime_diagnostics.ts";
import type { ServerProcesses } from "../ops/server_processes.ts";

export type { RuntimeSnapshot, RuntimeTask } from "../ops/runtime_snapshot.ts";

/** The path of the route. */
export const RUNTIME_PATH = "/api/stats/runtime";
/** Mean event-loop lag above which the server reports itself degraded. */
const LAG_DEGRADED_MS = 500;
/** Stats writes may lag this long behind a failure before it counts as current. */
const WRITER_STALL_MARGIN_MS = 10_000;

/** Where the route reads its figures; `createApp` wires the live objects in. */
export interface RuntimeSource {
  clock(): number;
  startedAt: number;
  version: string;
  dbPath: string;
  dbSizes(): DatabaseFileSizes;
  recorder(): RecorderStats;
  /** The recorder's flush period (0 = immediate); decides when failed writes count as stalled. */
  flushIntervalMs: number;
  tasks(): TaskStatus[];
  lag(): LagStats;
  readiness(): Readiness;
  /** Other servers on the database and the outbound clients (`ops/runtime_diagnostics.ts`). */
  diagnostics?: { processes(): ServerProcesses; outbound(): ProviderOutbound[] };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * The stats writer as a task: failing while writes are pending, a write has
 * failed, and no flush has succeeded for a while (a recovered failure with
 * normal buffering does not count).
 */
function writerTask(source: RuntimeSource, stats: RecorderStats, now: number): TaskStatus {
  const stalledAfter = Math.max(2 * source.flushIntervalMs, 0) + WRITER_STALL_MARGIN_MS;
  const sinceFlush = now - (stats.lastFlushAt ?? source.startedAt);
  const failing = stats.writeFailures > 0 && stats.pendingWrites > 0 &&
    stats.lastError !== undefined && sinceFlush > stalledAfter;
  return {
    name: "stats_writer",
    state: failing ? "failing" : stats.lastFlushAt === undefined ? "idle" : "ok",
    intervalMs: source.flushIntervalMs,
    runs: 0,
    failures: stats.writeFailures,
    lastRunAt: stats.lastFlushAt,
    lastError: stats.lastError,
  };
}

/** Builds the snapshot; exported for unit tests. */
export function runtimeSnapshot(source: RuntimeSource): RuntimeSnapshot {
  const now = source.clock();
  const mem = Deno.memoryUsage();
  const rec = source.recorder();
  const lag = source.lag();
  const tasks = [...source.tasks(), writerTask(source, rec, now)];
  const readiness = source.readiness();
  const problems: string[] = [];
  for (const t of tasks) {
    if (t.state === "failing") {
      problems.push(`${t.name} is failing: ${t.lastError ?? "unknown error"}`);
    }
  }
  if (lag.meanMs > LAG_DEGRADED_MS) problems.push(`event-loop lag averages ${lag.meanMs} ms`);
  if (!readiness.ok) problems.push(`not ready: ${readiness.reason ?? "unknown reason"}`);
  const sizes = source.dbSizes();
  return {
    status: problems.length === 0 ? "ok" : "degraded",
    problems,
    pid: Deno.pid,
    startedAt: iso(source.startedAt)!,
    uptimeS: Math.max(0, Math.round((now - source.startedAt) / 100) / 10),
    versions: {
      eggpool: source.version,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
    },
    memory: {
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
    },
    eventLoop: lag,
    backgroundTasks: tasks.map((t) => ({
      name: t.name,
      state: t.state,
      intervalMs: t.intervalMs,
      runs: t.runs,
      failures: t.failures,
      lastRunAt: iso(t.lastRunAt),
      lastDurationMs: t.lastDurationMs,
      lastError: t.lastError,
      lastErrorAt: iso(t.lastErrorAt),
    })),
    database: { path: source.dbPath, ...sizes },
    requests: {
      inFlight: rec.inFlight,
      pendingWrites: rec.pendingWrites,
      writeFailures: rec.writeFailures,
      droppedRecords: rec.droppedRecords,
      lastFlushAt: iso(rec.lastFlushAt),
      lastWriteError: rec.lastError,
    },
    readiness,
    ...(source.diagnostics === undefined ? {} : {
      processes: source.diagnostics.processes(),
      outbound: source.diagnostics.outbound(),
    }),
  };
}

/** Mounts the route; it checks the local key itself because `/api/*` is outside `/v1/*`'s gate. */
export function mountRuntimeRoute(
  app: Hono<HttpEnv>,
  keys: KeyChecker,
  source: RuntimeSource,
  session?: (req: Request) => Promise<boolean>,
): void {
  app.get(RUNTIME_PATH, async (c) => {
    if (!keys.isAuthorized(c.req.raw.headers) && !(await session?.(c.req.raw))) {
      return c.json({ error: "Invalid or missing API key" }, 401);
    }
    c.header("cache-control", "no-store");
    return c.json(runtimeSnapshot(source));
  });
}
