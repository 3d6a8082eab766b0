/**
 * The retention sweep in a running server: rows older than their `retain_*`
 * window disappear in the background, recent ones stay, and the pass is
 * recorded as an operational event.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { waitFor } from "./_helpers/ops.ts";

const DAY = 86_400_000;

Deno.test("a running server deletes requests and pings past their retention window", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    // Appended inside [metrics]: the first sweep runs one interval after start.
    toml: "cleanup_interval_s = 0.3\n[dashboard]\nretain_request_stats_days = 2\n" +
      "[models]\nping_retain_days = 1\n" + mockProvidersToml(mock.url),
  });
  const res = await postChat(pool, {
    model: "mock-small/mockoai",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const old = Date.now() - 3 * DAY;
  const db = new DatabaseSync(pool.dbPath);
  try {
    db.prepare(
      `INSERT INTO requests (proxy_request_id, requested_model, client_protocol, status,
         started_at, completed_at) VALUES ('ancient', 'm', 'openai', 'completed', ?, ?)`,
    ).run(old, old + 10);
    db.prepare("INSERT INTO provider_pings (provider_id, probed_at) VALUES ('mockoai', ?)")
      .run(old);
  } finally {
    db.close();
  }
  const swept = await waitFor(
    () =>
      pool.query("SELECT 1 FROM operational_events WHERE event_type = 'retention_cleanup'")
        .length === 1,
    10_000,
  );
  assert.ok(swept, "no retention pass within 10 s");
  const ids = pool.query("SELECT proxy_request_id FROM requests").map((r) => r.proxy_request_id);
  assert.equal(ids.length, 1, "the proxied request stays");
  assert.notEqual(ids[0], "ancient");
  assert.equal(pool.query("SELECT 1 FROM provider_pings WHERE probed_at = ?", old).length, 0);
  const event = pool.query(
    "SELECT details_json FROM operational_events WHERE event_type = 'retention_cleanup'",
  )[0];
  assert.deepEqual(JSON.parse(String(event.details_json)), { requests: 1, provider_pings: 1 });
});
