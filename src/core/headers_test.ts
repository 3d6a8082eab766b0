import assert from "node:assert/strict";
import { HeaderSnapshot } from "./headers.ts";

Deno.test("a header snapshot answers like the Headers it copied", () => {
  const headers = new Headers([
    ["Content-Type", "application/json"],
    ["X-Session-Id", "abc"],
    ["Accept", "text/plain"],
    ["accept", "application/json"],
    ["__proto__", "p"],
    ["constructor", "c"],
  ]);
  const snap = new HeaderSnapshot(headers);
  for (const name of ["content-type", "X-SESSION-ID", "accept", "__proto__", "constructor"]) {
    assert.equal(snap.get(name), headers.get(name), name);
  }
  assert.equal(snap.get("missing"), null);
  assert.equal(snap.get("toString"), null);
  const seen: [string, string][] = [];
  snap.forEach((value, name) => seen.push([name, value]));
  const expected: [string, string][] = [];
  headers.forEach((value, name) => expected.push([name, value]));
  assert.deepEqual(seen.sort(), expected.sort());
});
