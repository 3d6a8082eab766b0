import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";

const b = (...xs: number[]) => new Uint8Array(xs);

Deno.test("concatBytes() joins chunks in order", () => {
  assert.deepEqual(concatBytes([b(1, 2), b(), b(3)]), b(1, 2, 3));
  assert.deepEqual(concatBytes([]), b());
});

Deno.test("concatBytes() returns a single chunk without copying", () => {
  const only = b(7, 8);
  assert.equal(concatBytes([only]), only);
});

Deno.test("concatBytes() keeps at most limit bytes", () => {
  assert.deepEqual(concatBytes([b(1, 2), b(3, 4)], 3), b(1, 2, 3));
  assert.deepEqual(concatBytes([b(1, 2, 3)], 2), b(1, 2));
});
