import assert from "node:assert/strict";
import { createSessionSigner, SESSION_TTL_MS } from "./session.ts";

const KEY = "ep_local_key_for_session_tests";
const NOW = 1_700_000_000_000;

Deno.test("createSessionSigner() issues a value that verifies until it expires", async () => {
  const signer = createSessionSigner(KEY);
  const value = await signer.issue(NOW);
  assert.ok(!value.includes(KEY), "the key never appears in the cookie");
  assert.match(value, /^v1\.\d+\.[A-Za-z0-9_-]{43}$/);
  assert.ok(await signer.verify(value, NOW));
  assert.ok(await signer.verify(value, NOW + SESSION_TTL_MS - 1));
  assert.ok(!(await signer.verify(value, NOW + SESSION_TTL_MS)));
});

Deno.test("createSessionSigner() refuses tampered, malformed and missing values", async () => {
  const signer = createSessionSigner(KEY);
  const value = await signer.issue(NOW);
  const [version, expiry, mac] = value.split(".");
  const later = String(Number(expiry) + 86_400_000);
  const flipped = (mac[0] === "A" ? "B" : "A") + mac.slice(1);
  for (
    const bad of [
      `${version}.${later}.${mac}`,
      `${version}.${expiry}.${flipped}`,
      `${version}.${expiry}.${mac}x`,
      `v2.${expiry}.${mac}`,
      `${version}.${expiry}`,
      "",
      KEY,
    ]
  ) {
    assert.ok(!(await signer.verify(bad, NOW)), bad);
  }
  assert.ok(!(await signer.verify(undefined, NOW)));
});

Deno.test("createSessionSigner() sessions end when the local key changes", async () => {
  const value = await createSessionSigner(KEY).issue(NOW);
  assert.ok(await createSessionSigner(KEY).verify(value, NOW));
  assert.ok(!(await createSessionSigner(`${KEY}-rotated`).verify(value, NOW)));
});
