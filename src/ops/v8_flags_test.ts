import assert from "node:assert/strict";
import { SERVER_V8_FLAG, withServerV8Flags } from "./v8_flags.ts";
import { compileArgs, TARGETS } from "../../scripts/compile.ts";

Deno.test("withServerV8Flags() adds the heap flags after `run` unless the line sets V8 flags", () => {
  assert.deepEqual(withServerV8Flags(["run", "--allow-all"]), [
    "run",
    SERVER_V8_FLAG,
    "--allow-all",
  ]);
  assert.deepEqual(
    withServerV8Flags(["run", "--v8-flags=--max-old-space-size=64", "-A"]),
    ["run", "--v8-flags=--max-old-space-size=64", "-A"],
  );
  assert.deepEqual(withServerV8Flags(["-A"]), ["-A"], "not a `deno run` line");
});

Deno.test("deno.json's serve and compile tasks run the server with the same heap flags", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  assert.ok(config.tasks.serve.includes(` ${SERVER_V8_FLAG} `), config.tasks.serve);
  assert.ok(config.tasks.install.includes(` ${SERVER_V8_FLAG} `), config.tasks.install);
  // `deno task compile` runs scripts/compile.ts, which puts the flag on every target's line.
  assert.equal(config.tasks.compile, "deno run --allow-all scripts/compile.ts");
  for (const arch of Object.keys(TARGETS)) {
    assert.ok(compileArgs(arch).includes(SERVER_V8_FLAG), arch);
  }
});
