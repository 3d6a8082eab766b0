import assert from "node:assert/strict";
import { createKeyChecker } from "../http/auth.ts";
import { cookieValue, DashboardGate, HOME_PATH, safeNext } from "./gate.ts";
import { SESSION_COOKIE } from "./session.ts";

const KEY = "ep_gate_test_key_0123";

Deno.test("safeNext() keeps same-site relative paths only", () => {
  assert.equal(safeNext("/accounts?period=7d&theme=Nord"), "/accounts?period=7d&theme=Nord");
  for (
    const bad of [
      undefined,
      null,
      "",
      "accounts",
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example/",
      "/\u0000x",
      "/login",
      "/logout?x=1",
      "/.//evil.example",
      "/..//evil.example/x",
      "/a/../..//evil.example",
      "/./\\evil.example",
    ]
  ) {
    assert.equal(safeNext(bad), HOME_PATH, String(bad));
  }
});

Deno.test("cookieValue() finds one cookie among several", () => {
  const headers = new Headers({ cookie: `a=1; ${SESSION_COOKIE}=v1.2.abc ; b=2` });
  assert.equal(cookieValue(headers, SESSION_COOKIE), "v1.2.abc");
  assert.equal(cookieValue(headers, "missing"), undefined);
});

Deno.test("DashboardGate admits the key header or a session cookie when not public", async () => {
  let now = 1_000;
  const gate = new DashboardGate({
    keys: createKeyChecker(KEY),
    localKey: KEY,
    isPublic: false,
    clock: () => now,
  });
  assert.ok(gate.required);
  const req = (headers: Record<string, string>) => new Request("http://x/accounts", { headers });
  assert.equal(await gate.access(req({})), "denied");
  assert.equal(await gate.access(req({ authorization: `Bearer ${KEY}` })), "header");
  assert.equal(await gate.access(req({ "x-api-key": "wrong-key-123" })), "denied");
  const cookie = (await gate.sessionCookie()).split(";")[0];
  assert.ok(!cookie.includes(KEY));
  assert.equal(await gate.access(req({ cookie })), "session");
  await gate.endSession(req({ cookie }));
  assert.equal(await gate.access(req({ cookie })), "denied", "logout ends the session server-side");
  const again = (await gate.sessionCookie()).split(";")[0];
  assert.equal(await gate.access(req({ cookie: again })), "session");
  now += 8 * 24 * 3_600_000;
  assert.equal(await gate.access(req({ cookie: again })), "denied");
  assert.ok(gate.isLocalKey(KEY));
  assert.ok(!gate.isLocalKey(`${KEY}x`));
});

Deno.test("DashboardGate is open when public or when no key is configured", async () => {
  const req = new Request("http://x/accounts");
  const pub = new DashboardGate({
    keys: createKeyChecker(KEY),
    localKey: KEY,
    isPublic: true,
    clock: () => 0,
  });
  assert.equal(await pub.access(req), "open");
  const keyless = new DashboardGate({
    keys: createKeyChecker(undefined),
    localKey: undefined,
    isPublic: false,
    clock: () => 0,
  });
  assert.ok(!keyless.required);
  assert.equal(await keyless.access(req), "open");
});
