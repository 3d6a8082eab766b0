import assert from "node:assert/strict";
import { assetName, checksumFor, compareVersions } from "./self_update.ts";

Deno.test("compareVersions() compares numerically and ignores a leading v", () => {
  assert.equal(compareVersions("0.10.0", "0.9.1"), 1);
  assert.equal(compareVersions("v0.2.0", "0.2.0"), 0);
  assert.equal(compareVersions("0.2", "0.2.1"), -1);
  assert.equal(compareVersions("1.0.0", "0.99.99"), 1);
});

Deno.test("checksumFor() reads sha256sum lines, text and binary mode, by exact name", () => {
  const a = "a".repeat(64);
  const b = "B".repeat(64);
  const sums = `${a}  eggpool-x86_64-linux\n${b} *eggpool-aarch64-linux\n`;
  assert.equal(checksumFor(sums, "eggpool-x86_64-linux"), a);
  assert.equal(checksumFor(sums, "eggpool-aarch64-linux"), "b".repeat(64));
  assert.equal(checksumFor(sums, "eggpool-x86_64"), undefined);
  assert.equal(assetName("aarch64"), "eggpool-aarch64-linux");
});
