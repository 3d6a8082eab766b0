import assert from "node:assert/strict";
import { TaskBoard } from "./tasks.ts";

Deno.test("TaskBoard.run() records runs, durations and the last error without throwing", () => {
  let now = 1000;
  const logs: string[] = [];
  const board = new TaskBoard({ clock: () => now, log: (m) => logs.push(m) });
  board.define("sweep", { label: "Sweeper", intervalMs: 60_000 });
  assert.deepEqual(board.list(), [{
    name: "sweep",
    state: "idle",
    intervalMs: 60_000,
    runs: 0,
    failures: 0,
  }]);
  board.run("sweep", () => {
    now += 5;
  });
  let [s] = board.list();
  assert.equal(s.state, "ok");
  assert.equal(s.runs, 1);
  assert.equal(s.lastRunAt, 1000);
  assert.equal(s.lastDurationMs, 5);
  board.run("sweep", () => {
    throw new Error("disk I/O error");
  });
  [s] = board.list();
  assert.equal(s.state, "failing");
  assert.equal(s.failures, 1);
  assert.equal(s.lastError, "disk I/O error");
  assert.deepEqual(logs, ["Sweeper failed: disk I/O error"]);
  board.run("sweep", () => {});
  assert.equal(board.list()[0].state, "ok");
  assert.equal(board.list()[0].lastError, "disk I/O error", "the last error stays visible");
});
