import assert from "node:assert/strict";
import { inContainer } from "./env.ts";
import { assertNotRoot } from "./guard.ts";

const env = (vars: Record<string, string>) => ({ get: (n: string) => vars[n] });

Deno.test("inContainer: the container variable or Docker's marker file, nothing else", () => {
  const none = () => false;
  assert.equal(inContainer(env({}), none), false);
  assert.equal(inContainer(env({ container: "" }), none), false);
  assert.equal(inContainer(env({ container: "podman" }), none), true);
  assert.equal(inContainer(env({}), (p) => p === "/.dockerenv"), true);
});

Deno.test("assertNotRoot: refuses root outside a container, notes it inside, ignores other users", () => {
  assert.equal(assertNotRoot(1000, false), undefined);
  assert.equal(assertNotRoot(0, true), undefined);
  assert.throws(() => assertNotRoot(0, false), /refusing to run as root/);
  assert.throws(() => assertNotRoot(0, undefined, false), /--as-root/);
  assert.match(assertNotRoot(0, false, true) ?? "", /^Running as root inside a container/);
  // --as-root silences the notice too.
  assert.equal(assertNotRoot(0, true, true), undefined);
});
