import assert from "node:assert/strict";
import { hash64 } from "./hash64.ts";

Deno.test("hash64() is 16 hex characters and the same in every run", () => {
  // Pinned: conversation keys are stored in SQLite and must survive restarts and upgrades.
  assert.equal(hash64(""), hash64(""));
  assert.match(hash64("id\u0000conv-1"), /^[0-9a-f]{16}$/);
  assert.equal(hash64("id\u0000conv-1"), "25cc0192211eddb9");
});

Deno.test("hash64() tells apart 200 000 similar inputs", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) {
    seen.add(hash64(`id\u0000session-${i}`));
    seen.add(hash64(`content\u0000You are agent ${i}.\u0000Step 1`));
  }
  assert.equal(seen.size, 200_000);
  assert.notEqual(hash64("ab"), hash64("ba"));
  assert.notEqual(hash64("a"), hash64("a\u0000"));
});
