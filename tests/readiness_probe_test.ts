/**
 * `[readiness_probe]` (spec 02 §12, 01 readyz): with the probe on, the server
 * writes to its database every interval_s and `/v1/readyz` says when the
 * database stops taking writes, and recovers when it takes them again.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

async function readyz(origin: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${origin}/v1/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Polls readyz until `want` holds (the probe runs on its own timer); returns the last answer. */
async function readyzUntil(
  origin: string,
  want: (r: { status: number; body: Record<string, unknown> }) => boolean,
) {
  const until = Date.now() + 20_000;
  let last = await readyz(origin);
  while (!want(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    last = await readyz(origin);
  }
  return last;
}

Deno.test("readyz fails while another process holds the database's write lock, then recovers", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url) +
      "[readiness_probe]\nenabled = true\ninterval_s = 0.1\nfreshness_s = 30\n",
  });
  assert.deepEqual(await readyz(pool.origin), { status: 200, body: { status: "ok" } });

  const other = new DatabaseSync(pool.dbPath);
  other.exec("BEGIN IMMEDIATE");
  let locked;
  try {
    locked = await readyzUntil(pool.origin, (r) => r.status === 503);
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
  assert.deepEqual(locked, {
    status: 503,
    body: { status: "degraded", reason: "database not writable: database is locked" },
  });
  const again = await readyzUntil(pool.origin, (r) => r.status === 200);
  assert.deepEqual(again, { status: 200, body: { status: "ok" } });
  assert.ok(pool.logs.some((l) => l === "Database write probe failed: database is locked"));
  assert.ok(pool.logs.some((l) => l === "Database write probe works again"));
});

Deno.test("without an initial probe, readyz says the probe has not run yet", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url) +
      "[readiness_probe]\nenabled = true\ninitial_probe = false\ninterval_s = 60\nfreshness_s = 120\n",
  });
  assert.deepEqual(await readyz(pool.origin), {
    status: 503,
    body: { status: "degraded", reason: "database probe not started" },
  });
});

Deno.test("with the probe off (the default), readyz does not depend on it", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const other = new DatabaseSync(pool.dbPath);
  other.exec("BEGIN IMMEDIATE");
  try {
    assert.deepEqual(await readyz(pool.origin), { status: 200, body: { status: "ok" } });
  } finally {
    other.exec("ROLLBACK");
    other.close();
  }
});
