import assert from "node:assert/strict";
import { addPack, TtftHistogram, unpack } from "./ttft_pack.ts";
import { TTFT_BOUNDS, ttftBucket } from "./ttft_buckets.ts";

Deno.test("a packed TTFT histogram keeps every bucket's count and sum, negative and past 2^32", () => {
  const values = [-5, 0, 1, 1, 99, 100, 101, 2_000, 2_039, 1e9, 3e9, 3e9 + 7];
  const h = new TtftHistogram();
  for (const v of values) h.add(v);
  const want = new Map<number, [number, number]>();
  for (const v of values) {
    const cell = want.get(ttftBucket(v)) ?? [0, 0];
    want.set(ttftBucket(v), [cell[0] + 1, cell[1] + v]);
  }
  const expected = [...want].sort((a, b) => a[0] - b[0]).map(([lo, [n, ms]]) => [lo, n, ms]);
  const pack = h.pack();
  assert.equal(pack.byteLength, 16 * expected.length, "16 bytes per non-empty bucket");
  assert.deepEqual(unpack(pack), expected);
  // The last bucket (from just past 1e9) holds 3e9 and 3e9 + 7: a sum past 2^32 in the i64.
  const last = TTFT_BOUNDS[TTFT_BOUNDS.length - 1];
  assert.deepEqual(unpack(pack).at(-1), [last, 2, 6e9 + 7]);
  // Bucket 0 holds -5 and 0: a negative sum.
  assert.deepEqual(unpack(pack)[0], [0, 2, -5]);
  // Big-endian: lower bound, count, then the sum's high and low words.
  assert.deepEqual(
    [...pack.subarray(0, 16)],
    [0, 0, 0, 0, 0, 0, 0, 2, 255, 255, 255, 255, 255, 255, 255, 251],
  );
});

Deno.test("adding a pack adds to every histogram given, and a pack inside a larger buffer reads", () => {
  const h = new TtftHistogram();
  for (const v of [7, 7, 150, 151]) h.add(v);
  const inner = h.pack();
  const outer = new Uint8Array(inner.byteLength + 8);
  outer.set(inner, 8);
  const a = new TtftHistogram();
  const b = new TtftHistogram();
  addPack(outer.subarray(8), [a, b]);
  addPack(inner, [a]);
  assert.deepEqual(unpack(b.pack()), [[7, 2, 14], [ttftBucket(150), 2, 301]]);
  assert.deepEqual(unpack(a.pack()), [[7, 4, 28], [ttftBucket(150), 4, 602]]);
});
