/**
 * Quota windows survive a restart: requests finalized through the real stats
 * recorder land in `usage_rollups`, and a fresh process rebuilds the same
 * per-account windows from them.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import { loadWindowUsage } from "../src/storage/windows_repo.ts";
import { StatsRecorder } from "../src/stats/recorder.ts";
import type { RequestOutcome } from "../src/stats/types.ts";
import { LONGEST_WINDOW_MS, QuotaWindows } from "../src/routing/windows.ts";
import { withUsageObserver } from "../src/routing/usage_tap.ts";
import { fakeClock } from "../src/accounts/_fixtures.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const HOUR = 3_600_000;

function outcome(
  account: string | undefined,
  at: number,
  tokens: number,
  cost: number,
): RequestOutcome {
  return {
    status: "completed",
    completedAt: at + 100,
    accountName: account,
    providerId: account === undefined ? undefined : "p",
    modelId: "m",
    inputTokens: tokens,
    outputTokens: 1,
    cacheReadTokens: 2,
    cacheWriteTokens: 3,
    reasoningTokens: 0,
    costMicros: cost,
    exactness: "exact",
    bytesOut: 10,
    attempts: [],
  };
}

Deno.test("windows rebuilt from usage_rollups match the live windows after a restart", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  const live = new QuotaWindows({ clock });
  {
    using db = openDatabase({ path });
    migrate(db, MIGRATIONS, { clock });
    const ids = syncConfigRows(
      db,
      [{ id: "p", baseUrl: "https://p.example/v1", protocols: ["openai"] }],
      ["a", "b"].map((name) => ({
        name,
        providerId: "p",
        apiKeyEnv: "",
        enabled: true,
        weight: 1,
      })),
      clock.now,
    );
    const recorder = new StatsRecorder({
      db,
      ids: { accountId: (n) => (n === undefined ? null : ids.get(n) ?? null) },
      clock,
      flushIntervalMs: 60_000,
      maxBuffered: 1_000,
      bucketMs: 300_000,
      log: () => {},
    });
    const sink = withUsageObserver(recorder, live);
    const send = (id: string, account: string | undefined, tokens: number, cost: number) => {
      sink.begin({
        requestId: id,
        startedAt: clock.now,
        clientProtocol: "openai",
        requestedModel: "m",
        streamed: false,
        bytesIn: 1,
      });
      sink.finish(id, outcome(account, clock.now, tokens, cost));
    };
    send("old", "a", 1_000, 500); // 6 days ago by the end: only in 7 d and 30 d
    clock.advance(6 * 24 * HOUR - 2 * HOUR);
    send("r1", "a", 10, 7);
    send("r2", "a", 20, 8);
    send("r3", "b", 30, 9);
    send("r4", undefined, 40, 10); // never reached an account: counts nowhere
    clock.advance(2 * HOUR);
    recorder.close();
  }
  using db = openDatabase({ path });
  const rebuilt = new QuotaWindows({ clock });
  rebuilt.rebuild(loadWindowUsage(db, clock.now - LONGEST_WINDOW_MS));
  for (const account of ["a", "b"]) {
    assert.deepEqual(rebuilt.usage(account), live.usage(account), account);
  }
  assert.deepEqual(live.usage("a")["5h"], { requests: 2, tokens: 42, costMicros: 15 });
  assert.deepEqual(live.usage("a")["7d"], { requests: 3, tokens: 1_048, costMicros: 515 });
  assert.deepEqual(rebuilt.accounts().sort(), ["a", "b"]);
});
