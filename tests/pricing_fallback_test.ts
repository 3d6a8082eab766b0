/**
 * `[pricing] fallback` (spec 02 §7): "generic_estimate" (the default) prices a
 * model without a known price at the generic rates, exactness `estimated`;
 * "off" leaves it unpriced: cost 0, exactness `unknown`. A priced model is
 * priced the same either way.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

async function costs(fallback: string | undefined) {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-priced"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url) +
      (fallback === undefined ? "" : `[pricing]\nfallback = "${fallback}"\n`) +
      '[model_overrides."mock-priced"]\ninput_price_per_1k = "$1 / 1M"\n' +
      'output_price_per_1k = "$2 / 1M"\n',
  });
  for (const model of ["mock-small/mockoai", "mock-priced/mockoai"]) {
    const res = await postChat(pool, {
      model,
      messages: [{ role: "user", content: "hello there" }],
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  return pool.query(
    "SELECT model_id, input_tokens, output_tokens, cost_microdollars, cost_exactness " +
      "FROM requests ORDER BY model_id",
  ).map((row) => ({ ...row }));
}

Deno.test("[pricing] fallback = off leaves unpriced models at cost 0, exactness unknown", async () => {
  const estimated = await costs(undefined);
  const off = await costs("off");
  const [priced, small] = estimated;
  assert.equal(small.model_id, "mock-small");
  assert.equal(small.cost_exactness, "estimated");
  // The generic rates: $3/M input, $15/M output.
  assert.equal(
    small.cost_microdollars,
    Math.round(Number(small.input_tokens) * 3 + Number(small.output_tokens) * 15),
  );
  assert.equal(priced.cost_exactness, "derived");
  assert.deepEqual(off, [
    priced,
    { ...small, cost_microdollars: 0, cost_exactness: "unknown" },
  ]);
});
