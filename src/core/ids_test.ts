import assert from "node:assert/strict";
import { newRequestId } from "./ids.ts";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("request ids are UUIDv7 carrying the millisecond they were made", () => {
  const now = Date.UTC(2026, 10, 21, 12, 0, 0);
  const id = newRequestId(now);
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.replaceAll("-", "").slice(0, 12), 16) >= now, true);
});

Deno.test("request ids are unique and sort in creation order, even past 4096 per millisecond", () => {
  const now = Date.UTC(2026, 10, 22);
  const ids = Array.from({ length: 10_000 }, () => newRequestId(now));
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  for (const id of ids) assert.match(id, UUID_V7);
});

Deno.test("a wall clock stepping back does not break the order", () => {
  const now = Date.UTC(2026, 10, 23);
  const a = newRequestId(now);
  const b = newRequestId(now - 5_000);
  assert.equal(a < b, true);
});
