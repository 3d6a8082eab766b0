/**
 * `GET /v1/models` visibility (spec 03 §2) through a running server:
 * `expose_mode = "union"` lists a model some account serves, `"intersection"`
 * only one every visible account serves.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

async function listed(mode: string): Promise<string[]> {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    // Only the OpenAI provider's accounts also serve "pinned-model".
    toml: `[models]\nexpose_mode = "${mode}"\ncollapse_models = true\n` +
      mockProvidersToml(mock.url, 2) +
      '[[providers.mockoai.static_models]]\nid = "pinned-model"\n',
  });
  const res = await fetch(`${pool.origin}/v1/models`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  assert.equal(res.status, 200);
  const body = await res.json() as { data: { id: string }[] };
  return body.data.map((m) => m.id).sort();
}

Deno.test("expose_mode: union lists what some account serves, intersection what all do", async () => {
  assert.deepEqual(await listed("union"), ["mock-small", "pinned-model"]);
  assert.deepEqual(await listed("intersection"), ["mock-small"]);
});
