import assert from "node:assert/strict";
import type { RuntimeSource } from "./runtime_route.ts";
import { runtimeSnapshot } from "./runtime_route.ts";
import type { RecorderStats } from "../stats/recorder.ts";
import type { TaskStatus } from "../ops/tasks.ts";

function source(
  overrides: Partial<RuntimeSource> = {},
  rec: Partial<RecorderStats> = {},
): RuntimeSource {
  return {
    clock: () => 100_000,
    startedAt: 40_000,
    version: "9.9.9",
    dbPath: "/data/usage.sqlite3",
    dbSizes: () => ({ dbBytes: 4096, walBytes: 512, shmBytes: 32768 }),
    recorder: () => ({
      pendingWrites: 0,
      inFlight: 2,
      writeFailures: 0,
      duplicateFinishes: 0,
      droppedRecords: 0,
      ...rec,
    }),
    flushIntervalMs: 5000,
    tasks: () => [],
    lag: () => ({ intervalMs: 500, samples: 3, lastMs: 1, meanMs: 1, p95Ms: 2, maxMs: 2 }),
    readiness: () => ({ ok: true }),
    ...overrides,
  };
}

Deno.test("runtimeSnapshot() reports process, database and request figures", () => {
  const s = runtimeSnapshot(source());
  assert.equal(s.status, "ok");
  assert.equal(s.pid, Deno.pid);
  assert.equal(s.uptimeS, 60);
  assert.equal(s.versions.eggpool, "9.9.9");
  assert.equal(s.versions.v8, Deno.version.v8);
  assert.deepEqual(s.database, {
    path: "/data/usage.sqlite3",
    dbBytes: 4096,
    walBytes: 512,
    shmBytes: 32768,
  });
  assert.equal(s.requests.inFlight, 2);
  assert.ok(s.memory.rssBytes > 0);
  assert.deepEqual(s.backgroundTasks.map((t) => [t.name, t.state]), [["stats_writer", "idle"]]);
});

Deno.test("runtimeSnapshot() is degraded by a failing task, slow loop, unready server or stalled writes", () => {
  const failing: TaskStatus = {
    name: "sweep",
    state: "failing",
    runs: 3,
    failures: 1,
    lastError: "locked",
  };
  assert.deepEqual(runtimeSnapshot(source({ tasks: () => [failing] })).problems, [
    "sweep is failing: locked",
  ]);
  const slow = runtimeSnapshot(source({
    lag: () => ({ intervalMs: 500, samples: 9, lastMs: 900, meanMs: 800, p95Ms: 900, maxMs: 900 }),
  }));
  assert.deepEqual(slow.problems, ["event-loop lag averages 800 ms"]);
  const unready = runtimeSnapshot(
    source({ readiness: () => ({ ok: false, reason: "no accounts configured" }) }),
  );
  assert.deepEqual(unready.problems, ["not ready: no accounts configured"]);
  const stalled = runtimeSnapshot(
    source({}, { pendingWrites: 4, writeFailures: 2, lastError: "disk full", lastFlushAt: 50_000 }),
  );
  assert.equal(stalled.status, "degraded");
  assert.deepEqual(stalled.problems, ["stats_writer is failing: disk full"]);
  // A failure long ago, writes flowing again: not degraded.
  const recovered = runtimeSnapshot(
    source({}, { pendingWrites: 4, writeFailures: 2, lastError: "disk full", lastFlushAt: 99_000 }),
  );
  assert.equal(recovered.status, "ok");
});
