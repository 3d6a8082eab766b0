import assert from "node:assert/strict";
import { PromptCache } from "./_mock_reply.ts";

function turn(id: number, messages: number) {
  return {
    messages: Array.from({ length: messages }, (_, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content: `conversation ${id} message ${i} `.repeat(8),
    })),
  };
}

Deno.test("PromptCache credits a key with the prefix it saw, and forgets the least recent past its cap", () => {
  const cache = new PromptCache();
  assert.equal(cache.observe("k1", turn(0, 1), "openai").cachedTokens, 0);
  const hit = cache.observe("k1", turn(0, 3), "openai");
  assert.ok(hit.cachedTokens > 0, "the first message was cached");
  assert.equal(cache.observe("k2", turn(0, 3), "openai").cachedTokens, 0, "caches are per key");
  // 5,000 other one-message conversations push conversation 0 out of k1's cache (4,096 prefixes),
  // while conversation 1, seen again just now, stays.
  cache.observe("k1", turn(1, 1), "openai");
  for (let id = 2; id < 5_002; id++) {
    cache.observe("k1", turn(id, 1), "openai");
    if (id % 1_000 === 0) cache.observe("k1", turn(1, 1), "openai");
  }
  assert.equal(cache.observe("k1", turn(0, 5), "openai").cachedTokens, 0);
  assert.ok(cache.observe("k1", turn(1, 3), "openai").cachedTokens > 0);
  assert.ok(cache.observe("k2", turn(0, 5), "openai").cachedTokens > 0, "k2 kept its own");
});
