import assert from "node:assert/strict";
import { formatRuntime } from "./_runtime_format.ts";
import type { RuntimeSnapshot } from "../../ops/runtime_snapshot.ts";

const SNAPSHOT: RuntimeSnapshot = {
  status: "ok",
  problems: [],
  pid: 4242,
  startedAt: "2026-01-01T00:00:00.000Z",
  uptimeS: 90,
  versions: { eggpool: "0.1.0", deno: "2.9.6", v8: "14", typescript: "5.9" },
  memory: {
    rssBytes: 50 << 20,
    heapUsedBytes: 10 << 20,
    heapTotalBytes: 20 << 20,
    externalBytes: 0,
  },
  eventLoop: { intervalMs: 500, lastMs: 1, meanMs: 1, p95Ms: 2, maxMs: 3, samples: 10 },
  backgroundTasks: [],
  database: { path: "/data/usage.sqlite3", dbBytes: 4096, walBytes: 0, shmBytes: 0 },
  requests: { inFlight: 1, pendingWrites: 0, writeFailures: 0, droppedRecords: 0 },
  readiness: { ok: true },
};

Deno.test("formatRuntime() warns when more servers than expected share the database", () => {
  const two = formatRuntime({
    ...SNAPSHOT,
    processes: { observed: 3, expected: 1, others: [5000, 5001] },
    outbound: [
      {
        providerId: "p",
        clients: 2,
        proxiedAccounts: 1,
        accounts: 3,
        open: 1,
        max: 32,
        waiting: 0,
        opened: 17,
        timeouts: 2,
        inFlight: 1,
      },
      {
        providerId: "q",
        clients: 1,
        proxiedAccounts: 0,
        accounts: 1,
        open: 0,
        max: 8,
        waiting: 0,
        opened: 3,
        timeouts: 0,
        inFlight: 0,
      },
    ],
  });
  assert.ok(
    two.includes(
      "  EggPool Processes:  3 (expected: 1)\n" +
        "  *** WARNING: Process count exceeds expected ***\n" +
        "    other servers on this database: PID 5000, 5001\n",
    ),
    two,
  );
  assert.ok(
    two.endsWith(
      "  Network:\n" +
        "    Outbound requests: 20\n" +
        "    Slot timeouts:     2\n" +
        "    Provider clients:  3\n" +
        "      p: 2 (open 1/32, waiting 0, in flight 1)\n" +
        "      q: 1 (open 0/8, waiting 0, in flight 0)\n",
    ),
    two,
  );
  const one = formatRuntime({ ...SNAPSHOT, processes: { observed: 1, expected: 1, others: [] } });
  assert.ok(one.includes("  EggPool Processes:  1 (expected: 1)\n"));
  assert.ok(!one.includes("WARNING"));
  const unknown = formatRuntime({ ...SNAPSHOT, processes: { expected: 1, others: [] } });
  assert.ok(unknown.includes("  EggPool Processes:  N/A\n"));
  assert.ok(!formatRuntime(SNAPSHOT).includes("EggPool Processes"), "an older server says nothing");
});
