import assert from "node:assert/strict";
import { scopeFromCgroup, systemdScopeOf } from "./systemd_unit.ts";

Deno.test("scopeFromCgroup() tells a user unit, a system unit and anything else apart", () => {
  assert.equal(
    scopeFromCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/eggpool.service\n"),
    "user",
  );
  assert.equal(scopeFromCgroup("0::/system.slice/eggpool.service\n"), "system");
  assert.equal(
    scopeFromCgroup("12:pids:/system.slice/eggpool.service\n1:name=systemd:/x\n"),
    "system",
  );
  assert.equal(scopeFromCgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), undefined);
  assert.equal(scopeFromCgroup("0::/system.slice/not-eggpool.service\n"), undefined);
  assert.equal(systemdScopeOf(Deno.pid), undefined, "a test process is not the unit");
});
