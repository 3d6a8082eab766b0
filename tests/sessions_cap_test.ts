/**
 * Bounded affinity state (issue #12 item 17) through a real EggPool and mock
 * upstream: a flood of new conversations keeps the pin book (and its
 * `session_pins` table) at `[routing].affinity_max_pins`, counting the
 * evictions, and `/api/sessions` pages through the pins with a total.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const CAP = 20;
const CONVERSATIONS = 60;

async function getJson(pool: TestEggPool, path: string) {
  const res = await fetch(`${pool.origin}${path}`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  return { status: res.status, body: await res.json() };
}

async function newConversation(pool: TestEggPool, i: number): Promise<void> {
  const res = await postChat(
    pool,
    { model: "mock-small/mockoai", messages: [{ role: "user", content: `conversation ${i}` }] },
    { "x-session-id": `ses_flood_${i}` },
  );
  assert.equal(res.status, 200, await res.clone().text());
  await res.body?.cancel();
}

Deno.test("new conversations past affinity_max_pins evict the least recently used pins, counted, and /api/sessions pages through the rest", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const toml = `[routing]\naffinity_max_pins = ${CAP}\n${mockProvidersToml(mock.url, 2)}`;
  {
    await using pool = await startEggPool({ dir: tmp.path, toml });
    for (let i = 0; i < CONVERSATIONS; i++) await newConversation(pool, i);

    const first = await getJson(pool, "/api/sessions?limit=7");
    assert.equal(first.status, 200);
    assert.equal(first.body.total, CAP);
    assert.equal(first.body.max_pins, CAP);
    assert.equal(first.body.evictions, CONVERSATIONS - CAP);
    assert.equal(first.body.limit, 7);
    assert.equal(first.body.offset, 0);

    const seen: string[] = [];
    for (let offset = 0; offset < CAP; offset += 7) {
      const page = await getJson(pool, `/api/sessions?limit=7&offset=${offset}`);
      assert.equal(page.status, 200);
      assert.equal(page.body.total, CAP);
      assert.equal(page.body.sessions.length, Math.min(7, CAP - offset));
      for (const s of page.body.sessions) seen.push(s.session_key_hash);
    }
    assert.equal(new Set(seen).size, CAP, "pages neither overlap nor skip");
    const past = await getJson(pool, `/api/sessions?offset=${CAP}`);
    assert.deepEqual(past.body.sessions, []);
    assert.equal(past.body.total, CAP);

    // Without parameters: the default page, the same pins in the same order (most recent first).
    const byDefault = await getJson(pool, "/api/sessions");
    assert.equal(byDefault.body.limit, 100);
    assert.equal(byDefault.body.sessions.length, CAP);
    assert.deepEqual(
      byDefault.body.sessions.map((s: { session_key_hash: string }) => s.session_key_hash),
      seen,
    );

    for (
      const [query, param] of [
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["limit=ten", "limit"],
        ["limit=2.5", "limit"],
        ["offset=-1", "offset"],
        ["offset=x", "offset"],
      ]
    ) {
      const bad = await getJson(pool, `/api/sessions?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.param, param, query);
      assert.match(bad.body.error, new RegExp(`^Invalid '${param}'`), query);
    }
  }
  // The write-behind table is bounded too: evicted pins were deleted from it.
  const db = new DatabaseSync(`${tmp.path}/usage.sqlite3`, { readOnly: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM session_pins").get() as { n: number };
    assert.equal(row.n, CAP);
  } finally {
    db.close();
  }
});
