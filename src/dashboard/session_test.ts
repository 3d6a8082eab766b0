import assert from "node:assert/strict";
import { createSessionStore, MAX_LIVE_SESSIONS, SESSION_TTL_MS } from "./session.ts";

const KEY = "ep_local_key_for_session_tests";
const NOW = 1_700_000_000_000;

Deno.test("createSessionStore() issues a value that verifies until it expires", async () => {
  const store = createSessionStore(KEY);
  const value = await store.issue(NOW);
  assert.ok(!value.includes(KEY), "the key never appears in the cookie");
  assert.match(value, /^v2\.[A-Za-z0-9_-]{24}\.\d+\.[A-Za-z0-9_-]{43}$/);
  assert.ok(await store.verify(value, NOW));
  assert.ok(await store.verify(value, NOW + SESSION_TTL_MS - 1));
  assert.ok(!(await store.verify(value, NOW + SESSION_TTL_MS)));
  assert.equal(store.size, 0, "an expired session is forgotten");
});

Deno.test("createSessionStore() refuses tampered, malformed and missing values", async () => {
  const store = createSessionStore(KEY);
  const value = await store.issue(NOW);
  const [version, id, expiry, mac] = value.split(".");
  const later = String(Number(expiry) + 86_400_000);
  const flipped = (mac[0] === "A" ? "B" : "A") + mac.slice(1);
  const otherId = (id[0] === "A" ? "B" : "A") + id.slice(1);
  for (
    const bad of [
      `${version}.${id}.${later}.${mac}`,
      `${version}.${otherId}.${expiry}.${mac}`,
      `${version}.${id}.${expiry}.${flipped}`,
      `${version}.${id}.${expiry}.${mac}x`,
      `v1.${id}.${expiry}.${mac}`,
      `v1.${expiry}.${mac}`,
      `${version}.${id}.${expiry}`,
      "",
      KEY,
    ]
  ) {
    assert.ok(!(await store.verify(bad, NOW)), bad);
  }
  assert.ok(!(await store.verify(undefined, NOW)));
});

Deno.test("createSessionStore() sessions end when the local key changes", async () => {
  const value = await createSessionStore(KEY).issue(NOW);
  assert.ok(!(await createSessionStore(`${KEY}-rotated`).verify(value, NOW)));
});

Deno.test("createSessionStore() revoke ends one session and leaves the others", async () => {
  const store = createSessionStore(KEY);
  const a = await store.issue(NOW);
  const b = await store.issue(NOW);
  await store.revoke(a);
  assert.ok(!(await store.verify(a, NOW)), "the revoked value is refused");
  assert.ok(await store.verify(b, NOW), "another browser stays signed in");
  await store.revoke("v2.forged");
  assert.ok(await store.verify(b, NOW));
});

Deno.test("createSessionStore() keeps at most MAX_LIVE_SESSIONS, ending the oldest", async () => {
  const store = createSessionStore(KEY);
  const first = await store.issue(NOW);
  for (let i = 1; i < MAX_LIVE_SESSIONS; i++) await store.issue(NOW + i);
  assert.equal(store.size, MAX_LIVE_SESSIONS);
  const newest = await store.issue(NOW + MAX_LIVE_SESSIONS);
  assert.equal(store.size, MAX_LIVE_SESSIONS);
  assert.ok(!(await store.verify(first, NOW + MAX_LIVE_SESSIONS)));
  assert.ok(await store.verify(newest, NOW + MAX_LIVE_SESSIONS));
});
