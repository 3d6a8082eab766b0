/**
 * The Routing page's trace diagnostics panel on a real EggPool (config file,
 * SQLite file, mock upstream): it reports `[routing.trace]` as configured and
 * the decisions the period's requests stored, read as plain HTML (no script
 * runs), and its figures match the database.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { poolToml } from "./dashboard_fixtures.ts";

/** The panel's rows: `data-trace` id to [label, value] text. */
function traceRows(html: string): Record<string, [string, string]> {
  const panel = /<section[^>]*data-panel="routing-trace"[^>]*>(.*?)<\/section>/s.exec(html);
  assert.ok(panel, "the routing trace panel is on the page");
  const out: Record<string, [string, string]> = {};
  for (
    const m of panel[1].matchAll(
      /<tr data-trace="([^"]+)"><th scope="row">(.*?)<\/th><td>(.*?)<\/td><\/tr>/gs,
    )
  ) out[m[1]] = [m[2], m[3]];
  return out;
}

async function routingPage(origin: string): Promise<string> {
  const res = await fetch(`${origin}/routing?period=1h`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  assert.equal(res.status, 200);
  return await res.text();
}

Deno.test("the Routing page's trace panel shows the trace mode and the stored decisions", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const toml = poolToml(mock.url) + '[routing.trace]\nmode = "sampled"\nsample_rate = 0.25\n';
  await using pool = await startEggPool({ dir: tmp.path, toml });

  const empty = traceRows(await routingPage(pool.origin));
  assert.deepEqual(empty.mode, ["Trace mode ([routing.trace] mode)", "sampled: 25 % of requests"]);
  assert.equal(empty.decisions[1], "0");
  assert.equal(empty.per_attempt[1], "—");
  assert.equal(empty.latest[1], "none in this period");

  for (let i = 0; i < 3; i++) {
    const res = await postChat(pool, {
      model: "mock-small",
      messages: [{ role: "user", content: `hi ${i}` }],
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const html = await routingPage(pool.origin);
  const rows = traceRows(html);
  const [stored] = pool.query(
    `SELECT total(json_array_length(routing_json)) AS decisions, max(started_at) AS latest
     FROM requests WHERE routing_json IS NOT NULL`,
  );
  assert.equal(Number(stored.decisions), 3, "one decision per request, each served first time");
  assert.equal(rows.decisions[1], "3");
  assert.equal(rows.attempts[1], "3");
  assert.equal(rows.per_attempt[1], "1.00");
  const latest = new Date(Number(stored.latest)).toISOString().slice(0, 19).replace("T", " ");
  assert.equal(rows.latest[1], `${latest} UTC`);
  assert.match(rows.stored[1], /every decision, on its request's row, whatever the trace mode/);
  assert.match(html, /<a href="\/traces\?period=1h&amp;theme=[^"]*">Traces<\/a>/);
  assert.ok(!/attempts have no stored decision/.test(html));
});

Deno.test("without [routing.trace] the panel says tracing is off", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const rows = traceRows(await routingPage(pool.origin));
  assert.equal(rows.mode[1], "off");
});
