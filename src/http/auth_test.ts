import assert from "node:assert/strict";
import { createKeyChecker, presentedKey } from "./auth.ts";

Deno.test("presentedKey() prefers a bearer token and falls back to x-api-key", () => {
  assert.equal(presentedKey(new Headers({ authorization: "bearer  abcdefgh12 " })), "abcdefgh12");
  assert.equal(presentedKey(new Headers({ "x-api-key": " abcdefgh34" })), "abcdefgh34");
  assert.equal(presentedKey(new Headers({ authorization: "Basic Zm9v" })), undefined);
});

Deno.test("createKeyChecker() accepts only the configured key", () => {
  const check = createKeyChecker("ep_0123456789abcdef");
  assert.equal(
    check.isAuthorized(new Headers({ authorization: "Bearer ep_0123456789abcdef" })),
    true,
  );
  assert.equal(check.isAuthorized(new Headers({ "x-api-key": "ep_0123456789abcdef" })), true);
  assert.equal(
    check.isAuthorized(new Headers({ authorization: "Bearer ep_0123456789abcdeX" })),
    false,
  );
  assert.equal(check.isAuthorized(new Headers({ authorization: "Bearer short" })), false);
  assert.equal(check.isAuthorized(new Headers({ authorization: "Bearer ep 0123456789" })), false);
  assert.equal(check.isAuthorized(new Headers()), false);
  // A prefix of the key, and the key with more after it.
  assert.equal(check.isAuthorized(new Headers({ "x-api-key": "ep_0123456789abcde" })), false);
  assert.equal(check.isAuthorized(new Headers({ "x-api-key": "ep_0123456789abcdef0" })), false);
});

Deno.test("createKeyChecker() lets everything through when no key is configured", () => {
  const check = createKeyChecker(undefined);
  assert.equal(check.enabled, false);
  assert.equal(check.isAuthorized(new Headers()), true);
});
