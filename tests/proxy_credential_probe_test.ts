/**
 * A 401 parks an account only when its key also fails the models endpoint
 * (issue #12): a provider that refuses one model with a 401 keeps the account
 * for the others, a truly bad key parks it, and a parked account whose key
 * works again is brought back by the periodic re-probe.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const HELLO = [{ role: "user", content: "hello" }];

function backoffRows(pool: TestEggPool): Record<string, unknown>[] {
  return pool.query(
    `SELECT a.name, b.model_id, b.reason FROM account_backoffs b
     JOIN accounts a ON a.id = b.account_id ORDER BY a.name`,
  ).map((row) => ({ ...row }));
}

Deno.test("a 401 for one model while the key lists models rests only that model", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 1) });
  mock.reset();
  mock.script.set("*", {
    status: 401,
    message: "This key may not use mock-large",
    match: (r) => r.route === "chat_completions" && r.model === "mock-large",
  });
  const denied = await postChat(pool, { model: "mock-large/mockoai", messages: HELLO });
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  assert.equal(mock.requests.filter((r) => r.route === "models").length, 1, "one probe");
  assert.deepEqual(backoffRows(pool), [
    { name: "mockoai-1", model_id: "mock-large", reason: "model_unavailable" },
  ]);
  const ok = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(ok.status, 200, "the account still serves its other models");
  await ok.body?.cancel();
});

Deno.test("a 401 whose key the models endpoint also refuses parks the account until a re-probe succeeds", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url, 1),
    upstream: "credential_reprobe_s = 0.2",
  });
  mock.reset();
  // The key is refused everywhere: completions and the models list.
  mock.script.set("*", { status: 401, match: (r) => r.key === "sk-mockoai-key-1" });
  const denied = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  assert.deepEqual(backoffRows(pool), [
    { name: "mockoai-1", model_id: null, reason: "authentication_failed" },
  ]);
  const parked = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(parked.status, 503, "a parked account takes no traffic");
  await parked.body?.cancel();

  // The provider accepts the key again: the re-probe brings the account back.
  mock.script.clear();
  const deadline = Date.now() + 30_000;
  while (backoffRows(pool).length > 0) {
    assert.ok(Date.now() < deadline, "the re-probe never lifted the park");
    await new Promise((r) => setTimeout(r, 50));
  }
  const ok = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.ok(pool.logs.some((l) => /mockoai-1.*accepted again/.test(l)), pool.logs.join("\n"));
});
